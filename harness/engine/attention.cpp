// Attention over the paged cache, scalar reference code (F32 or F16 K/V).
#include "harness/engine/attention.hpp"

#include <cmath>
#include <cstring>

#include "harness/engine/cpu_features.hpp"
#include "harness/engine/kv_half.hpp"
#include "harness/engine/libm_expf.hpp"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define HUASHAN_ATTENTION_X86 1
#endif

namespace huashan::engine {

namespace {

// Cache rows of one head lie 16 rows to a block, each row strided by all the
// heads and the blocks scattered, which the hardware prefetcher follows
// poorly when many sequences' caches are read at batch 16; the kernels for
// heads of 64 and more ask for the row `prefetch_ahead` positions on while
// they compute this one (short rows share cache lines: not worth it).
constexpr std::int32_t prefetch_ahead = 8;

inline const std::uint16_t* key_row(const attention_args& a, std::int32_t j) {
  const std::int32_t bt = a.cache->config().block_tokens;
  const std::int32_t block = (*a.blocks)[static_cast<std::size_t>(j / bt)];
  return static_cast<const std::uint16_t*>(a.cache->k_row(a.layer, block, j % bt)) + a.kv_head * a.head_dim_k;
}

inline const std::uint16_t* value_row(const attention_args& a, std::int32_t j) {
  const std::int32_t bt = a.cache->config().block_tokens;
  const std::int32_t block = (*a.blocks)[static_cast<std::size_t>(j / bt)];
  return static_cast<const std::uint16_t*>(a.cache->v_row(a.layer, block, j % bt)) + a.kv_head * a.head_dim_v;
}

// Rows j = 0, 1, ... of one head's keys or values: one block lookup per
// block, then the row stride (row() takes any j; it is cheapest in order).
class cache_rows {
 public:
  cache_rows(const attention_args& a, bool values)
      : a_(a),
        values_(values),
        block_tokens_(a.cache->config().block_tokens),
        stride_(static_cast<std::size_t>(a.cache->shape().n_kv_heads) * (values ? a.head_dim_v : a.head_dim_k)) {}
  const std::uint16_t* row(std::int32_t j) {
    const std::int32_t block = j / block_tokens_;
    if (block != block_) {
      block_ = block;
      base_ = values_ ? value_row(a_, block * block_tokens_) : key_row(a_, block * block_tokens_);
    }
    return base_ + static_cast<std::size_t>(j - block * block_tokens_) * stride_;
  }

 private:
  const attention_args& a_;
  bool values_;
  std::int32_t block_tokens_;
  std::size_t stride_;
  std::int32_t block_ = -1;
  const std::uint16_t* base_ = nullptr;
};

// Locality 3: into L1 (this pass, a few positions on); 2: into L2.
template <int Locality = 3>
inline void prefetch_row(const std::uint16_t* row, std::int32_t n) {
  const auto* p = reinterpret_cast<const char*>(row);
  for (std::int32_t i = 0; i < n * 2; i += 64) __builtin_prefetch(p + i, 0, Locality);
}

// The same head's rows of the row attended next (attention_args::next_blocks),
// fetched into L2 one position per position computed here. Decoding a batch,
// every row's cache comes from memory: without this a row's first KV head
// took ~3.5x its in-cache time (its lines and, on 4 KiB pages, the row's page
// walks), each other head ~1.5x (docs/perf.md).
class next_row_prefetch {
 public:
  next_row_prefetch(const attention_args& a, bool values)
      : next_(a), rows_(next_, values), width_(values ? a.head_dim_v : a.head_dim_k) {
    next_.blocks = a.next_blocks;
    next_.n_kv = a.next_blocks != nullptr ? a.next_n_kv : 0;
    next_.kv_head = a.next_kv_head;
  }
  void at(std::int32_t j) {
    if (j < next_.n_kv) prefetch_row<2>(rows_.row(j), width_);
  }

