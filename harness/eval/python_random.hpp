// Python's `random.Random`, bit for bit, for the few calls lm-evaluation-harness
// makes when it picks few-shot examples: seeding from an int, getrandbits,
// the rejection-sampled randbelow and `sample`'s two algorithms. The same seed
// then yields the same shots here as in Python.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace huashan::harness::eval {

class python_random {
 public:
  // random.Random(seed) for a non-negative int seed.
  explicit python_random(std::uint64_t seed);

  // random.getrandbits(k) for 0 < k <= 64.
  std::uint64_t getrandbits(int k);
  // random._randbelow(n): uniform in [0, n), n > 0.
  std::uint64_t randbelow(std::uint64_t n);
  // The indices random.sample(range(population), k) would pick, in its order;
  // k <= population (asserted by the caller).
  std::vector<std::size_t> sample_indices(std::size_t population, std::size_t k);

 private:
  std::uint32_t next_word();
  void init_genrand(std::uint32_t s);
  void init_by_array(const std::vector<std::uint32_t>& key);

  static constexpr int state_words = 624;
  std::array<std::uint32_t, state_words> mt_{};
  int index_ = state_words + 1;
};

}  // namespace huashan::harness::eval
