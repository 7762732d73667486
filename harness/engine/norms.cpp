// RMSNorm and SwiGLU: a small share of the time, written for their numerics.
#include "harness/engine/norms.hpp"

#include <cmath>
#include <cstring>

#include "harness/engine/cpu_features.hpp"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define HUASHAN_NORMS_X86 1
#endif

namespace huashan::engine {

namespace {

// out = x / sqrt(sum/n + eps) · w, given the row's sum of squares.
void scale_row(const float* x, const float* w, std::int64_t n, double sum, float eps, float* out) {
  const float mean = static_cast<float>(sum / static_cast<double>(n));
  const float scale = 1.0f / std::sqrt(mean + eps);
  for (std::int64_t i = 0; i < n; ++i) out[i] = (x[i] * scale) * w[i];
}

}  // namespace

void rms_norm(const float* x, const float* w, std::int64_t n, float eps, float* out) {
  double sum = 0.0;
  for (std::int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i] * x[i]);  // float products, double sum: ggml's order
  scale_row(x, w, n, sum, eps, out);
}

void rms_norm_rows(const float* x, std::int64_t x_stride, const float* w, std::int64_t n, std::int64_t rows, float eps,
                   float* out, std::int64_t out_stride) {
  std::int64_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    const float* x0 = x + r * x_stride;
    const float* x1 = x0 + x_stride;
    const float* x2 = x1 + x_stride;
    const float* x3 = x2 + x_stride;
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    for (std::int64_t i = 0; i < n; ++i) {
      s0 += static_cast<double>(x0[i] * x0[i]);
      s1 += static_cast<double>(x1[i] * x1[i]);
      s2 += static_cast<double>(x2[i] * x2[i]);
      s3 += static_cast<double>(x3[i] * x3[i]);
    }
    const double sums[4] = {s0, s1, s2, s3};
    for (int k = 0; k < 4; ++k) scale_row(x + (r + k) * x_stride, w, n, sums[k], eps, out + (r + k) * out_stride);
  }
  for (; r < rows; ++r) rms_norm(x + r * x_stride, w, n, eps, out + r * out_stride);
}