 private:
  attention_args next_;  // before rows_, which keeps a reference to it
  cache_rows rows_;
  std::int32_t width_;
};

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

// Q·K with Q already rounded to F16, in the order of ggml's F16 row dot
// (vec_dot_f16, x86 AVX2 build): the first n - n % 32 elements go through four
// 8-lane float FMA accumulators (element i into accumulator (i / 8) % 4, lane
// i % 8), reduced as 0+2, 1+3, then 0+1, then the two 4-lane halves and two
// horizontal pair sums; the remaining elements' products (exact in float: two
// halves) are added to that in double, one at a time, and the total rounded
// once. Short rows (stories260K's head size 8) are therefore an exact double
// sum. Any other order differs in the last bit often enough to flip the F16
// V-accumulator roundings.
constexpr std::int32_t half_dot_step = 32;

inline float dot_half_ggml(const float* q_half, const std::uint16_t* k, std::int32_t n) {
  const std::int32_t n_simd = n - n % half_dot_step;
  double s = 0.0;
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
    s = static_cast<double>((half4[0] + half4[1]) + (half4[2] + half4[3]));
  }
  for (std::int32_t i = n_simd; i < n; ++i) s += static_cast<double>(q_half[i] * kv::half_to_float(k[i]));
  return static_cast<float>(s);
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

#ifdef HUASHAN_ATTENTION_X86
bool avx512_available() {
  static const bool available = [] {
    const auto& f = detect_cpu_features();
    return f.avx512f && f.avx512vl && f.avx512bw && f.avx512dq && f.f16c && f.fma;
  }();
  return available;
}

// y[j] = s_j - (running maximum before j) in, softmax weight out: e^y, or
// -e^-y where y > 0 (the key raised the maximum; the sign marks it).
// Whole groups of eight; returns how many were done.
__attribute__((target("avx512f,avx512vl,avx512dq,avx2,fma"))) std::int32_t softmax_exponentials_avx512(
    float* y, std::int32_t n) {
  std::int32_t j = 0;
  for (; j + 8 <= n; j += 8) {
    const __m256 v = _mm256_loadu_ps(y + j);
    const __m256 raised = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_GT_OQ);
    const __m256 sign = _mm256_and_ps(raised, _mm256_set1_ps(-0.0f));  // flips raised lanes (0 to -0 too)
    const __m256 e = libm_expf8(_mm256_xor_ps(v, sign));
    _mm256_storeu_ps(y + j, _mm256_xor_ps(e, sign));
  }
  return j;
}

// softmax_exponentials_avx512 for any n and CPU.
__attribute__((target("avx2,fma"))) void softmax_exponentials(float* y, std::int32_t n) {
  std::int32_t j = avx512_available() ? softmax_exponentials_avx512(y, n) : 0;
  for (; j < n; ++j) y[j] = y[j] > 0.0f ? -libm_expf(-y[j]) : libm_expf(y[j]);
}

// The online softmax of attend_f16, taken out of the V pass so that the pass
// calls no function (a call would push the accumulator registers to memory
// at every key): weights[j] becomes the weight of value row j or, where key j
// raised the running maximum, -ms with the sign bit set (the rescale of what
// was accumulated; that row's own weight is 1). Returns the softmax
// denominator. The same values in the same order as attend_f16.
__attribute__((target("avx2,fma"))) float softmax_weights(float* weights, std::int32_t n) {
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
  softmax_exponentials(weights, n);
  float sum = 0.0f;
  for (std::int32_t j = 0; j < n; ++j) {
    const float w = weights[j];
    sum = std::signbit(w) ? std::fma(sum, -w, 1.0f) : sum + w;
  }
  return sum;
}

// The V pass of attend_f16_avx2 for head sizes 64 and 128 with the F16
// accumulator held in registers (sixteen halves per 512-bit step). Each
// element takes the same steps as in the 8-wide loop (one FMA, one rounding to
// F16), so the results are the same bits.
template <int NV>
__attribute__((target("avx512f,avx512vl,avx2,fma,f16c"))) void values_f16_avx512(const attention_args& a,
                                                                                  const float* weights, float sum,
                                                                                  float* out) {
  const std::size_t v_stride = static_cast<std::size_t>(a.cache->shape().n_kv_heads) * a.head_dim_v;
  const std::int32_t bt = a.cache->config().block_tokens;
  __m256i acc[NV];
  for (int d = 0; d < NV; ++d) acc[d] = _mm256_setzero_si256();
  cache_rows ahead(a, true);
  next_row_prefetch next(a, true);
  const std::uint16_t* v = nullptr;
  for (std::int32_t j = 0; j < a.n_kv; ++j) {
    v = j % bt == 0 ? value_row(a, j) : v + v_stride;
    if (j + prefetch_ahead < a.n_kv) prefetch_row(ahead.row(j + prefetch_ahead), a.head_dim_v);
    next.at(j);
    float vs = weights[j];
    if (std::signbit(vs)) {
      const __m512 m16 = _mm512_set1_ps(-vs);
      for (int d = 0; d < NV; ++d)
        acc[d] = _mm512_cvtps_ph(_mm512_mul_ps(_mm512_cvtph_ps(acc[d]), m16), _MM_FROUND_TO_NEAREST_INT);
      vs = 1.0f;
    }
    const __m512 w16 = _mm512_set1_ps(vs);
    for (int d = 0; d < NV; ++d) {
      const __m512 v16 = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(v + 16 * d)));
      acc[d] = _mm512_cvtps_ph(_mm512_fmadd_ps(v16, w16, _mm512_cvtph_ps(acc[d])), _MM_FROUND_TO_NEAREST_INT);
    }
  }
  const __m512 inv = _mm512_set1_ps(sum == 0.0f ? 0.0f : 1.0f / sum);
  for (int d = 0; d < NV; ++d) _mm512_storeu_ps(out + 16 * d, _mm512_mul_ps(_mm512_cvtph_ps(acc[d]), inv));
}

