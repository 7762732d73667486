// e^x for floats with the C library's bits: the algorithm of glibc's expf as
// its x86-64 FMA build runs it (the one the reference llama.cpp used for its
// attention softmax), written out so that it inlines into the attention loops
// and runs eight lanes at a time. Everywhere in the attention kernels the
// softmax weights come from here, so the scalar and the SIMD paths agree bit
// for bit on any machine, and on x86-64 glibc they equal std::exp(float)
// (checked over every float once; the tests compare a stride of them).
//
// Method: x·32/ln2 = k + r (k the nearest integer, through the 1.5·2^52
// rounding shift; |r| ≤ 1/2), e^x = 2^(k/32)·2^(r/32) with 2^(k/32) from a
// 32-entry table whose exponent field takes k / 32, and 2^(r/32) a cubic in r;
// all in double, rounded to float once at the end.
#pragma once

#include <array>
#include <bit>
#include <cmath>
#include <cstdint>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#endif

namespace huashan::engine {

namespace libm_expf_detail {

inline constexpr double inv_ln2_n = 0x1.71547652b82fep+5;  // 32 / ln 2
inline constexpr double shift = 0x1.8p+52;                 // adding it rounds to an integer
inline constexpr double c0 = 0x1.c6af84b912394p-20;        // cubic for 2^(r/32)
inline constexpr double c1 = 0x1.ebfce50fac4f3p-13;
inline constexpr double c2 = 0x1.62e42ff0c52d6p-6;
// Beyond these e^x overflows to +inf or underflows to +0.
inline constexpr float overflow_above = 0x1.62e42ep6f;
inline constexpr float underflow_below = -0x1.9fe368p6f;

// The doubles nearest 2^(i/32), i = 0..31.
inline constexpr double exp2_thirty_seconds[32] = {
    0x1.0000000000000p+0, 0x1.059b0d3158574p+0, 0x1.0b5586cf9890fp+0, 0x1.11301d0125b51p+0,
    0x1.172b83c7d517bp+0, 0x1.1d4873168b9aap+0, 0x1.2387a6e756238p+0, 0x1.29e9df51fdee1p+0,
    0x1.306fe0a31b715p+0, 0x1.371a7373aa9cbp+0, 0x1.3dea64c123422p+0, 0x1.44e086061892dp+0,
    0x1.4bfdad5362a27p+0, 0x1.5342b569d4f82p+0, 0x1.5ab07dd485429p+0, 0x1.6247eb03a5585p+0,
    0x1.6a09e667f3bcdp+0, 0x1.71f75e8ec5f74p+0, 0x1.7a11473eb0187p+0, 0x1.82589994cce13p+0,
    0x1.8ace5422aa0dbp+0, 0x1.93737b0cdc5e5p+0, 0x1.9c49182a3f090p+0, 0x1.a5503b23e255dp+0,
    0x1.ae89f995ad3adp+0, 0x1.b7f76f2fb5e47p+0, 0x1.c199bdd85529cp+0, 0x1.cb720dcef9069p+0,
    0x1.d5818dcfba487p+0, 0x1.dfc97337b9b5fp+0, 0x1.ea4afa2a490dap+0, 0x1.f50765b6e4540p+0,
};

// Entry i with i/32 taken out of its exponent field, so that adding k << 47
// (k's low five bits being i) scales it by 2^(k/32 rounded down).
alignas(64) inline constexpr std::array<std::uint64_t, 32> scaled_table = [] {
  std::array<std::uint64_t, 32> t{};
  for (int i = 0; i < 32; ++i)
    t[static_cast<std::size_t>(i)] =
        std::bit_cast<std::uint64_t>(exp2_thirty_seconds[i]) - (static_cast<std::uint64_t>(i) << 47);
  return t;
}();

}  // namespace libm_expf_detail

inline float libm_expf(float x) {
  namespace d = libm_expf_detail;
  if (std::isnan(x)) return x + x;
  if (x > d::overflow_above) return INFINITY;
  if (x < d::underflow_below) return 0.0f;      // includes -inf
  const double xd = x;
  double kd = std::fma(xd, d::inv_ln2_n, d::shift);
  const std::uint64_t ki = std::bit_cast<std::uint64_t>(kd);
  kd -= d::shift;
  const double r = std::fma(xd, d::inv_ln2_n, -kd);
  const double s = std::bit_cast<double>(d::scaled_table[ki % 32] + (ki << 47));
  const double z = std::fma(r, d::c0, d::c1);
  const double r2 = r * r;
  double y = std::fma(r, d::c2, 1.0);
  y = std::fma(z, r2, y);
  return static_cast<float>(y * s);
}

#if defined(__x86_64__) || defined(_M_X64)
// libm_expf on eight lanes (AVX-512: eight doubles per register).
__attribute__((target("avx512f,avx512vl,avx512dq,avx2,fma"))) inline __m256 libm_expf8(__m256 x) {
  namespace d = libm_expf_detail;
  const __m512d xd = _mm512_cvtps_pd(x);
  __m512d kd = _mm512_fmadd_pd(xd, _mm512_set1_pd(d::inv_ln2_n), _mm512_set1_pd(d::shift));
  const __m512i ki = _mm512_castpd_si512(kd);
  kd = _mm512_sub_pd(kd, _mm512_set1_pd(d::shift));
  const __m512d r = _mm512_fmsub_pd(xd, _mm512_set1_pd(d::inv_ln2_n), kd);
  const std::uint64_t* table = d::scaled_table.data();
  const __m512i t01 = _mm512_permutex2var_epi64(_mm512_load_si512(table), ki, _mm512_load_si512(table + 8));
  const __m512i t23 = _mm512_permutex2var_epi64(_mm512_load_si512(table + 16), ki, _mm512_load_si512(table + 24));
  const __mmask8 upper = _mm512_test_epi64_mask(ki, _mm512_set1_epi64(16));
  const __m512i t = _mm512_mask_blend_epi64(upper, t01, t23);
  const __m512d s = _mm512_castsi512_pd(_mm512_add_epi64(t, _mm512_slli_epi64(ki, 47)));
  const __m512d z = _mm512_fmadd_pd(r, _mm512_set1_pd(d::c0), _mm512_set1_pd(d::c1));
  const __m512d r2 = _mm512_mul_pd(r, r);
  __m512d y = _mm512_fmadd_pd(r, _mm512_set1_pd(d::c2), _mm512_set1_pd(1.0));
  y = _mm512_fmadd_pd(z, r2, y);
  __m256 e = _mm512_cvtpd_ps(_mm512_mul_pd(y, s));
  // The lanes the scalar code answers early: +inf above, +0 below, NaN as x + x.
  const __m256 above = _mm256_cmp_ps(x, _mm256_set1_ps(d::overflow_above), _CMP_GT_OQ);
  const __m256 below = _mm256_cmp_ps(x, _mm256_set1_ps(d::underflow_below), _CMP_LT_OQ);
  const __m256 nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
  e = _mm256_blendv_ps(e, _mm256_set1_ps(INFINITY), above);
  e = _mm256_blendv_ps(e, _mm256_add_ps(x, x), nan);
  return _mm256_andnot_ps(below, e);
}
#endif

}  // namespace huashan::engine
