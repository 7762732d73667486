#include "harness/eval/python_random.hpp"

#include <bit>
#include <cassert>
#include <cmath>
#include <unordered_set>

namespace huashan::harness::eval {

namespace {
constexpr int mt_shift = 397;
constexpr std::uint32_t matrix_a = 0x9908b0dfu;
constexpr std::uint32_t upper_mask = 0x80000000u;
constexpr std::uint32_t lower_mask = 0x7fffffffu;
}  // namespace

python_random::python_random(std::uint64_t seed) {
  // CPython seeds from the absolute value's 32-bit words, least significant
  // first, with at least one word (so 0 seeds from {0}).
  std::vector<std::uint32_t> key;
  key.push_back(static_cast<std::uint32_t>(seed));
  if (seed >> 32) key.push_back(static_cast<std::uint32_t>(seed >> 32));
  init_by_array(key);
}

void python_random::init_genrand(std::uint32_t s) {
  mt_[0] = s;
  for (int i = 1; i < state_words; ++i) {
    mt_[i] = 1812433253u * (mt_[i - 1] ^ (mt_[i - 1] >> 30)) + static_cast<std::uint32_t>(i);
  }
  index_ = state_words;
}

void python_random::init_by_array(const std::vector<std::uint32_t>& key) {
  init_genrand(19650218u);
  int i = 1;
  std::size_t j = 0;
  const std::size_t key_length = key.size();
  for (std::size_t k = std::max<std::size_t>(state_words, key_length); k > 0; --k) {
    mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1664525u)) + key[j] + static_cast<std::uint32_t>(j);
    ++i;
    ++j;
    if (i >= state_words) {
      mt_[0] = mt_[state_words - 1];
      i = 1;
    }
    if (j >= key_length) j = 0;
  }
  for (int k = state_words - 1; k > 0; --k) {
    mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1566083941u)) - static_cast<std::uint32_t>(i);
    ++i;
    if (i >= state_words) {
      mt_[0] = mt_[state_words - 1];
      i = 1;
    }
  }
  mt_[0] = 0x80000000u;
  index_ = state_words;
}

std::uint32_t python_random::next_word() {
  if (index_ >= state_words) {
    int k = 0;
    for (; k < state_words - mt_shift; ++k) {
      const std::uint32_t y = (mt_[k] & upper_mask) | (mt_[k + 1] & lower_mask);
      mt_[k] = mt_[k + mt_shift] ^ (y >> 1) ^ ((y & 1u) ? matrix_a : 0u);
    }
    for (; k < state_words - 1; ++k) {
      const std::uint32_t y = (mt_[k] & upper_mask) | (mt_[k + 1] & lower_mask);
      mt_[k] = mt_[k + (mt_shift - state_words)] ^ (y >> 1) ^ ((y & 1u) ? matrix_a : 0u);
    }
    const std::uint32_t y = (mt_[state_words - 1] & upper_mask) | (mt_[0] & lower_mask);
    mt_[state_words - 1] = mt_[mt_shift - 1] ^ (y >> 1) ^ ((y & 1u) ? matrix_a : 0u);
    index_ = 0;
  }
  std::uint32_t y = mt_[index_++];
  y ^= (y >> 11);
  y ^= (y << 7) & 0x9d2c5680u;
  y ^= (y << 15) & 0xefc60000u;
  y ^= (y >> 18);
  return y;
}

std::uint64_t python_random::getrandbits(int k) {
  assert(k > 0 && k <= 64);
  if (k <= 32) return next_word() >> (32 - k);
  // Wider values are filled 32 bits at a time from the least significant
  // word; the last word keeps only its top bits.
  const std::uint64_t low = next_word();
  const std::uint64_t high = next_word() >> (64 - k);
  return low | (high << 32);
}

std::uint64_t python_random::randbelow(std::uint64_t n) {
  assert(n > 0);
  const int k = std::bit_width(n);
  std::uint64_t r = getrandbits(k);
  while (r >= n) r = getrandbits(k);
  return r;
}

std::vector<std::size_t> python_random::sample_indices(std::size_t population, std::size_t k) {
  assert(k <= population);
  std::vector<std::size_t> result(k);
  // CPython's rule for when tracking picks in a set beats copying the pool.
  std::size_t setsize = 21;
  if (k > 5) {
    const double exponent = std::ceil(std::log(static_cast<double>(k * 3)) / std::log(4.0));
    setsize += std::size_t{1} << (2 * static_cast<unsigned>(exponent));
  }
  if (population <= setsize) {
    std::vector<std::size_t> pool(population);
    for (std::size_t i = 0; i < population; ++i) pool[i] = i;
    for (std::size_t i = 0; i < k; ++i) {
      const auto j = static_cast<std::size_t>(randbelow(population - i));
      result[i] = pool[j];
      pool[j] = pool[population - i - 1];
    }
  } else {
    std::unordered_set<std::size_t> selected;
    for (std::size_t i = 0; i < k; ++i) {
      auto j = static_cast<std::size_t>(randbelow(population));
      while (selected.contains(j)) j = static_cast<std::size_t>(randbelow(population));
      selected.insert(j);
      result[i] = j;
    }
  }
  return result;
}

}  // namespace huashan::harness::eval