// values_f16_avx512 for two query heads sharing the value rows: each row is
// converted once and accumulated into both heads' F16 accumulators (the same
// per-element steps, so the same bits).
template <int NV>
__attribute__((target("avx512f,avx512vl,avx2,fma,f16c"))) void values_f16_avx512_pair(
    const attention_args& a, const float* weights0, float sum0, float* out0, const float* weights1, float sum1,
    float* out1) {
  const std::size_t v_stride = static_cast<std::size_t>(a.cache->shape().n_kv_heads) * a.head_dim_v;
  const std::int32_t bt = a.cache->config().block_tokens;
  __m256i acc0[NV], acc1[NV];
  for (int d = 0; d < NV; ++d) acc0[d] = acc1[d] = _mm256_setzero_si256();
  cache_rows ahead(a, true);
  next_row_prefetch next(a, true);
  const std::uint16_t* v = nullptr;
  for (std::int32_t j = 0; j < a.n_kv; ++j) {
    v = j % bt == 0 ? value_row(a, j) : v + v_stride;
    if (j + prefetch_ahead < a.n_kv) prefetch_row(ahead.row(j + prefetch_ahead), a.head_dim_v);
    next.at(j);
    float vs0 = weights0[j], vs1 = weights1[j];
    if (std::signbit(vs0)) {
      const __m512 m16 = _mm512_set1_ps(-vs0);
      for (int d = 0; d < NV; ++d)
        acc0[d] = _mm512_cvtps_ph(_mm512_mul_ps(_mm512_cvtph_ps(acc0[d]), m16), _MM_FROUND_TO_NEAREST_INT);
      vs0 = 1.0f;
    }
    if (std::signbit(vs1)) {
      const __m512 m16 = _mm512_set1_ps(-vs1);
      for (int d = 0; d < NV; ++d)
        acc1[d] = _mm512_cvtps_ph(_mm512_mul_ps(_mm512_cvtph_ps(acc1[d]), m16), _MM_FROUND_TO_NEAREST_INT);
      vs1 = 1.0f;
    }
    const __m512 w0 = _mm512_set1_ps(vs0), w1 = _mm512_set1_ps(vs1);
    for (int d = 0; d < NV; ++d) {
      const __m512 v16 = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(v + 16 * d)));
      acc0[d] = _mm512_cvtps_ph(_mm512_fmadd_ps(v16, w0, _mm512_cvtph_ps(acc0[d])), _MM_FROUND_TO_NEAREST_INT);
      acc1[d] = _mm512_cvtps_ph(_mm512_fmadd_ps(v16, w1, _mm512_cvtph_ps(acc1[d])), _MM_FROUND_TO_NEAREST_INT);
    }
  }
  const __m512 inv0 = _mm512_set1_ps(sum0 == 0.0f ? 0.0f : 1.0f / sum0);
  const __m512 inv1 = _mm512_set1_ps(sum1 == 0.0f ? 0.0f : 1.0f / sum1);
  for (int d = 0; d < NV; ++d) {
    _mm512_storeu_ps(out0 + 16 * d, _mm512_mul_ps(_mm512_cvtph_ps(acc0[d]), inv0));
    _mm512_storeu_ps(out1 + 16 * d, _mm512_mul_ps(_mm512_cvtph_ps(acc1[d]), inv1));
  }
}

bool values_avx512(const attention_args& a, const float* weights, float sum, float* out) {
  if (!avx512_available()) return false;
  switch (a.head_dim_v) {
    case 64: values_f16_avx512<4>(a, weights, sum, out); return true;
    case 128: values_f16_avx512<8>(a, weights, sum, out); return true;
    default: return false;
  }
}

__attribute__((target("avx2,fma,f16c"))) inline __m256 load_half8(const std::uint16_t* k) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(k)));
}

// The end of dot_half_ggml from accumulator 0 + 1 (after 0+2 and 1+3): the
// two 4-lane halves, two horizontal pair sums, then the tail in double.
__attribute__((target("avx2,fma,f16c"))) inline float finish_half_dot(__m256 acc01, const float* q_half,
                                                                      const std::uint16_t* k, std::int32_t n_simd,
                                                                      std::int32_t n) {
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(acc01), _mm256_extractf128_ps(acc01, 1));
  h = _mm_hadd_ps(h, h);
  h = _mm_hadd_ps(h, h);
  double s = static_cast<double>(_mm_cvtss_f32(h));
  for (std::int32_t i = n_simd; i < n; ++i) s += static_cast<double>(q_half[i] * kv::half_to_float(k[i]));
  return static_cast<float>(s);
}

// The reduction and tail of dot_half_ggml for one key's four accumulators.
__attribute__((target("avx2,fma,f16c"))) inline float finish_half_dot(__m256* acc, const float* q_half,
                                                                      const std::uint16_t* k, std::int32_t n_simd,
                                                                      std::int32_t n) {
  acc[0] = _mm256_add_ps(acc[0], acc[2]);
  acc[1] = _mm256_add_ps(acc[1], acc[3]);
  return finish_half_dot(_mm256_add_ps(acc[0], acc[1]), q_half, k, n_simd, n);
}

// dot_half_ggml for rows of 32 or more, two keys at a time so that eight FMA
// chains are in flight.
__attribute__((target("avx2,fma,f16c"))) void scores_f16_long(const attention_args& a, const __m256* qh,
                                                               const float* q_half, float* scores) {
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
        acc0[u] = _mm256_fmadd_ps(load_half8(k0 + i + 8 * u), qh[i / 8 + u], acc0[u]);
        acc1[u] = _mm256_fmadd_ps(load_half8(k1 + i + 8 * u), qh[i / 8 + u], acc1[u]);
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
      for (int u = 0; u < 4; ++u) acc0[u] = _mm256_fmadd_ps(load_half8(k0 + i + 8 * u), qh[i / 8 + u], acc0[u]);
    scores[j] = finish_half_dot(acc0, q_half, k0, n_simd, n) * a.scale;
  }
}

