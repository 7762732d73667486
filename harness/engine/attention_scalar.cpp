// The plain reference of attention over the paged cache, for either cache
// type: what every SIMD kernel (attention_avx2.cpp, attention_avx512.cpp) is
// tested against bit for bit, and what runs where they do not apply. Compiled
// without SIMD flags, so it runs on any CPU.
#include <cmath>
#include <cstring>

#include "harness/engine/attention.hpp"
#include "harness/engine/attention_internal.hpp"
#include "harness/engine/kv_half.hpp"
#include "harness/engine/libm_expf.hpp"

namespace huashan::engine {

namespace {

float dot_f32(const float* a, const float* b, std::int32_t n) {
  float s = 0.0f;
  for (std::int32_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

float dot_f16(const float* a, const std::uint16_t* b, std::int32_t n) {
  float s = 0.0f;
  for (std::int32_t i = 0; i < n; ++i) s += a[i] * kv::half_to_float(b[i]);
  return s;
}

// Q·K with Q already rounded to F16, in the order of ggml's F16 row dot
// (vec_dot_f16, x86 AVX2 build): the first n - n % 32 elements go through four
// 8-lane float FMA accumulators (element i into accumulator (i / 8) % 4, lane
// i % 8), reduced as 0+2, 1+3, then 0+1, then the two 4-lane halves and two
// horizontal pair sums; the remaining elements' products (exact in float: two
// halves) are added to that in double, one at a time, and the total rounded
// once (half_dot_tail). Short rows (stories260K's head size 8) are therefore
// an exact double sum. Any other order differs in the last bit often enough to
// flip the F16 V-accumulator roundings.
float dot_half_ggml(const float* q_half, const std::uint16_t* k, std::int32_t n) {
  const std::int32_t n_simd = n - n % half_dot_step;
  float vector_sum = 0.0f;
  if (n_simd > 0) {
    float acc[4][8] = {};
    for (std::int32_t i = 0; i < n_simd; i += half_dot_step)
      for (int a = 0; a < 4; ++a)
        for (int l = 0; l < 8; ++l) {
          const std::int32_t e = i + a * 8 + l;
          acc[a][l] = std::fma(kv::half_to_float(k[e]), q_half[e], acc[a][l]);
        }
    float half4[4];
    for (int l = 0; l < 8; ++l) {
      acc[0][l] += acc[2][l];
      acc[1][l] += acc[3][l];
      acc[0][l] += acc[1][l];
    }
    for (int l = 0; l < 4; ++l) half4[l] = acc[0][l] + acc[0][l + 4];
    vector_sum = (half4[0] + half4[1]) + (half4[2] + half4[3]);
  }
  return half_dot_tail(vector_sum, q_half, k, n_simd, n);
}

// F16 cache: the numerics of ggml's CPU flash attention (what llama.cpp runs by
// default, and what our goldens come from): Q rounded to F16, Q·K as ggml's
// F16 dot (dot_half_ggml), online softmax, and the V accumulator itself kept in F16 (rounded
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
    const float s = dot_half_ggml(qh, k, a.head_dim_k) * a.scale;
    float ms = 1.0f;  // rescale of what was accumulated so far
    float vs = 1.0f;  // weight of this value row
    if (s > max_s) {
      ms = libm_expf(max_s - s);
      max_s = s;
      for (std::int32_t d = 0; d < a.head_dim_v; ++d) acc[d] = kv::float_to_half(kv::half_to_float(acc[d]) * ms);
    } else {
      vs = libm_expf(s - max_s);
    }
    for (std::int32_t d = 0; d < a.head_dim_v; ++d) {
      acc[d] = kv::float_to_half(std::fma(kv::half_to_float(v[d]), vs, kv::half_to_float(acc[d])));
    }
    sum = std::fma(sum, ms, vs);
  }
  const float inv = sum == 0.0f ? 0.0f : 1.0f / sum;
  for (std::int32_t d = 0; d < a.head_dim_v; ++d) out[d] = kv::half_to_float(acc[d]) * inv;
}

}  // namespace

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