namespace {

// exp_poly's constants: 1.5·2^23 rounds k·1 to an integer in the low mantissa
// bits; ln2 split so that k·ln2_hi is exact; c1..c5 approximate e^r - 1.
constexpr float round_shift = 0x1.8p23f;
constexpr float inv_ln2 = 0x1.715476p+0f;
constexpr float ln2_hi = 0x1.62e4p-1f;
constexpr float ln2_lo = 0x1.7f7d1cp-20f;
constexpr float c1 = 0x1.ffffecp-1f;
constexpr float c2 = 0x1.fffdb6p-2f;
constexpr float c3 = 0x1.555e66p-3f;
constexpr float c4 = 0x1.573e2ep-5f;
constexpr float c5 = 0x1.0e4020p-7f;

inline float from_bits(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
inline std::uint32_t to_bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

inline float silu_times(float g, float e_neg_g, float up) { return g / (1.0f + e_neg_g) * up; }

}  // namespace

float exp_poly(float x) {
  const float z = std::fma(x, inv_ln2, round_shift);
  const float k = z - round_shift;
  const float r = std::fma(-k, ln2_lo, std::fma(-k, ln2_hi, x));
  const std::uint32_t e = to_bits(z) << 23;  // k in the exponent field
  const float scale = from_bits(e + to_bits(1.0f));
  const float r2 = r * r;
  const float p = std::fma(std::fma(std::fma(c5, r, c4), r2, std::fma(c3, r, c2)), r2, c1 * r);  // e^r - 1
  if (std::fabs(k) <= 126.0f) return std::fma(scale, p, scale);
  // 2^k is not a normal float: scale in two steps, or saturate to 0 / inf.
  const std::uint32_t bias = k <= 0.0f ? 0x82000000u : 0u;
  const float s1 = from_bits(bias + 0x7f000000u);
  const float s2 = from_bits(e - bias);
  if (std::fabs(k) > 192.0f) return s1 * s1;
  return std::fma(s2, p, s2) * s1;
}

void swiglu_reference(float* gate, const float* up, std::int64_t n) {
  const std::int64_t n8 = n - n % 8;
  for (std::int64_t i = 0; i < n8; ++i) gate[i] = silu_times(gate[i], exp_poly(0.0f - gate[i]), up[i]);
  for (std::int64_t i = n8; i < n; ++i) gate[i] = silu_times(gate[i], std::exp(-gate[i]), up[i]);
}

#ifdef HUASHAN_NORMS_X86
namespace {

// exp_poly on eight lanes; lanes whose 2^k is not a normal float (|x| > ~87)
// are done again by the scalar code.
__attribute__((target("avx2,fma"))) __m256 exp_poly8(__m256 x) {
  const __m256 shift = _mm256_set1_ps(round_shift);
  const __m256 z = _mm256_fmadd_ps(x, _mm256_set1_ps(inv_ln2), shift);
  const __m256 k = _mm256_sub_ps(z, shift);
  const __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(ln2_lo), _mm256_fnmadd_ps(k, _mm256_set1_ps(ln2_hi), x));
  const __m256i e = _mm256_slli_epi32(_mm256_castps_si256(z), 23);
  const __m256 scale = _mm256_castsi256_ps(_mm256_add_epi32(e, _mm256_castps_si256(_mm256_set1_ps(1.0f))));
  const __m256 r2 = _mm256_mul_ps(r, r);
  const __m256 p = _mm256_fmadd_ps(
      _mm256_fmadd_ps(_mm256_fmadd_ps(_mm256_set1_ps(c5), r, _mm256_set1_ps(c4)), r2,
                      _mm256_fmadd_ps(_mm256_set1_ps(c3), r, _mm256_set1_ps(c2))),
      r2, _mm256_mul_ps(_mm256_set1_ps(c1), r));
  __m256 result = _mm256_fmadd_ps(scale, p, scale);
  const __m256 abs_k = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), k);
  const int outside = _mm256_movemask_ps(_mm256_cmp_ps(abs_k, _mm256_set1_ps(126.0f), _CMP_GT_OQ));
  if (outside != 0) {
    alignas(32) float lanes[8];
    alignas(32) float out[8];
    _mm256_store_ps(lanes, x);
    _mm256_store_ps(out, result);
    for (int l = 0; l < 8; ++l)
      if ((outside >> l) & 1) out[l] = exp_poly(lanes[l]);
    result = _mm256_load_ps(out);
  }
  return result;
}

__attribute__((target("avx2,fma"))) void swiglu_avx2(float* gate, const float* up, std::int64_t n) {
  const std::int64_t n8 = n - n % 8;
  const __m256 one = _mm256_set1_ps(1.0f);
  for (std::int64_t i = 0; i < n8; i += 8) {
    const __m256 g = _mm256_loadu_ps(gate + i);
    const __m256 e = exp_poly8(_mm256_sub_ps(_mm256_setzero_ps(), g));
    _mm256_storeu_ps(gate + i, _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(one, e)), _mm256_loadu_ps(up + i)));
  }
  for (std::int64_t i = n8; i < n; ++i) gate[i] = silu_times(gate[i], std::exp(-gate[i]), up[i]);
}

}  // namespace
#endif

void swiglu(float* gate, const float* up, std::int64_t n) {
#ifdef HUASHAN_NORMS_X86
  static const bool simd = [] {
    const auto& f = detect_cpu_features();
    return f.avx2 && f.fma;
  }();
  if (simd) {
    swiglu_avx2(gate, up, n);
    return;
  }
#endif
  swiglu_reference(gate, up, n);
}

}  // namespace huashan::engine
