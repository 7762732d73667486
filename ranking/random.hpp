// Random numbers for bootstrap resampling: a small fast generator seeded per
// (seed, round) so results do not depend on the number of threads, and a
// binomial sampler fast for the small means a multinomial chain mostly needs.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

namespace huashan::ranking {

// SplitMix64 step: a bijective 64-bit mixer (Steele, Lea, Flood 2014).
inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// xoshiro256++ (Blackman, Vigna 2019); a UniformRandomBitGenerator.
class rng {
 public:
  using result_type = std::uint64_t;
  // Independent streams for (seed, stream): both are mixed through SplitMix64.
  rng(std::uint64_t seed, std::uint64_t stream) {
    std::uint64_t sm = seed ^ (stream * 0xD1B54A32D192ED03ull + 0x8CB92BA72F3D8DD7ull);
    for (auto& w : s_) w = splitmix64(sm);
  }
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }
  result_type operator()() {
    const std::uint64_t result = rotl(s_[0] + s_[3], 23) + s_[0];
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>((*this)() >> 11) * 0x1.0p-53; }
  // Uniform integer in [0, n) (Lemire's multiply-shift; bias < n / 2^64).
  std::uint64_t below(std::uint64_t n) {
    __extension__ using u128 = unsigned __int128;
    return static_cast<std::uint64_t>((static_cast<u128>((*this)()) * n) >> 64);
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

// One Binomial(n, p) draw. Small means (n·min(p,1-p) < 16) use inversion
// (BINV, Kachitvichyanukul & Schmeiser 1988): expected cost ~ mean steps of a
// multiply; larger means use the standard library's rejection sampler.
inline std::int64_t binomial(rng& g, std::int64_t n, double p) {
  if (n <= 0 || p <= 0.0) return 0;
  if (p >= 1.0) return n;
  if (p > 0.5) return n - binomial(g, n, 1.0 - p);
  if (static_cast<double>(n) * p < 16.0) {
    const double q = 1.0 - p;
    const double s = p / q;
    const double a = static_cast<double>(n + 1) * s;
    for (;;) {
      double r = std::exp(static_cast<double>(n) * std::log1p(-p));  // P(X = 0) = q^n
      double u = g.uniform();
      std::int64_t x = 0;
      while (u > r) {
        u -= r;
        ++x;
        if (x > n) break;  // rounding left u above the total mass: redraw
        r *= (a / static_cast<double>(x) - s);
      }
      if (x <= n) return x;
    }
  }
  std::binomial_distribution<std::int64_t> d(n, p);
  return d(g);
}

}  // namespace huashan::ranking
