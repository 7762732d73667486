#include "harness/eval/doc_sample.hpp"

namespace huashan::harness::eval {

namespace {

// splitmix64, for positions that do not cluster for neighbouring seeds.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// FNV-1a: stable across builds and platforms (std::hash is not), so workers
// built apart still agree on the sample.
std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (const unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

}  // namespace

std::vector<std::int64_t> spread_sample(std::int64_t size, std::int64_t count, std::uint64_t seed) {
  std::vector<std::int64_t> out;
  if (size <= 0 || count <= 0) return out;
  if (size <= count) {
    for (std::int64_t i = 0; i < size; ++i) out.push_back(i);
    return out;
  }
  out.reserve(static_cast<std::size_t>(count));
  for (std::int64_t i = 0; i < count; ++i) {
    const std::int64_t lo = i * size / count;
    const std::int64_t hi = (i + 1) * size / count;  // > lo, since size > count
    const auto width = static_cast<std::uint64_t>(hi - lo);
    out.push_back(lo + static_cast<std::int64_t>(mix(seed + static_cast<std::uint64_t>(i)) % width));
  }
  return out;
}

std::uint64_t sample_seed(std::uint64_t run_seed, std::string_view task, std::string_view purpose) {
  return mix(run_seed ^ mix(fnv1a(task)) ^ mix(fnv1a(purpose) + 1));
}

}  // namespace huashan::harness::eval
