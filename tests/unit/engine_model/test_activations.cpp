// The SiLU exponential (exp_poly) and SwiGLU: accuracy against the C library's
// exp, the AVX2 path against the scalar code, and llama.cpp's split between
// eight-lane groups (exp_poly) and the tail (std::exp). The softmax
// exponential (libm_expf) against the C library's bits.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "harness/engine/cpu_features.hpp"
#include "harness/engine/libm_expf.hpp"
#include "harness/engine/norms.hpp"

using namespace huashan::engine;

namespace {

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

#if defined(__x86_64__)
__attribute__((target("avx512f,avx512vl,avx512dq,avx2,fma"))) void lanes8(const float* x, float* out) {
  _mm256_storeu_ps(out, libm_expf8(_mm256_loadu_ps(x)));
}
#endif

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

// libm_expf: the attention softmax's exponential, written out so that it can
// run eight lanes at once. Where the C library is glibc's x86-64 build on a CPU
// with FMA (the variant glibc then selects, and the one the llama.cpp goldens
// were computed with), it must give std::exp's bits for every float; elsewhere
// it must still be correctly rounded but for rare cases (within 1 ulp).
TEST_CASE("libm_expf gives the C library's expf bits; the eight-lane version the scalar one's") {
#if defined(__GLIBC__) && defined(__x86_64__)
  const bool same_library = detect_cpu_features().fma && detect_cpu_features().avx2;
#else
  const bool same_library = false;
#endif
  std::vector<float> xs = {0.0f, -0.0f, 1.0f, -1.0f, 88.0f, -88.0f, 0x1.62e42ep6f, 0x1.62e430p6f, -0x1.9fe368p6f,
                           -0x1.9fe36ap6f, -103.0f, -104.0f, 1e-30f, -1e-30f, 0x1p-149f,
                           std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                           std::numeric_limits<float>::max(), -std::numeric_limits<float>::max()};
  // A stride through all 2^32 bit patterns (both signs, every exponent), and a
  // dense walk over the softmax's arguments.
  for (std::uint64_t u = 0; u < (1ull << 32); u += 7919) {
    const auto bits = static_cast<std::uint32_t>(u);
    float x;
    std::memcpy(&x, &bits, sizeof x);
    xs.push_back(x);
  }
  for (float x = -30.0f; x <= 0.0f; x += 0.000917f) xs.push_back(x);
  std::size_t differ = 0;
  double worst = 0.0;
  for (const float x : xs) {
    const float ours = libm_expf(x);
    const float theirs = std::exp(x);
    if (std::isnan(theirs)) {
      CHECK(std::isnan(ours));
      continue;
    }
    if (!same_bits(ours, theirs)) ++differ;
    if (std::isfinite(theirs) && theirs > 0.0f && std::isnormal(theirs)) worst = std::max(worst, ulps(ours, std::exp(static_cast<double>(x))));
  }
  MESSAGE(xs.size() << " arguments, " << differ << " differ from std::exp, largest error " << worst << " ulp");
  CHECK(worst < 1.0);
  if (same_library) CHECK(differ == 0);
#if defined(__x86_64__)
  if (detect_cpu_features().avx512f && detect_cpu_features().avx512vl && detect_cpu_features().avx512dq) {
    std::size_t lanes_differ = 0;
    for (std::size_t i = 0; i + 8 <= xs.size(); i += 8) {
      alignas(32) float out[8];
      lanes8(xs.data() + i, out);
      for (int l = 0; l < 8; ++l) {
        const float one = libm_expf(xs[i + static_cast<std::size_t>(l)]);
        if (!(same_bits(out[l], one) || (std::isnan(out[l]) && std::isnan(one)))) ++lanes_differ;
      }
    }
    CHECK(lanes_differ == 0);
  }
#endif
}