// The V pass for any head size that is a multiple of 8, with NV 8-wide steps
// (NV = 0: head_dim_v / 8 of them, the accumulator then in memory; 1, 2, 4:
// heads of 8, 16, 32 with the accumulator in registers). Same steps per
// element as attend_f16.
template <int NV>
__attribute__((target("avx2,fma,f16c"))) void values_f16_avx2(const attention_args& a, const float* weights,
                                                                float sum, float* out) {
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
      const __m256 v8 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(v + 8 * d)));
      acc[d] = _mm256_cvtps_ph(_mm256_fmadd_ps(v8, w8, _mm256_cvtph_ps(acc[d])), _MM_FROUND_TO_NEAREST_INT);
    }
  }
  const __m256 inv = _mm256_set1_ps(sum == 0.0f ? 0.0f : 1.0f / sum);
  for (std::int32_t d = 0; d < nv; ++d) _mm256_storeu_ps(out + 8 * d, _mm256_mul_ps(_mm256_cvtph_ps(acc[d]), inv));
}

void values_f16(const attention_args& a, const float* weights, float sum, float* out) {
  switch (a.head_dim_v) {
    case 8: values_f16_avx2<1>(a, weights, sum, out); return;
    case 16: values_f16_avx2<2>(a, weights, sum, out); return;
    case 32: values_f16_avx2<4>(a, weights, sum, out); return;
    default:
      if (!values_avx512(a, weights, sum, out)) values_f16_avx2<0>(a, weights, sum, out);
  }
}

// scores_f16_long for two query heads that share the key rows, with AVX-512:
// each key row is converted once and multiplied into both heads' chains, and
// ggml's four 8-lane accumulators sit two to a 512-bit register (elements
// i..i+7 and i+8..i+15 of each 32 in the two halves of one, the next sixteen
// in the other), so every lane takes the same FMAs in the same order and the
// reduction adds the same pairs: the same bits as dot_half_ggml.
__attribute__((target("avx512f,avx2"))) inline __m256 upper_half(__m512 x) {
  return _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1));
}

// The end of dot_half_ggml for eight keys at once, from each key's
// accumulators 0+2 (low half) and 1+3 (high half): the same pairs added in
// the same order as finish_half_dot (0+1, the two 4-lane halves, then
// adjacent pairs twice), but eight keys share each add, the shuffles lining
// them up. Only for rows without a tail (the double sum of no elements is
// the float itself). Returns the eight sums, key 0 in lane 0.
__attribute__((target("avx512f,avx512vl,avx2"))) inline __m256 finish_half_dots8(const __m512* s) {
  // [A_k, A_k+1] + [B_k, B_k+1]: accumulator 0+1, two keys per register.
  __m512 r[4];
  for (int i = 0; i < 4; ++i) {
    const __m512 lo = _mm512_shuffle_f32x4(s[2 * i], s[2 * i + 1], _MM_SHUFFLE(1, 0, 1, 0));
    const __m512 hi = _mm512_shuffle_f32x4(s[2 * i], s[2 * i + 1], _MM_SHUFFLE(3, 2, 3, 2));
    r[i] = _mm512_add_ps(lo, hi);
  }
  // Lanes m + lanes m + 4: four keys' 4-lane halves per register.
  __m512 h[2];
  for (int i = 0; i < 2; ++i) {
    const __m512 lo = _mm512_shuffle_f32x4(r[2 * i], r[2 * i + 1], _MM_SHUFFLE(2, 0, 2, 0));
    const __m512 hi = _mm512_shuffle_f32x4(r[2 * i], r[2 * i + 1], _MM_SHUFFLE(3, 1, 3, 1));
    h[i] = _mm512_add_ps(lo, hi);
  }
  // 128-bit lane j now holds key j of h[0] and key j + 4 of h[1]: the two
  // horizontal pair sums.
  const __m512 c = _mm512_add_ps(_mm512_shuffle_ps(h[0], h[1], _MM_SHUFFLE(2, 0, 2, 0)),
                                 _mm512_shuffle_ps(h[0], h[1], _MM_SHUFFLE(3, 1, 3, 1)));
  const __m512 d = _mm512_add_ps(_mm512_shuffle_ps(c, c, _MM_SHUFFLE(2, 0, 2, 0)),
                                 _mm512_shuffle_ps(c, c, _MM_SHUFFLE(3, 1, 3, 1)));
  // Element 4j is key j, element 4j + 1 key j + 4.
  const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 0, 0, 0, 0, 0, 0, 0, 0);
  return _mm512_castps512_ps256(_mm512_permutexvar_ps(order, d));
}

// One key row's ggml dot accumulators for two heads' Q (sixteen floats per
// register), folded to accumulators 0+2 (low half) and 1+3 (high half).
__attribute__((target("avx512f,avx512vl,avx2,fma,f16c"))) inline void pair_dot_accumulators(
    const std::uint16_t* k, const __m512* q0, const __m512* q1, std::int32_t n_simd, __m512& s0, __m512& s1) {
  __m512 acc0[2], acc1[2];  // [0]: accumulators 0 and 1, [1]: 2 and 3
  for (int u = 0; u < 2; ++u) acc0[u] = acc1[u] = _mm512_setzero_ps();
  for (std::int32_t i = 0; i < n_simd; i += half_dot_step) {
    for (int u = 0; u < 2; ++u) {
      const __m512 k16 = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(k + i + 16 * u)));
      acc0[u] = _mm512_fmadd_ps(k16, q0[i / 16 + u], acc0[u]);
      acc1[u] = _mm512_fmadd_ps(k16, q1[i / 16 + u], acc1[u]);
    }
  }
  s0 = _mm512_add_ps(acc0[0], acc0[1]);
  s1 = _mm512_add_ps(acc1[0], acc1[1]);
}

