// The SiLU exponential (exp_poly) and SwiGLU: accuracy against the C library's
// exp, the AVX2 path against the scalar code, and llama.cpp's split between
// eight-lane groups (exp_poly) and the tail (std::exp).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "harness/engine/norms.hpp"

using namespace huashan::engine;

namespace {

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// Distance in units in the last place of the double-precision exact value.
double ulps(float got, double exact) {
  const double ulp = std::ldexp(1.0, std::ilogb(exact) - 23);
  return std::abs(static_cast<double>(got) - exact) / ulp;
}

}  // namespace

TEST_CASE("exp_poly stays within 2 ulp of e^x over the float range and saturates outside it") {
  double worst = 0.0;
  for (float x = -87.0f; x < 88.0f; x += 0.00731f) worst = std::max(worst, ulps(exp_poly(x), std::exp(static_cast<double>(x))));
  MESSAGE("largest error " << worst << " ulp");
  CHECK(worst <= 2.0);  // the routine's published bound is 1.45 ulp plus the final rounding
  CHECK(worst > 0.5);   // not the C library's correctly rounded expf: this one is its own
  CHECK(exp_poly(0.0f) == 1.0f);
  CHECK(exp_poly(-std::numeric_limits<float>::infinity()) == 0.0f);
  CHECK(exp_poly(-110.0f) == 0.0f);
  CHECK(std::isinf(exp_poly(100.0f)));
  // 2^k outside the normal range: scaled in two steps (e^-90 is subnormal, ~20 bits).
  CHECK(std::abs(exp_poly(-90.0f) / std::exp(-90.0) - 1.0) <= 1e-5);
  CHECK(ulps(exp_poly(88.5f), std::exp(88.5)) <= 2.0);
}

TEST_CASE("swiglu: groups of eight use exp_poly, the tail std::exp, the SIMD path the scalar bits") {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 4.0f);
  for (std::int64_t n = 1; n <= 41; ++n) {
    CAPTURE(n);
    std::vector<float> gate(static_cast<std::size_t>(n)), up(static_cast<std::size_t>(n));
    for (auto& v : gate) v = normal(rng);
    for (auto& v : up) v = normal(rng);
    if (n > 3) gate[2] = 95.0f, gate[3] = -95.0f;  // lanes whose exp leaves the normal range
    auto fast = gate;
    auto reference = gate;
    swiglu(fast.data(), up.data(), n);
    swiglu_reference(reference.data(), up.data(), n);
    const std::int64_t n8 = n - n % 8;
    for (std::int64_t i = 0; i < n; ++i) {
      const float g = gate[static_cast<std::size_t>(i)];
      const float e = i < n8 ? exp_poly(0.0f - g) : std::exp(-g);
      const float expect = g / (1.0f + e) * up[static_cast<std::size_t>(i)];
      CHECK(same_bits(reference[static_cast<std::size_t>(i)], expect));
      CHECK(same_bits(fast[static_cast<std::size_t>(i)], expect));
    }
  }
}

TEST_CASE("rms_norm_rows gives each row rms_norm's bits, in place or not") {
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  constexpr std::int64_t n = 136, stride = 140;
  for (std::int64_t rows : {1, 3, 4, 7, 9}) {
    CAPTURE(rows);
    std::vector<float> x(static_cast<std::size_t>(rows * stride)), w(static_cast<std::size_t>(n));
    for (auto& v : x) v = normal(rng);
    for (auto& v : w) v = normal(rng);
    std::vector<float> out(x.size(), 0.0f), in_place = x;
    rms_norm_rows(x.data(), stride, w.data(), n, rows, 1e-6f, out.data(), stride);
    rms_norm_rows(in_place.data(), stride, w.data(), n, rows, 1e-6f, in_place.data(), stride);
    std::vector<float> expect(static_cast<std::size_t>(n));
    for (std::int64_t r = 0; r < rows; ++r) {
      rms_norm(x.data() + r * stride, w.data(), n, 1e-6f, expect.data());
      for (std::int64_t i = 0; i < n; ++i) {
        CHECK(same_bits(out[static_cast<std::size_t>(r * stride + i)], expect[static_cast<std::size_t>(i)]));
        CHECK(same_bits(in_place[static_cast<std::size_t>(r * stride + i)], expect[static_cast<std::size_t>(i)]));
      }
    }
  }
}
