// Attention over the paged cache, scalar reference code (F32 or F16 K/V).
#include "harness/engine/attention.hpp"

#include <cmath>
#include <cstring>

#include "harness/engine/cpu_features.hpp"
#include "harness/engine/kv_half.hpp"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define HUASHAN_ATTENTION_X86 1
#endif

namespace huashan::engine {

namespace {

inline float dot_f32(const float* a, const float* b, std::int32_t n) {
  float s = 0.0f;
  for (std::int32_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

inline float dot_f16(const float* a, const std::uint16_t* b, std::int32_t n) {
  float s = 0.0f;
  for (std::int32_t i = 0; i < n; ++i) s += a[i] * kv::half_to_float(b[i]);
  return s;
}

// Q·K with Q already rounded to F16: each product of two halves is exact in
// float, and the sum is kept in double and rounded once, as ggml's F16 dot does
// for rows shorter than its SIMD step. A float sum rounds at every step and
// differs in the last bit often enough to flip the F16 V-accumulator roundings.
inline float dot_half_exact(const float* q_half, const std::uint16_t* k, std::int32_t n) {
  double s = 0.0;
  for (std::int32_t i = 0; i < n; ++i) s += static_cast<double>(q_half[i] * kv::half_to_float(k[i]));
  return static_cast<float>(s);
}

// F16 cache: the numerics of ggml's CPU flash attention (what llama.cpp runs by
// default, and what our goldens come from): Q rounded to F16, Q·K accumulated
// in float, online softmax, and the V accumulator itself kept in F16 (rounded
// after every update). Less precise than the F32 path, but it agrees with
// llama.cpp to ~1e-4 in logprobs where exact attention differs by ~1e-2.
void attend_f16(const attention_args& a, const float* q, float* out) {
  const kv_cache& c = *a.cache;
  const std::int32_t bt = c.config().block_tokens;
  const std::int32_t k_off = a.kv_head * a.head_dim_k;
  const std::int32_t v_off = a.kv_head * a.head_dim_v;
  float qh[max_head_dim];
  std::uint16_t acc[max_head_dim];
  for (std::int32_t i = 0; i < a.head_dim_k; ++i) qh[i] = kv::half_to_float(kv::float_to_half(q[i]));
  for (std::int32_t d = 0; d < a.head_dim_v; ++d) acc[d] = 0;
  float sum = 0.0f;
  float max_s = -INFINITY;
  for (std::int32_t j = 0; j < a.n_kv; ++j) {
    const std::int32_t block = (*a.blocks)[static_cast<std::size_t>(j / bt)];
    const auto* k = static_cast<const std::uint16_t*>(c.k_row(a.layer, block, j % bt)) + k_off;
    const auto* v = static_cast<const std::uint16_t*>(c.v_row(a.layer, block, j % bt)) + v_off;
    const float s = dot_half_exact(qh, k, a.head_dim_k) * a.scale;
    float ms = 1.0f;  // rescale of what was accumulated so far
    float vs = 1.0f;  // weight of this value row
    if (s > max_s) {
      ms = std::exp(max_s - s);
      max_s = s;
      for (std::int32_t d = 0; d < a.head_dim_v; ++d) acc[d] = kv::float_to_half(kv::half_to_float(acc[d]) * ms);
    } else {
      vs = std::exp(s - max_s);
    }
    for (std::int32_t d = 0; d < a.head_dim_v; ++d) {
      acc[d] = kv::float_to_half(std::fma(kv::half_to_float(v[d]), vs, kv::half_to_float(acc[d])));
    }
    sum = sum * ms + vs;
  }
  const float inv = sum == 0.0f ? 0.0f : 1.0f / sum;
  for (std::int32_t d = 0; d < a.head_dim_v; ++d) out[d] = kv::half_to_float(acc[d]) * inv;
}

#ifdef HUASHAN_ATTENTION_X86
// attend_f16 with F16C conversions and 8-wide FMA; head sizes must be multiples
// of 8. The V accumulator updates round exactly as the scalar code does (one
// FMA, then round to F16); only the Q·K sum (exact products, double sum) runs in a different order.
__attribute__((target("avx2,fma,f16c"))) void attend_f16_avx2(const attention_args& a, const float* q, float* out) {
  const kv_cache& c = *a.cache;
  const std::int32_t bt = c.config().block_tokens;
  const std::int32_t k_off = a.kv_head * a.head_dim_k;
  const std::int32_t v_off = a.kv_head * a.head_dim_v;
  const std::int32_t nk = a.head_dim_k / 8;
  const std::int32_t nv = a.head_dim_v / 8;
  __m256 qh[max_head_dim / 8];
  __m128i acc[max_head_dim / 8];
  for (std::int32_t i = 0; i < nk; ++i) {
    qh[i] = _mm256_cvtph_ps(_mm256_cvtps_ph(_mm256_loadu_ps(q + 8 * i), _MM_FROUND_TO_NEAREST_INT));
  }
  for (std::int32_t d = 0; d < nv; ++d) acc[d] = _mm_setzero_si128();
  float sum = 0.0f;
  float max_s = -INFINITY;
  // Rows of one block are contiguous: walk block by block with a row stride.
  const std::size_t k_stride = static_cast<std::size_t>(c.shape().n_kv_heads) * a.head_dim_k;
  const std::size_t v_stride = static_cast<std::size_t>(c.shape().n_kv_heads) * a.head_dim_v;
  const std::uint16_t* k = nullptr;
  const std::uint16_t* v = nullptr;
  for (std::int32_t j = 0; j < a.n_kv; ++j) {
    if (j % bt == 0) {
      const std::int32_t block = (*a.blocks)[static_cast<std::size_t>(j / bt)];
      k = static_cast<const std::uint16_t*>(c.k_row(a.layer, block, 0)) + k_off;
      v = static_cast<const std::uint16_t*>(c.v_row(a.layer, block, 0)) + v_off;
    } else {
      k += k_stride;
      v += v_stride;
    }
    // Exact products, summed in double (see dot_half_exact).
    __m256d dot = _mm256_setzero_pd();
    for (std::int32_t i = 0; i < nk; ++i) {
      const __m256 k8 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(k + 8 * i)));
      const __m256 p8 = _mm256_mul_ps(qh[i], k8);
      dot = _mm256_add_pd(dot, _mm256_cvtps_pd(_mm256_castps256_ps128(p8)));
      dot = _mm256_add_pd(dot, _mm256_cvtps_pd(_mm256_extractf128_ps(p8, 1)));
    }
    __m128d s2 = _mm_add_pd(_mm256_castpd256_pd128(dot), _mm256_extractf128_pd(dot, 1));
    s2 = _mm_add_sd(s2, _mm_unpackhi_pd(s2, s2));
    const float s = static_cast<float>(_mm_cvtsd_f64(s2)) * a.scale;
    float ms = 1.0f;
    float vs = 1.0f;
    if (s > max_s) {
      ms = std::exp(max_s - s);
      max_s = s;
      const __m256 m8 = _mm256_set1_ps(ms);
      for (std::int32_t d = 0; d < nv; ++d) {
        acc[d] = _mm256_cvtps_ph(_mm256_mul_ps(_mm256_cvtph_ps(acc[d]), m8), _MM_FROUND_TO_NEAREST_INT);
      }
    } else {
      vs = std::exp(s - max_s);
    }
    const __m256 w8 = _mm256_set1_ps(vs);
    for (std::int32_t d = 0; d < nv; ++d) {
      const __m256 v8 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(v + 8 * d)));
      acc[d] = _mm256_cvtps_ph(_mm256_fmadd_ps(v8, w8, _mm256_cvtph_ps(acc[d])), _MM_FROUND_TO_NEAREST_INT);
    }
    sum = sum * ms + vs;
  }
  const __m256 inv = _mm256_set1_ps(sum == 0.0f ? 0.0f : 1.0f / sum);
  for (std::int32_t d = 0; d < nv; ++d) _mm256_storeu_ps(out + 8 * d, _mm256_mul_ps(_mm256_cvtph_ps(acc[d]), inv));
}
#endif
}  // namespace