__attribute__((target("avx512f,avx512vl,avx2,fma,f16c"))) void scores_f16_long_pair(const attention_args& a,
                                                                                      const float* q_half0,
                                                                                      const float* q_half1,
                                                                                      float* scores0,
                                                                                      float* scores1) {
  const std::int32_t n = a.head_dim_k;
  const std::int32_t n_simd = n - n % half_dot_step;
  __m512 q0[max_head_dim / 16], q1[max_head_dim / 16];
  for (std::int32_t i = 0; i < n_simd / 16; ++i) {
    q0[i] = _mm512_loadu_ps(q_half0 + 16 * i);
    q1[i] = _mm512_loadu_ps(q_half1 + 16 * i);
  }
  cache_rows keys(a, false), ahead(a, false);
  next_row_prefetch next(a, false);
  std::int32_t j = 0;
  if (n_simd == n) {
    const __m256 scale = _mm256_set1_ps(a.scale);
    for (; j + 8 <= a.n_kv; j += 8) {
      __m512 s0[8], s1[8];
      for (int t = 0; t < 8; ++t) {
        if (j + t + prefetch_ahead < a.n_kv) prefetch_row(ahead.row(j + t + prefetch_ahead), n);
        next.at(j + t);
        pair_dot_accumulators(keys.row(j + t), q0, q1, n_simd, s0[t], s1[t]);
      }
      _mm256_storeu_ps(scores0 + j, _mm256_mul_ps(finish_half_dots8(s0), scale));
      _mm256_storeu_ps(scores1 + j, _mm256_mul_ps(finish_half_dots8(s1), scale));
    }
  }
  for (; j < a.n_kv; ++j) {
    const std::uint16_t* k = keys.row(j);
    if (j + prefetch_ahead < a.n_kv) prefetch_row(ahead.row(j + prefetch_ahead), n);
    next.at(j);
    __m512 s0, s1;
    pair_dot_accumulators(k, q0, q1, n_simd, s0, s1);
    scores0[j] = finish_half_dot(_mm256_add_ps(_mm512_castps512_ps256(s0), upper_half(s0)), q_half0, k, n_simd, n) * a.scale;
    scores1[j] = finish_half_dot(_mm256_add_ps(_mm512_castps512_ps256(s1), upper_half(s1)), q_half1, k, n_simd, n) * a.scale;
  }
}

// attend_f16 for heads shorter than the F16 dot's 32-element step, in one
// pass: with so few elements the V accumulator's chain (convert, FMA, round,
// every key) is the critical path, and the next keys' scores and weights,
// which do not depend on it, overlap with it here instead of waiting for it
// in a separate pass. Same steps per element as attend_f16.
template <int NV>
__attribute__((target("avx2,fma,f16c"))) void attend_f16_short(const attention_args& a, const __m256* qh,
                                                                float* out) {
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
      _mm256_store_ps(p, _mm256_mul_ps(qh[i], load_half8(k + 8 * i)));
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
      const __m256 v8 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(v + 8 * d)));
      acc[d] = _mm256_cvtps_ph(_mm256_fmadd_ps(v8, w8, _mm256_cvtph_ps(acc[d])), _MM_FROUND_TO_NEAREST_INT);
    }
    sum = std::fma(sum, ms, vs);
  }
  const __m256 inv = _mm256_set1_ps(sum == 0.0f ? 0.0f : 1.0f / sum);
  for (int d = 0; d < NV; ++d) _mm256_storeu_ps(out + 8 * d, _mm256_mul_ps(_mm256_cvtph_ps(acc[d]), inv));
}

// attend_f16 with F16C conversions and 8-wide FMA; head sizes must be multiples
// of 8. Every step rounds as the scalar code does (the same FMAs and sums in
// the same order, the V accumulator rounded to F16 after each FMA), so the
// results are the same bits (tested).
__attribute__((target("avx2,fma,f16c"))) void attend_f16_avx2(const attention_args& a, const float* q,
                                                                float* scores, float* out) {
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
  const float sum = softmax_weights(scores, a.n_kv);
  values_f16(a, scores, sum, out);
}
// Two query heads of one KV head (grouped-query attention) in one pass over
// its rows, for the AVX-512 V pass's head sizes; false (nothing done) when the
// heads or the CPU do not fit. scores: scratch of 2 x n_kv floats.
__attribute__((target("avx2,fma,f16c"))) bool attend_pair_f16(const attention_args& a, const float* q,
                                                               float* scores, float* out) {
  if (!avx512_available() || a.head_dim_k < half_dot_step || a.head_dim_k % 8 != 0 ||
      (a.head_dim_v != 64 && a.head_dim_v != 128))
    return false;
  const std::int32_t nk = a.head_dim_k / 8;
  alignas(32) float q_half[2][max_head_dim];
  for (int h = 0; h < 2; ++h)
    for (std::int32_t i = 0; i < nk; ++i)
      _mm256_store_ps(q_half[h] + 8 * i, _mm256_cvtph_ps(_mm256_cvtps_ph(_mm256_loadu_ps(q + h * a.head_dim_k + 8 * i),
                                                                          _MM_FROUND_TO_NEAREST_INT)));
  float* scores1 = scores + a.n_kv;
  scores_f16_long_pair(a, q_half[0], q_half[1], scores, scores1);
  const float sum0 = softmax_weights(scores, a.n_kv);
  const float sum1 = softmax_weights(scores1, a.n_kv);
  float* out1 = out + a.head_dim_v;
  if (a.head_dim_v == 64) {
    values_f16_avx512_pair<4>(a, scores, sum0, out, scores1, sum1, out1);
  } else {
    values_f16_avx512_pair<8>(a, scores, sum0, out, scores1, sum1, out1);
  }
  return true;
}

