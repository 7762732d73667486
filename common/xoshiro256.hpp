// The project's one random generator: xoshiro256 (Blackman, Vigna 2019), its
// 256-bit state filled by SplitMix64, the same stream on every platform, so a
// seed reproduces a sample, a synthetic model or a bootstrap anywhere.
//
// One state and one linear step, with the two standard output scramblers the
// project's streams were defined with (changing either would change every
// seeded result and golden test):
//   xoshiro256ss  xoshiro256**: the engine's token sampler and synthetic weights,
//                 seeded with SplitMix64 from the seed;
//   xoshiro256pp  xoshiro256++: ranking's bootstrap rounds, seeded per
//                 (seed, stream) through xoshiro_stream_seed.
#pragma once

#include <cstdint>
#include <limits>

namespace huashan {

// Advances `state` and returns the next SplitMix64 output (Steele, Lea, Flood
// 2014); also a good bijective 64-bit mixer.
inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// The SplitMix64 start for stream `stream` of `seed`: independent streams for
// work split by index (bootstrap round k), whatever thread runs it.
inline std::uint64_t xoshiro_stream_seed(std::uint64_t seed, std::uint64_t stream) {
  return seed ^ (stream * 0xD1B54A32D192ED03ull + 0x8CB92BA72F3D8DD7ull);
}

enum class xoshiro_scrambler { starstar, plusplus };

// xoshiro256 with the given output scrambler; a UniformRandomBitGenerator.
template <xoshiro_scrambler Scrambler>
class xoshiro256 {
 public:
  using result_type = std::uint64_t;

  // The four state words are the next four SplitMix64 outputs from `seed`.
  explicit xoshiro256(std::uint64_t seed) {
    for (auto& w : s_) w = splitmix64(seed);
  }

  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }

  // The next 64 random bits.
  result_type operator()() {
    const std::uint64_t result = Scrambler == xoshiro_scrambler::starstar ? rotl(s_[1] * 5, 7) * 9
                                                                           : rotl(s_[0] + s_[3], 23) + s_[0];
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  result_type next() { return (*this)(); }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // Uniform integer in [0, n) (Lemire's multiply-shift; bias < n / 2^64).
  std::uint64_t below(std::uint64_t n) {
    __extension__ using u128 = unsigned __int128;
    return static_cast<std::uint64_t>((static_cast<u128>(next()) * n) >> 64);
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

using xoshiro256ss = xoshiro256<xoshiro_scrambler::starstar>;
using xoshiro256pp = xoshiro256<xoshiro_scrambler::plusplus>;

}  // namespace huashan
