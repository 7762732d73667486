// The engine's random numbers: xoshiro256** seeded through SplitMix64, the
// same stream on every platform, so a seed reproduces a sample or a
// synthetic model anywhere.
#pragma once

#include <cstdint>

namespace huashan::engine {

// Advances `state` and returns the next SplitMix64 output (also a good 64-bit mixer).
std::uint64_t splitmix64(std::uint64_t& state);

// xoshiro256**, its four words filled by SplitMix64 from the seed.
class rng {
 public:
  explicit rng(std::uint64_t seed);
  std::uint64_t next();
  // Uniform in [0, 1) with 53 random bits.
  double uniform();

 private:
  std::uint64_t s_[4];
};

}  // namespace huashan::engine