void attend(const attention_args& a, const float* q, float* scores, float* out) {
#ifdef HUASHAN_ATTENTION_X86
  static const bool simd = [] {
    const auto& f = detect_cpu_features();
    return f.avx2 && f.fma && f.f16c;
  }();
  if (simd && a.cache->config().type == kv_type::f16 && a.head_dim_k % 8 == 0 && a.head_dim_v % 8 == 0) {
    attend_f16_avx2(a, q, out);
    return;
  }
#endif
  attend_reference(a, q, scores, out);
}

void attend_reference(const attention_args& a, const float* q, float* scores, float* out) {
  const kv_cache& c = *a.cache;
  if (c.config().type == kv_type::f16) {
    attend_f16(a, q, out);
    return;
  }
  const std::int32_t bt = c.config().block_tokens;
  const bool f16 = c.config().type == kv_type::f16;
  const std::int32_t k_off = a.kv_head * a.head_dim_k;
  const std::int32_t v_off = a.kv_head * a.head_dim_v;

  // scores: [n_kv]
  float max_s = -INFINITY;
  for (std::int32_t j = 0; j < a.n_kv; ++j) {
    const std::int32_t block = (*a.blocks)[static_cast<std::size_t>(j / bt)];
    const void* k = c.k_row(a.layer, block, j % bt);
    const float s = (f16 ? dot_f16(q, static_cast<const std::uint16_t*>(k) + k_off, a.head_dim_k)
                         : dot_f32(q, static_cast<const float*>(k) + k_off, a.head_dim_k)) *
                    a.scale;
    scores[j] = s;
    if (s > max_s) max_s = s;
  }
  double sum = 0.0;
  for (std::int32_t j = 0; j < a.n_kv; ++j) {
    const float e = std::exp(scores[j] - max_s);
    scores[j] = e;
    sum += e;
  }
  const float inv = static_cast<float>(1.0 / sum);

  // out: [head_dim_v] = Σ_j p_j V[j]
  std::memset(out, 0, sizeof(float) * static_cast<std::size_t>(a.head_dim_v));
  for (std::int32_t j = 0; j < a.n_kv; ++j) {
    const std::int32_t block = (*a.blocks)[static_cast<std::size_t>(j / bt)];
    const void* v = c.v_row(a.layer, block, j % bt);
    const float p = scores[j] * inv;
    if (f16) {
      const std::uint16_t* vh = static_cast<const std::uint16_t*>(v) + v_off;
      for (std::int32_t d = 0; d < a.head_dim_v; ++d) out[d] += p * kv::half_to_float(vh[d]);
    } else {
      const float* vf = static_cast<const float*>(v) + v_off;
      for (std::int32_t d = 0; d < a.head_dim_v; ++d) out[d] += p * vf[d];
    }
  }
}

}  // namespace huashan::engine
