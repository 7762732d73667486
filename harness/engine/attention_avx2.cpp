// Attention over the F16 cache with AVX2/FMA/F16C, compiled with -mavx2 -mfma
// -mf16c (see CMakeLists.txt) and called only after run-time detection
// (attention.cpp). Every step rounds as attend_reference does (the same FMAs
// and sums in the same order, the V accumulator rounded to F16 after each
// FMA), so the results are the same bits; what it buys is eight lanes per
// instruction and F16C conversions.
#include "harness/engine/attention_internal.hpp"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>

#include <cmath>

#include "harness/engine/kv_half.hpp"
#include "harness/engine/libm_expf.hpp"
#include "harness/engine/simd_x86.hpp"

namespace huashan::engine::avx2 {

namespace {

// The reduction and tail of the F16 dot (attention_scalar.cpp, dot_half_ggml)
// for one key's four accumulators: 0+2, 1+3, then 0+1 and ggml's lane sum.
inline float finish_half_dot(__m256* acc, const float* q_half, const std::uint16_t* k, std::int32_t n_simd,
                             std::int32_t n) {
  acc[0] = _mm256_add_ps(acc[0], acc[2]);
  acc[1] = _mm256_add_ps(acc[1], acc[3]);
  return half_dot_tail(hsum_hadd(_mm256_add_ps(acc[0], acc[1])), q_half, k, n_simd, n);
}

// dot_half_ggml for rows of 32 or more, two keys at a time so that eight FMA
// chains are in flight.
void scores_f16_long(const attention_args& a, const __m256* qh, const float* q_half, float* scores) {
  const std::int32_t n = a.head_dim_k;
  const std::int32_t n_simd = n - n % half_dot_step;
  cache_rows keys(a, false), ahead(a, false);
  next_row_prefetch next(a, false);
  std::int32_t j = 0;
  for (; j + 2 <= a.n_kv; j += 2) {
    const std::uint16_t* k0 = keys.row(j);
    const std::uint16_t* k1 = keys.row(j + 1);
    if (j + 1 + prefetch_ahead < a.n_kv) {
      prefetch_row(ahead.row(j + prefetch_ahead), n);
      prefetch_row(ahead.row(j + 1 + prefetch_ahead), n);
    }
    next.at(j);
    next.at(j + 1);
    __m256 acc0[4], acc1[4];
    for (int u = 0; u < 4; ++u) acc0[u] = acc1[u] = _mm256_setzero_ps();
    for (std::int32_t i = 0; i < n_simd; i += half_dot_step) {
      for (int u = 0; u < 4; ++u) {
        acc0[u] = _mm256_fmadd_ps(load_halves8(k0 + i + 8 * u), qh[i / 8 + u], acc0[u]);
        acc1[u] = _mm256_fmadd_ps(load_halves8(k1 + i + 8 * u), qh[i / 8 + u], acc1[u]);
      }
    }
    scores[j] = finish_half_dot(acc0, q_half, k0, n_simd, n) * a.scale;
    scores[j + 1] = finish_half_dot(acc1, q_half, k1, n_simd, n) * a.scale;
  }
  for (; j < a.n_kv; ++j) {
    const std::uint16_t* k0 = keys.row(j);
    next.at(j);
    __m256 acc0[4];
    for (int u = 0; u < 4; ++u) acc0[u] = _mm256_setzero_ps();
    for (std::int32_t i = 0; i < n_simd; i += half_dot_step)
      for (int u = 0; u < 4; ++u) acc0[u] = _mm256_fmadd_ps(load_halves8(k0 + i + 8 * u), qh[i / 8 + u], acc0[u]);
    scores[j] = finish_half_dot(acc0, q_half, k0, n_simd, n) * a.scale;
  }
}

// The V pass for any head size that is a multiple of 8, with NV 8-wide steps
// (NV = 0: head_dim_v / 8 of them, the accumulator then in memory; 1, 2, 4:
// heads of 8, 16, 32 with the accumulator in registers). Same steps per
// element as attend_f16.
template <int NV>
void values_f16_avx2(const attention_args& a, const float* weights, float sum, float* out) {
  const std::size_t v_stride = static_cast<std::size_t>(a.cache->shape().n_kv_heads) * a.head_dim_v;
  const std::int32_t bt = a.cache->config().block_tokens;
  const std::int32_t nv = NV > 0 ? NV : a.head_dim_v / 8;
  __m128i acc[NV > 0 ? NV : max_head_dim / 8];
  for (std::int32_t d = 0; d < nv; ++d) acc[d] = _mm_setzero_si128();
  cache_rows ahead(a, true);
  next_row_prefetch next(a, true);
  const std::uint16_t* v = nullptr;
  for (std::int32_t j = 0; j < a.n_kv; ++j) {
    v = j % bt == 0 ? value_row(a, j) : v + v_stride;
    if (NV == 0 && j + prefetch_ahead < a.n_kv) prefetch_row(ahead.row(j + prefetch_ahead), a.head_dim_v);
    if (NV == 0) next.at(j);
    float vs = weights[j];
    if (std::signbit(vs)) {
      const __m256 m8 = _mm256_set1_ps(-vs);
      for (std::int32_t d = 0; d < nv; ++d)
        acc[d] = _mm256_cvtps_ph(_mm256_mul_ps(_mm256_cvtph_ps(acc[d]), m8), _MM_FROUND_TO_NEAREST_INT);
      vs = 1.0f;
    }
    const __m256 w8 = _mm256_set1_ps(vs);
    for (std::int32_t d = 0; d < nv; ++d) {
      const __m256 v8 = load_halves8(v + 8 * d);
      acc[d] = _mm256_cvtps_ph(_mm256_fmadd_ps(v8, w8, _mm256_cvtph_ps(acc[d])), _MM_FROUND_TO_NEAREST_INT);
    }
  }
  const __m256 inv = _mm256_set1_ps(sum == 0.0f ? 0.0f : 1.0f / sum);
  for (std::int32_t d = 0; d < nv; ++d) _mm256_storeu_ps(out + 8 * d, _mm256_mul_ps(_mm256_cvtph_ps(acc[d]), inv));
}

void values_f16(const attention_args& a, const float* weights, float sum, float* out, bool avx512) {
  switch (a.head_dim_v) {
    case 8: values_f16_avx2<1>(a, weights, sum, out); return;
    case 16: values_f16_avx2<2>(a, weights, sum, out); return;
    case 32: values_f16_avx2<4>(a, weights, sum, out); return;
    default:
      if (!(avx512 && avx512::values_f16(a, weights, sum, out))) values_f16_avx2<0>(a, weights, sum, out);
  }
}

// y[j] = s_j - (running maximum before j) in, softmax weight out: e^y, or
// -e^-y where y > 0 (the key raised the maximum; the sign marks it). Groups of
// eight go to AVX-512 where allowed (the same bits as libm_expf).
void softmax_exponentials(float* y, std::int32_t n, bool avx512) {
  std::int32_t j = avx512 ? avx512::softmax_exponentials(y, n) : 0;
  for (; j < n; ++j) y[j] = y[j] > 0.0f ? -libm_expf(-y[j]) : libm_expf(y[j]);
}

// attend_f16 for heads shorter than the F16 dot's 32-element step, in one
// pass: with so few elements the V accumulator's chain (convert, FMA, round,
// every key) is the critical path, and the next keys' scores and weights,
// which do not depend on it, overlap with it here instead of waiting for it
// in a separate pass. Same steps per element as attend_f16.
template <int NV>
void attend_f16_short(const attention_args& a, const __m256* qh, float* out) {
  const std::size_t v_stride = static_cast<std::size_t>(a.cache->shape().n_kv_heads) * a.head_dim_v;
  const std::int32_t bt = a.cache->config().block_tokens;
  const std::int32_t nk = a.head_dim_k / 8;
  __m128i acc[NV];
  for (int d = 0; d < NV; ++d) acc[d] = _mm_setzero_si128();
  float sum = 0.0f;
  float max_s = -INFINITY;
  const std::size_t k_stride = static_cast<std::size_t>(a.cache->shape().n_kv_heads) * a.head_dim_k;
  const std::uint16_t* k = nullptr;
  const std::uint16_t* v = nullptr;
  for (std::int32_t j = 0; j < a.n_kv; ++j) {
    // Rows of one block are contiguous: walk block by block with a row stride.
    k = j % bt == 0 ? key_row(a, j) : k + k_stride;
    v = j % bt == 0 ? value_row(a, j) : v + v_stride;
    double dot = 0.0;
    for (std::int32_t i = 0; i < nk; ++i) {
      alignas(32) float p[8];
      _mm256_store_ps(p, _mm256_mul_ps(qh[i], load_halves8(k + 8 * i)));
      for (const float x : p) dot += static_cast<double>(x);
    }
    const float s = static_cast<float>(dot) * a.scale;
    float ms = 1.0f;
    float vs = 1.0f;
    if (s > max_s) {
      ms = libm_expf(max_s - s);
      max_s = s;
      const __m256 m8 = _mm256_set1_ps(ms);
      for (int d = 0; d < NV; ++d)
        acc[d] = _mm256_cvtps_ph(_mm256_mul_ps(_mm256_cvtph_ps(acc[d]), m8), _MM_FROUND_TO_NEAREST_INT);
    } else {
      vs = libm_expf(s - max_s);
    }
    const __m256 w8 = _mm256_set1_ps(vs);
    for (int d = 0; d < NV; ++d) {
      const __m256 v8 = load_halves8(v + 8 * d);
      acc[d] = _mm256_cvtps_ph(_mm256_fmadd_ps(v8, w8, _mm256_cvtph_ps(acc[d])), _MM_FROUND_TO_NEAREST_INT);
    }
    sum = std::fma(sum, ms, vs);
  }
  const __m256 inv = _mm256_set1_ps(sum == 0.0f ? 0.0f : 1.0f / sum);
  for (int d = 0; d < NV; ++d) _mm256_storeu_ps(out + 8 * d, _mm256_mul_ps(_mm256_cvtph_ps(acc[d]), inv));
}

}  // namespace

bool attention_compiled() { return true; }

float softmax_weights(float* weights, std::int32_t n, bool avx512) {
  // The running maximum fixes every exponent's argument before any
  // exponential is taken: with y = s - (maximum before key j), key j raises
  // the maximum exactly when y > 0, and its exponential is e^-y (the rescale)
  // or e^y. The exponentials then run eight keys at a time.
  float max_s = -INFINITY;
  for (std::int32_t j = 0; j < n; ++j) {
    const float s = weights[j];
    weights[j] = s - max_s;
    if (s > max_s) max_s = s;
  }
  softmax_exponentials(weights, n, avx512);
  float sum = 0.0f;
  for (std::int32_t j = 0; j < n; ++j) {
    const float w = weights[j];
    sum = std::signbit(w) ? std::fma(sum, -w, 1.0f) : sum + w;
  }
  return sum;
}

void attend_f16(const attention_args& a, const float* q, float* scores, float* out, bool avx512) {
  const std::int32_t nk = a.head_dim_k / 8;
  __m256 qh[max_head_dim / 8];
  alignas(32) float q_half[max_head_dim];
  for (std::int32_t i = 0; i < nk; ++i) {
    qh[i] = _mm256_cvtph_ps(_mm256_cvtps_ph(_mm256_loadu_ps(q + 8 * i), _MM_FROUND_TO_NEAREST_INT));
    _mm256_store_ps(q_half + 8 * i, qh[i]);
  }
  if (a.head_dim_k < half_dot_step) {
    switch (a.head_dim_v / 8) {
      case 1: attend_f16_short<1>(a, qh, out); return;
      case 2: attend_f16_short<2>(a, qh, out); return;
      default: attend_f16_short<3>(a, qh, out); return;  // attend() sends only heads of 8, 16, 24 here
    }
  }
  // Scores (dot_half_ggml's order), the online softmax weights, then the F16
  // V accumulator, key by key in order.
  scores_f16_long(a, qh, q_half, scores);
  const float sum = softmax_weights(scores, a.n_kv, avx512);
  values_f16(a, scores, sum, out, avx512);
}

}  // namespace huashan::engine::avx2

#else  // built without AVX2: the dispatch never calls these.

namespace huashan::engine::avx2 {
bool attention_compiled() { return false; }
float softmax_weights(float*, std::int32_t, bool) { return 0.0f; }
void attend_f16(const attention_args&, const float*, float*, float*, bool) {}
}  // namespace huashan::engine::avx2

#endif