// Short heads side by side: up to eight query heads of one row, one head per
// lane, so that the per-key chains (the running maximum, the softmax sum, the
// F16 V accumulator) of all of them advance together instead of one head
// after another, and the exponentials run eight at a time. The heads' K (V)
// elements of one position must lie within 32 halves (two 512-bit registers
// of floats, from which permutes pick each lane's element). Every head takes
// attend_f16's steps in its order, so its result is the same bits.
struct lane_heads {
  std::int32_t first_head = 0;  // query head in lane 0
  std::int32_t n_heads = 0;     // lanes used, at most 8
  std::int32_t first_kv = 0;    // KV head of lane 0
  std::int32_t kv_lane[8] = {}; // each lane's KV head relative to first_kv
};

// At most 32 halves of K or V, and for heads of 16 values at most four of them
// (four accumulator registers of sixteen halves).
constexpr std::int32_t lane_span = 32;
constexpr int lane_vectors = 4;

lane_heads plan_lanes(std::int32_t first_head, std::int32_t n_heads_left, std::int32_t group, std::int32_t head_dim_k,
                      std::int32_t head_dim_v) {
  lane_heads p;
  p.first_head = first_head;
  p.first_kv = first_head / group;
  const std::int32_t widest = std::max(head_dim_k, head_dim_v);
  const std::int32_t max_heads = std::min<std::int32_t>(8, lane_vectors * 16 / head_dim_v);
  while (p.n_heads < std::min(max_heads, n_heads_left)) {
    const std::int32_t kv = (first_head + p.n_heads) / group - p.first_kv;
    if ((kv + 1) * widest > lane_span) break;
    p.kv_lane[p.n_heads++] = kv;
  }
  return p;
}

// The V pass of attend_lanes with NV accumulator registers of sixteen halves
// (vector u holds lanes u·16/HDV onwards): weights[8j + l] is lane l's e^y at
// key j, raised[j] marks the lanes whose maximum key j raised.
template <int HDV, int NV>
__attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,f16c"))) void lane_values(
    const attention_args& a, const lane_heads& p, const float* weights, const std::uint8_t* raised, float* out) {
  const std::int32_t bt = a.cache->config().block_tokens;
  const std::size_t v_stride = static_cast<std::size_t>(a.cache->shape().n_kv_heads) * HDV;
  const std::int32_t n_kv_span = p.kv_lane[p.n_heads - 1] + 1;
  const auto v_mask = static_cast<__mmask32>((1ull << (n_kv_span * HDV)) - 1);
  // v_pick spreads the lanes' V elements over the accumulators, w_pick their weights.
  constexpr int heads_per_vector = 16 / HDV;
  __m512i v_pick[NV], w_pick[NV];
  for (int u = 0; u < NV; ++u) {
    alignas(64) std::int32_t vp[16] = {}, wp[16] = {};
    for (int m = 0; m < 16; ++m) {
      const int l = u * heads_per_vector + m / HDV;
      if (l >= p.n_heads) continue;
      vp[m] = p.kv_lane[l] * HDV + m % HDV;
      wp[m] = l;
    }
    v_pick[u] = _mm512_load_si512(vp);
    w_pick[u] = _mm512_load_si512(wp);
  }
  const __m256 one = _mm256_set1_ps(1.0f);
  __m256i acc[NV];
  for (auto& x : acc) x = _mm256_setzero_si256();
  __m256 sum = _mm256_setzero_ps();
  const std::uint16_t* v = nullptr;
  for (std::int32_t j = 0; j < a.n_kv; ++j) {
    v = j % bt == 0 ? value_row(a, j) : v + v_stride;
    const __m512i halves = _mm512_maskz_loadu_epi16(v_mask, v);
    const __m512 lo = _mm512_cvtph_ps(_mm512_castsi512_si256(halves));
    const __m512 hi = _mm512_cvtph_ps(_mm512_extracti64x4_epi64(halves, 1));
    const __m256 e = _mm256_loadu_ps(weights + 8 * static_cast<std::size_t>(j));
    __m256 m = one;  // rescale of what was accumulated
    __m256 w = e;    // weight of this value row
    if (const __mmask8 up = raised[j]; up != 0) {
      m = _mm256_mask_blend_ps(up, one, e);
      w = _mm256_mask_blend_ps(up, e, one);
      const __m512 m16 = _mm512_castps256_ps512(m);
      for (int u = 0; u < NV; ++u) {
        acc[u] = _mm512_cvtps_ph(_mm512_mul_ps(_mm512_cvtph_ps(acc[u]), _mm512_permutexvar_ps(w_pick[u], m16)),
                                 _MM_FROUND_TO_NEAREST_INT);
      }
    }
    const __m512 w16 = _mm512_castps256_ps512(w);
    for (int u = 0; u < NV; ++u) {
      const __m512 vu = _mm512_permutex2var_ps(lo, v_pick[u], hi);
      acc[u] = _mm512_cvtps_ph(_mm512_fmadd_ps(vu, _mm512_permutexvar_ps(w_pick[u], w16), _mm512_cvtph_ps(acc[u])),
                               _MM_FROUND_TO_NEAREST_INT);
    }
    sum = _mm256_fmadd_ps(sum, m, w);
  }
  const __m256 nonzero = _mm256_cmp_ps(sum, _mm256_setzero_ps(), _CMP_NEQ_UQ);
  const __m512 inv = _mm512_castps256_ps512(_mm256_and_ps(_mm256_div_ps(one, sum), nonzero));
  for (int u = 0; u < NV; ++u) {
    const std::int32_t n_out = std::min<std::int32_t>(16, p.n_heads * HDV - u * 16);
    const auto out_mask = static_cast<__mmask16>((1u << n_out) - 1);
    _mm512_mask_storeu_ps(out + u * 16, out_mask,
                          _mm512_mul_ps(_mm512_cvtph_ps(acc[u]), _mm512_permutexvar_ps(w_pick[u], inv)));
  }
}

