// Attention kernels for AVX-512 (F, VL, BW, DQ on top of AVX2/FMA/F16C: Skylake-X,
// Zen 4 and later), compiled with those -m flags (see CMakeLists.txt) and called
// only after run-time detection (attention.cpp): the V pass of heads of 64 and
// 128 with the F16 accumulator held in registers, two query heads sharing one
// pass over their rows, short heads run side by side one per lane, and the
// softmax exponentials eight at a time. Each takes the reference's steps per
// element in its order (attention_scalar.cpp), so the results are the same bits.
#include "harness/engine/attention_internal.hpp"

#if defined(__AVX512F__) && defined(__AVX512VL__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && \
    defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "harness/engine/kv_half.hpp"
#include "harness/engine/libm_expf.hpp"
#include "harness/engine/simd_x86.hpp"

namespace huashan::engine::avx512 {

namespace {

// The V pass of avx2::attend_f16 for H query heads (one, or two sharing the
// value rows) of 16·NV values, the F16 accumulators held in registers
// (sixteen halves per 512-bit step): each row is converted once and
// accumulated into every head's accumulator. Each element takes the same steps
// as in the 8-wide loop (one FMA, one rounding to F16), so the results are the
// same bits. weights[h], sums[h], outs[h]: head h's softmax_weights and output.
template <int NV, int H>
void values_f16_heads(const attention_args& a, const float* const* weights, const float* sums, float* const* outs) {
  const std::size_t v_stride = static_cast<std::size_t>(a.cache->shape().n_kv_heads) * a.head_dim_v;
  const std::int32_t bt = a.cache->config().block_tokens;
  __m256i acc[H][NV];
  for (int h = 0; h < H; ++h)
    for (int d = 0; d < NV; ++d) acc[h][d] = _mm256_setzero_si256();
  cache_rows ahead(a, true);
  next_row_prefetch next(a, true);
  const std::uint16_t* v = nullptr;
  for (std::int32_t j = 0; j < a.n_kv; ++j) {
    v = j % bt == 0 ? value_row(a, j) : v + v_stride;
    if (j + prefetch_ahead < a.n_kv) prefetch_row(ahead.row(j + prefetch_ahead), a.head_dim_v);
    next.at(j);
    __m512 w[H];
    for (int h = 0; h < H; ++h) {
      float vs = weights[h][j];
      if (std::signbit(vs)) {
        const __m512 m16 = _mm512_set1_ps(-vs);
        for (int d = 0; d < NV; ++d)
          acc[h][d] = _mm512_cvtps_ph(_mm512_mul_ps(_mm512_cvtph_ps(acc[h][d]), m16), _MM_FROUND_TO_NEAREST_INT);
        vs = 1.0f;
      }
      w[h] = _mm512_set1_ps(vs);
    }
    for (int d = 0; d < NV; ++d) {
      const __m512 v16 = load_halves16(v + 16 * d);
      for (int h = 0; h < H; ++h)
        acc[h][d] = _mm512_cvtps_ph(_mm512_fmadd_ps(v16, w[h], _mm512_cvtph_ps(acc[h][d])), _MM_FROUND_TO_NEAREST_INT);
    }
  }
  for (int h = 0; h < H; ++h) {
    const __m512 inv = _mm512_set1_ps(sums[h] == 0.0f ? 0.0f : 1.0f / sums[h]);
    for (int d = 0; d < NV; ++d) _mm512_storeu_ps(outs[h] + 16 * d, _mm512_mul_ps(_mm512_cvtph_ps(acc[h][d]), inv));
  }
}

// scores_f16_long for two query heads that share the key rows, with AVX-512:
// each key row is converted once and multiplied into both heads' chains, and
// ggml's four 8-lane accumulators sit two to a 512-bit register (elements
// i..i+7 and i+8..i+15 of each 32 in the two halves of one, the next sixteen
// in the other), so every lane takes the same FMAs in the same order and the
// reduction adds the same pairs: the same bits as dot_half_ggml.
inline __m256 upper_half(__m512 x) {
  return _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1));
}

// The end of dot_half_ggml for one key from its accumulators 0+2 (low half)
// and 1+3 (high half): 0+1, then ggml's lane sum and the tail.
inline float finish_half_dot(__m512 s, const float* q_half, const std::uint16_t* k, std::int32_t n_simd,
                             std::int32_t n) {
  return half_dot_tail(hsum_hadd(_mm256_add_ps(_mm512_castps512_ps256(s), upper_half(s))), q_half, k, n_simd, n);
}

