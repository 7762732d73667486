// Random numbers for bootstrap resampling: the project's generator seeded per
// (seed, round) so results do not depend on the number of threads, and a
// binomial sampler fast for the small means a multinomial chain mostly needs.
#pragma once

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>

#include "common/xoshiro256.hpp"

namespace huashan::ranking {

// A bootstrap stream: the project's xoshiro256++ (common/xoshiro256.hpp)
// started at stream `stream` of `seed`.
class rng : public xoshiro256pp {
 public:
  rng(std::uint64_t seed, std::uint64_t stream) : xoshiro256pp(xoshiro_stream_seed(seed, stream)) {}
};

// Eight xoshiro256++ streams stepped side by side, each seeded by SplitMix64
// from one output of `parent`: the same numbers whatever the instruction set,
// and a loop over the lanes that compilers turn into vector code. Uniforms
// carry 52 random bits (a mantissa filled from the top bits, minus one), which
// converts without a 64-bit integer-to-double instruction.
class rng_lanes {
 public:
  static constexpr std::size_t width = 8;
  explicit rng_lanes(rng& parent) {
    for (std::size_t l = 0; l < width; ++l) {
      std::uint64_t sm = parent.next();
      for (auto& word : s_) word[l] = splitmix64(sm);
    }
  }
  // Fills u[0..width) with uniforms in [0, 1).
  void uniforms(double* u) {
    for (std::size_t l = 0; l < width; ++l) {
      const std::uint64_t r = rotl(s_[0][l] + s_[3][l], 23) + s_[0][l];
      const std::uint64_t t = s_[1][l] << 17;
      s_[2][l] ^= s_[0][l];
      s_[3][l] ^= s_[1][l];
      s_[1][l] ^= s_[2][l];
      s_[0][l] ^= s_[3][l];
      s_[2][l] ^= t;
      s_[3][l] = rotl(s_[3][l], 45);
      u[l] = std::bit_cast<double>((r >> 12) | 0x3FF0000000000000ull) - 1.0;
    }
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4][width];
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