template <int HDK, int HDV>
__attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,f16c"))) void attend_lanes(
    const attention_args& args, const lane_heads& p, const float* q, float* weights, std::uint8_t* raised,
    float* out) {
  attention_args a = args;
  a.kv_head = p.first_kv;
  const std::int32_t bt = a.cache->config().block_tokens;
  const std::int32_t n_kv_heads = a.cache->shape().n_kv_heads;
  const std::size_t k_stride = static_cast<std::size_t>(n_kv_heads) * HDK;
  const std::int32_t n_kv_span = p.kv_lane[p.n_heads - 1] + 1;
  const auto k_mask = static_cast<__mmask32>((1ull << (n_kv_span * HDK)) - 1);
  const auto used = static_cast<std::uint8_t>((1u << p.n_heads) - 1);

  // Q rounded to F16, element i of every lane's head in q_lanes[i]; kv_pick[i]
  // picks element i of each lane's K head from the 32 converted halves.
  __m256 q_lanes[HDK];
  __m512i k_pick[HDK];
  for (int i = 0; i < HDK; ++i) {
    alignas(32) float qi[8] = {};
    alignas(64) std::int32_t pick[16] = {};
    for (std::int32_t l = 0; l < p.n_heads; ++l) {
      qi[l] = kv::half_to_float(kv::float_to_half(q[l * HDK + i]));
      pick[l] = p.kv_lane[l] * HDK + i;
    }
    q_lanes[i] = _mm256_load_ps(qi);
    k_pick[i] = _mm512_load_si512(pick);
  }
  const __m256 scale = _mm256_set1_ps(a.scale);

  // Two passes over the keys: the scores, four keys side by side, then the
  // running maximum and the exponentials. A key's double sum is a long chain
  // of dependent additions, and with the rest of the key's work in the same
  // loop the CPU overlapped too few keys (stories260K's geometry, one row of
  // 160 keys: 4.3 µs in one pass, 3.8 in these two; a third pass for the
  // exponentials alone was no faster). The scores go lane by lane as
  // dot_half_ggml sums a short row (exact products added in double from 0).
  constexpr int keys_at_once = 4;
  const std::uint16_t* k = nullptr;
  for (std::int32_t j = 0; j < a.n_kv; j += keys_at_once) {
    const int n = std::min<std::int32_t>(keys_at_once, a.n_kv - j);
    __m512 lo[keys_at_once], hi[keys_at_once];
    __m512d dot[keys_at_once];
    for (int u = 0; u < keys_at_once; ++u) {
      if (u < n) k = (j + u) % bt == 0 ? key_row(a, j + u) : k + k_stride;
      const __m512i halves = _mm512_maskz_loadu_epi16(u < n ? k_mask : 0, k);  // nothing read past the last key
      lo[u] = _mm512_cvtph_ps(_mm512_castsi512_si256(halves));
      hi[u] = _mm512_cvtph_ps(_mm512_extracti64x4_epi64(halves, 1));
      dot[u] = _mm512_setzero_pd();
    }
    for (int i = 0; i < HDK; ++i) {
      for (int u = 0; u < keys_at_once; ++u) {
        const __m256 ki = _mm512_castps512_ps256(_mm512_permutex2var_ps(lo[u], k_pick[i], hi[u]));
        dot[u] = _mm512_add_pd(dot[u], _mm512_cvtps_pd(_mm256_mul_ps(ki, q_lanes[i])));
      }
    }
    for (int u = 0; u < n; ++u)
      _mm256_storeu_ps(weights + 8 * static_cast<std::size_t>(j + u), _mm256_mul_ps(_mm512_cvtpd_ps(dot[u]), scale));
  }
  // Then y = s - (running maximum before the key), and e^y, or the rescale
  // e^-y where the key raised the maximum.
  __m256 max_s = _mm256_set1_ps(-INFINITY);
  for (std::int32_t j = 0; j < a.n_kv; ++j) {
    float* w = weights + 8 * static_cast<std::size_t>(j);
    const __m256 s = _mm256_loadu_ps(w);
    const __m256 up = _mm256_cmp_ps(s, max_s, _CMP_GT_OQ);
    const __m256 y = _mm256_sub_ps(s, max_s);
    max_s = _mm256_blendv_ps(max_s, s, up);
    raised[j] = static_cast<std::uint8_t>(_mm256_movemask_ps(up)) & used;
    _mm256_storeu_ps(w, libm_expf8(_mm256_xor_ps(y, _mm256_and_ps(up, _mm256_set1_ps(-0.0f)))));
  }

  switch ((p.n_heads * HDV + 15) / 16) {
    case 1: lane_values<HDV, 1>(a, p, weights, raised, out); return;
    case 2: lane_values<HDV, 2>(a, p, weights, raised, out); return;
    case 3: lane_values<HDV, 3>(a, p, weights, raised, out); return;
    default: lane_values<HDV, 4>(a, p, weights, raised, out); return;
  }
}