// The end of dot_half_ggml for eight keys at once, from each key's
// accumulators 0+2 (low half) and 1+3 (high half): the same pairs added in
// the same order as finish_half_dot (0+1, the two 4-lane halves, then
// adjacent pairs twice), but eight keys share each add, the shuffles lining
// them up. Only for rows without a tail (the double sum of no elements is
// the float itself). Returns the eight sums, key 0 in lane 0.
inline __m256 finish_half_dots8(const __m512* s) {
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
inline void pair_dot_accumulators(const std::uint16_t* k, const __m512* q0, const __m512* q1, std::int32_t n_simd,
                                  __m512& s0, __m512& s1) {
  __m512 acc0[2], acc1[2];  // [0]: accumulators 0 and 1, [1]: 2 and 3
  for (int u = 0; u < 2; ++u) acc0[u] = acc1[u] = _mm512_setzero_ps();
  for (std::int32_t i = 0; i < n_simd; i += half_dot_step) {
    for (int u = 0; u < 2; ++u) {
      const __m512 k16 = load_halves16(k + i + 16 * u);
      acc0[u] = _mm512_fmadd_ps(k16, q0[i / 16 + u], acc0[u]);
      acc1[u] = _mm512_fmadd_ps(k16, q1[i / 16 + u], acc1[u]);
    }
  }
  s0 = _mm512_add_ps(acc0[0], acc0[1]);
  s1 = _mm512_add_ps(acc1[0], acc1[1]);
}

void scores_f16_long_pair(const attention_args& a, const float* q_half0, const float* q_half1, float* scores0,
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
    scores0[j] = finish_half_dot(s0, q_half0, k, n_simd, n) * a.scale;
    scores1[j] = finish_half_dot(s1, q_half1, k, n_simd, n) * a.scale;
  }
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
void lane_values(const attention_args& a, const lane_heads& p, const float* weights, const std::uint8_t* raised,
                 float* out) {
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
void attend_lanes(const attention_args& args, const lane_heads& p, const float* q, float* weights, std::uint8_t* raised,
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
// not apply (heads of 32 and more).
lanes_kernel lanes_kernel_for(std::int32_t head_dim_k, std::int32_t head_dim_v) {
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

}  // namespace

bool attention_compiled() { return true; }

// y[j] = s_j - (running maximum before j) in, softmax weight out: e^y, or
// -e^-y where y > 0 (the key raised the maximum; the sign marks it).
std::int32_t softmax_exponentials(float* y, std::int32_t n) {
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

bool values_f16(const attention_args& a, const float* weights, float sum, float* out) {
  switch (a.head_dim_v) {
    case 64: values_f16_heads<4, 1>(a, &weights, &sum, &out); return true;
    case 128: values_f16_heads<8, 1>(a, &weights, &sum, &out); return true;
    default: return false;
  }
}

bool attend_pair_f16(const attention_args& a, const float* q, float* scores, float* out) {
  if (a.head_dim_k < half_dot_step || a.head_dim_k % 8 != 0 || (a.head_dim_v != 64 && a.head_dim_v != 128))
    return false;
  const std::int32_t nk = a.head_dim_k / 8;
  alignas(32) float q_half[2][max_head_dim];
  for (int h = 0; h < 2; ++h)
    for (std::int32_t i = 0; i < nk; ++i)
      _mm256_store_ps(q_half[h] + 8 * i, _mm256_cvtph_ps(_mm256_cvtps_ph(_mm256_loadu_ps(q + h * a.head_dim_k + 8 * i),
                                                                          _MM_FROUND_TO_NEAREST_INT)));
  float* scores1 = scores + a.n_kv;
  scores_f16_long_pair(a, q_half[0], q_half[1], scores, scores1);
  const float sums[2] = {avx2::softmax_weights(scores, a.n_kv, true), avx2::softmax_weights(scores1, a.n_kv, true)};
  const float* const weights[2] = {scores, scores1};
  float* const outs[2] = {out, out + a.head_dim_v};
  if (a.head_dim_v == 64) {
    values_f16_heads<4, 2>(a, weights, sums, outs);
  } else {
    values_f16_heads<8, 2>(a, weights, sums, outs);
  }
  return true;
}

bool has_lanes_kernel(std::int32_t head_dim_k, std::int32_t head_dim_v) {
  return lanes_kernel_for(head_dim_k, head_dim_v) != nullptr;
}

void attend_heads_lanes(const attention_args& a, std::int32_t n_kv_heads, std::int32_t group, const float* q,
                        float* scratch, float* out) {
  const lanes_kernel kernel = lanes_kernel_for(a.head_dim_k, a.head_dim_v);
  const std::int32_t n_q = n_kv_heads * group;
  auto* raised = reinterpret_cast<std::uint8_t*>(scratch + static_cast<std::size_t>(a.n_kv) * 8);
  const std::int32_t first = a.kv_head * group;
  for (std::int32_t h = 0; h < n_q;) {
    const lane_heads p = plan_lanes(first + h, n_q - h, group, a.head_dim_k, a.head_dim_v);
    kernel(a, p, q + static_cast<std::ptrdiff_t>(h) * a.head_dim_k, scratch, raised,
           out + static_cast<std::ptrdiff_t>(h) * a.head_dim_v);
    h += p.n_heads;
  }
}

}  // namespace huashan::engine::avx512

#else  // built without AVX-512: the dispatch never calls these.

namespace huashan::engine::avx512 {
bool attention_compiled() { return false; }
std::int32_t softmax_exponentials(float*, std::int32_t) { return 0; }
bool values_f16(const attention_args&, const float*, float, float*) { return false; }
bool attend_pair_f16(const attention_args&, const float*, float*, float*) { return false; }
bool has_lanes_kernel(std::int32_t, std::int32_t) { return false; }
void attend_heads_lanes(const attention_args&, std::int32_t, std::int32_t, const float*, float*, float*) {}
}  // namespace huashan::engine::avx512

#endif