using lanes_kernel = void (*)(const attention_args&, const lane_heads&, const float*, float*, std::uint8_t*, float*);

// The attend_lanes instance for these head sizes, or nullptr where it does
// not apply (another cache type or CPU, heads of 32 and more).
lanes_kernel lanes_kernel_for(const kv_cache& cache, std::int32_t head_dim_k, std::int32_t head_dim_v) {
  if (cache.config().type != kv_type::f16 || !avx512_available()) return nullptr;
  const int key = head_dim_k * 100 + head_dim_v;
  switch (key) {
    case 808: return attend_lanes<8, 8>;
    case 1608: return attend_lanes<16, 8>;
    case 2408: return attend_lanes<24, 8>;
    case 816: return attend_lanes<8, 16>;
    case 1616: return attend_lanes<16, 16>;
    default: return nullptr;
  }
}
#endif
}  // namespace

void attend(const attention_args& a, const float* q, float* scores, float* out) {
#ifdef HUASHAN_ATTENTION_X86
  static const bool simd = [] {
    const auto& f = detect_cpu_features();
    return f.avx2 && f.fma && f.f16c;
  }();
  // Heads shorter than 32 (the F16 dot's step) go through the fused pass, which
  // keeps up to 24 values in registers; longer values with such short keys
  // (no model we know) take the scalar code.
  const bool short_keys_long_values = a.head_dim_k < half_dot_step && a.head_dim_v > 24;
  if (simd && a.cache->config().type == kv_type::f16 && a.head_dim_k % 8 == 0 && a.head_dim_v % 8 == 0 &&
      !short_keys_long_values) {
    attend_f16_avx2(a, q, scores, out);
    return;
  }
#endif
  attend_reference(a, q, scores, out);
}

void attend_group(const attention_args& a, const float* q, std::int32_t n_q, float* scores, float* out) {
  std::int32_t h = 0;
#ifdef HUASHAN_ATTENTION_X86
  if (a.cache->config().type == kv_type::f16) {
    for (; h + 2 <= n_q; h += 2) {
      if (!attend_pair_f16(a, q + static_cast<std::ptrdiff_t>(h) * a.head_dim_k, scores,
                           out + static_cast<std::ptrdiff_t>(h) * a.head_dim_v))
        break;
    }
  }
#endif
  for (; h < n_q; ++h)
    attend(a, q + static_cast<std::ptrdiff_t>(h) * a.head_dim_k, scores, out + static_cast<std::ptrdiff_t>(h) * a.head_dim_v);
}

std::int32_t attend_heads_span(const kv_cache& cache, std::int32_t head_dim_k, std::int32_t head_dim_v,
                               std::int32_t n_kv_heads) {
#ifdef HUASHAN_ATTENTION_X86
  if (lanes_kernel_for(cache, head_dim_k, head_dim_v) != nullptr) return n_kv_heads;
#else
  (void)cache, (void)head_dim_k, (void)head_dim_v, (void)n_kv_heads;
#endif
  return 1;
}

void attend_heads(const attention_args& a, std::int32_t n_kv_heads, std::int32_t group, const float* q,
                  std::vector<float>& scratch, float* out) {
  const std::int32_t n_q = n_kv_heads * group;
  const auto scratch_floats = static_cast<std::size_t>(a.n_kv) * 10;  // 8 weights and the raised flags per key
  if (scratch.size() < scratch_floats) scratch.resize(scratch_floats);
#ifdef HUASHAN_ATTENTION_X86
  if (const lanes_kernel kernel = lanes_kernel_for(*a.cache, a.head_dim_k, a.head_dim_v); kernel != nullptr) {
    auto* raised = reinterpret_cast<std::uint8_t*>(scratch.data() + static_cast<std::size_t>(a.n_kv) * 8);
    const std::int32_t first = a.kv_head * group;
    for (std::int32_t h = 0; h < n_q;) {
      const lane_heads p = plan_lanes(first + h, n_q - h, group, a.head_dim_k, a.head_dim_v);
      kernel(a, p, q + static_cast<std::ptrdiff_t>(h) * a.head_dim_k, scratch.data(), raised,
             out + static_cast<std::ptrdiff_t>(h) * a.head_dim_v);
      h += p.n_heads;
    }
    return;
  }
#endif
  attention_args one = a;
  for (std::int32_t g = 0; g < n_kv_heads; ++g) {
    one.kv_head = a.kv_head + g;
    attend_group(one, q + static_cast<std::ptrdiff_t>(g) * group * a.head_dim_k, group, scratch.data(),
                 out + static_cast<std::ptrdiff_t>(g) * group * a.head_dim_v);
  }
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
