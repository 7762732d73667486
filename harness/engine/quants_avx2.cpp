// AVX2/FMA/F16C kernels, compiled with -mavx2 -mfma -mf16c (see CMakeLists.txt)
// and called only after run-time detection. Integer dot products follow the
// usual 8-bit scheme: maddubs (u8 x s8 -> pairs of i16), madd with a scale or
// ones (-> i32), one float FMA per block. Each matches the scalar reference in
// quants_scalar.cpp up to float summation order.
#include "harness/engine/quants.hpp"
#include "harness/engine/quants_internal.hpp"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>

#include <cmath>
#include <cstring>

#include "harness/engine/simd_x86.hpp"

namespace huashan::engine::avx2 {

namespace {

// Σ u*s over groups of four bytes, u unsigned and s signed -> 8 x i32.
// |s| <= 127 keeps maddubs's i16 pair sums from saturating.
const auto group_sums = [](__m256i u, __m256i s) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
};

// Σ x*y over pairs of signed bytes -> 8 x i32. |x| <= 128, |y| <= 127.
inline __m256i dot_i8_pairs(__m256i x, __m256i y) { return group_sums(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x)); }

// 32 floats -> 32 int8 rounded half-to-even after scaling by id (as the scalar quantizers).
inline __m256i round_to_i8(const float* x, float id) {
  const __m256 mul = _mm256_set1_ps(id);
  constexpr int mode = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
  __m256i i0 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x), mul), mode));
  __m256i i1 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + 8), mul), mode));
  __m256i i2 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + 16), mul), mode));
  __m256i i3 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + 24), mul), mode));
  // packs interleave 128-bit lanes; the permute restores element order.
  i0 = _mm256_packs_epi32(i0, i1);
  i2 = _mm256_packs_epi32(i2, i3);
  i0 = _mm256_packs_epi16(i0, i2);
  return _mm256_permutevar8x32_epi32(i0, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

inline float abs_max(const float* x, int n) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 m = _mm256_setzero_ps();
  for (int i = 0; i < n; i += 8) m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)));
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

}  // namespace

bool compiled() { return true; }

namespace {

// F16 and BF16 weight rows: two accumulators over 16-element steps, so
// that the four-token form fits its 8 accumulators and the two shared weight
// vectors in the 16 registers and gives each token exactly the one-token sum.
// load_w(i): weights i..i+7 as floats; weight(i): one weight (for the tail).
template <typename LoadW, typename Weight>
inline float dot_float_row(LoadW load_w, Weight weight, const float* b, std::int64_t n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  std::int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_fmadd_ps(load_w(i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(load_w(i + 8), _mm256_loadu_ps(b + i + 8), acc1);
  }
  for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(load_w(i), _mm256_loadu_ps(b + i), acc0);
  float sum = hsum(_mm256_add_ps(acc0, acc1));
  for (; i < n; ++i) sum += weight(i) * b[i];
  return sum;
}

template <typename LoadW, typename Weight>
inline void dot4_float_row(LoadW load_w, Weight weight, const void* x, std::size_t x_stride, std::int64_t n,
                           float* out) {
  const float* b[4];
  token_rows4(x, x_stride, b);
  __m256 acc0[4], acc1[4];
  for (int t = 0; t < 4; ++t) acc0[t] = acc1[t] = _mm256_setzero_ps();
  std::int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 w0 = load_w(i), w1 = load_w(i + 8);
    for (int t = 0; t < 4; ++t) {
      acc0[t] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(b[t] + i), acc0[t]);
      acc1[t] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(b[t] + i + 8), acc1[t]);
    }
  }
  for (; i + 8 <= n; i += 8) {
    const __m256 w0 = load_w(i);
    for (int t = 0; t < 4; ++t) acc0[t] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(b[t] + i), acc0[t]);
  }
  for (int t = 0; t < 4; ++t) {
    float sum = hsum(_mm256_add_ps(acc0[t], acc1[t]));
    for (std::int64_t j = i; j < n; ++j) sum += weight(j) * b[t][j];
    out[t] = sum;
  }
}

struct f16_weights {
  const std::uint16_t* a;
  __m256 operator()(std::int64_t i) const { return load_halves8(a + i); }
  float at(std::int64_t i) const { return half(a[i]); }
};
struct bf16_weights {
  const std::uint16_t* a;
  __m256 operator()(std::int64_t i) const {  // bf16 is the high half of an f32
    const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
  }
  float at(std::int64_t i) const { return bf16_to_f32(a[i]); }
};

template <typename W>
float dot_with(W w, const void* x, std::int64_t n) {
  return dot_float_row(w, [w](std::int64_t i) { return w.at(i); }, static_cast<const float*>(x), n);
}
template <typename W>
void dot4_with_weights(W w, const void* x, std::size_t x_stride, std::int64_t n, float* out) {
  dot4_float_row(w, [w](std::int64_t i) { return w.at(i); }, x, x_stride, n, out);
}

}  // namespace

// ggml's single-token F32 dot (vec_dot_f32, x86 AVX2 build), exactly: four
// 8-lane FMA chains over each 32 elements, reduced 0+2, 1+3, then 0+1, the
// two 4-lane halves and two horizontal pair sums, the tail multiplied and added
// as two roundings (GCC leaves that loop-carried sum unfused when it tunes for
// AMD Zen, which is how the reference was built).
// Its sums feed the llama.cpp goldens on stories260K (an F32 model), whose F16
// attention rounding turns a changed summation order into 1e-3-sized logprob
// differences (docs/engine.md). Prompt rows use dot_f32_prompt.
float dot_f32(const void* w, const void* x, std::int64_t n) {
  const auto* a = static_cast<const float*>(w);
  const auto* b = static_cast<const float*>(x);
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  const std::int64_t n_simd = n - n % 32;
  for (std::int64_t i = 0; i < n_simd; i += 32)
    for (int j = 0; j < 4; ++j) acc[j] = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8 * j), _mm256_loadu_ps(b + i + 8 * j), acc[j]);
  acc[0] = _mm256_add_ps(acc[0], acc[2]);
  acc[1] = _mm256_add_ps(acc[1], acc[3]);
  float sum = hsum_hadd(_mm256_add_ps(acc[0], acc[1]));
  for (std::int64_t i = n_simd; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

// llama.cpp's prompt-path F32 product (tinyBLAS, x86 AVX2 build): one 8-lane
// FMA chain, then hsum's ((0+4)+(2+6)) + ((1+5)+(3+7)); n a multiple of 8.
float dot_f32_prompt(const void* w, const void* x, std::int64_t n) {
  const auto* a = static_cast<const float*>(w);
  const auto* b = static_cast<const float*>(x);
  __m256 acc = _mm256_setzero_ps();
  for (std::int64_t i = 0; i < n; i += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc);
  return hsum(acc);
}

float dot_f16(const void* w, const void* x, std::int64_t n) {
  return dot_with(f16_weights{static_cast<const std::uint16_t*>(w)}, x, n);
}

void dot4_f16(const void* w, const void* x, std::size_t x_stride, std::int64_t n, float* out) {
  dot4_with_weights(f16_weights{static_cast<const std::uint16_t*>(w)}, x, x_stride, n, out);
}

float dot_bf16(const void* w, const void* x, std::int64_t n) {
  return dot_with(bf16_weights{static_cast<const std::uint16_t*>(w)}, x, n);
}

// dot_q8_0_row's order and arithmetic, written out so that two blocks'
// integer sums are made before their FMAs: 114 vs 117 ns for 4096 elements in
// L1 with the template's one block at a time (EPYC 2-vCPU VM, interleaved runs).
float dot_q8_0(const void* w, const void* x, std::int64_t n) {
  const auto* a = static_cast<const block_q8_0*>(w);
  const auto* b = static_cast<const block_q8_0*>(x);
  const std::int64_t nb = n / qk8_0;
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  std::int64_t k = 0;
  for (; k + 2 <= nb; k += 2) {
    const __m256 p0 = _mm256_cvtepi32_ps(dot_i8_pairs(load256(a[k].qs), load256(b[k].qs)));
    const __m256 p1 = _mm256_cvtepi32_ps(dot_i8_pairs(load256(a[k + 1].qs), load256(b[k + 1].qs)));
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(half(a[k].d) * half(b[k].d)), p0, acc0);
    acc1 = _mm256_fmadd_ps(_mm256_set1_ps(half(a[k + 1].d) * half(b[k + 1].d)), p1, acc1);
  }
  for (; k < nb; ++k) {
    const __m256 p = _mm256_cvtepi32_ps(dot_i8_pairs(load256(a[k].qs), load256(b[k].qs)));
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(half(a[k].d) * half(b[k].d)), p, acc0);
  }
  return hsum(_mm256_add_ps(acc0, acc1));
}

float dot_q4_0(const void* w, const void* x, std::int64_t n) {
  const auto* a = static_cast<const block_q4_0*>(w);
  const auto* b = static_cast<const block_q8_0*>(x);
  const std::int64_t nb = n / qk4_0;
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  const __m256i eight = _mm256_set1_epi8(8);
  __m256 acc = _mm256_setzero_ps();
  for (std::int64_t k = 0; k < nb; ++k) {
    // Lower 128 bits: low nibbles (elements 0..15); upper: high nibbles (16..31).
    const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a[k].qs));
    __m256i q = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(packed, 4), packed), low4);
    q = _mm256_sub_epi8(q, eight);
    const __m256 p = _mm256_cvtepi32_ps(dot_i8_pairs(q, load256(b[k].qs)));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(half(a[k].d) * half(b[k].d)), p, acc);
  }
  return hsum(acc);
}

// The 12 scale bytes as 8 six-bit scales and 8 six-bit mins (see quants.hpp),
// unpacked four at a time in 32-bit words: bytes 0-3 hold scales 0-3 (low 6
// bits) and the top 2 bits of scales 4-7; bytes 4-7 the same for the mins;
// bytes 8-11 the low 4 bits of scales 4-7 (low nibble) and mins 4-7 (high).
inline void q4_k_unpack_scales(const std::uint8_t* packed, std::uint8_t* sc, std::uint8_t* mn) {
  std::uint32_t a, b, c;
  std::memcpy(&a, packed, 4);
  std::memcpy(&b, packed + 4, 4);
  std::memcpy(&c, packed + 8, 4);
  const std::uint32_t sc_lo = a & 0x3f3f3f3fu;
  const std::uint32_t mn_lo = b & 0x3f3f3f3fu;
  const std::uint32_t sc_hi = (c & 0x0f0f0f0fu) | (((a >> 6) & 0x03030303u) << 4);
  const std::uint32_t mn_hi = ((c >> 4) & 0x0f0f0f0fu) | (((b >> 6) & 0x03030303u) << 4);
  std::memcpy(sc, &sc_lo, 4);
  std::memcpy(sc + 4, &sc_hi, 4);
  std::memcpy(mn, &mn_lo, 4);
  std::memcpy(mn + 4, &mn_hi, 4);
}

// A q4_k block's eight sub-block scales into sc, and its eight mins as
// sixteen i16, each twice: one per 16-element bsum of its sub-block.
inline __m256i q4_k_scales_mins(const std::uint8_t* packed, std::uint8_t* sc) {
  alignas(16) std::uint8_t mn[8];
  q4_k_unpack_scales(packed, sc, mn);
  const __m128i mins8 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(mn));
  return _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(mins8, mins8));
}

float dot_q4_k(const void* w, const void* x, std::int64_t n) {
  const auto* a = static_cast<const block_q4_k*>(w);
  const auto* b = static_cast<const block_q8_k*>(x);
  const std::int64_t nb = n / qk_k;
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  __m256 acc = _mm256_setzero_ps();
  __m256 acc_min = _mm256_setzero_ps();
  for (std::int64_t k = 0; k < nb; ++k) {
    std::uint8_t sc[8];
    // Σ_j m_j (bsums[2j] + bsums[2j+1]): each min against its two bsums.
    const __m256i mins16 = q4_k_scales_mins(a[k].scales, sc);
    const __m256i bsums = load256(b[k].bsums);
    acc_min = _mm256_fmadd_ps(_mm256_set1_ps(half(a[k].dmin) * b[k].d),
                              _mm256_cvtepi32_ps(_mm256_madd_epi16(mins16, bsums)), acc_min);
    __m256i sumi = _mm256_setzero_si256();
    for (int c = 0; c < 4; ++c) {
      const __m256i q4 = load256(a[k].qs + 32 * c);
      const __m256i lo = _mm256_and_si256(q4, low4);
      const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q4, 4), low4);
      const __m256i p0 = _mm256_maddubs_epi16(lo, load256(b[k].qs + 64 * c));
      const __m256i p1 = _mm256_maddubs_epi16(hi, load256(b[k].qs + 64 * c + 32));
      sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p0, _mm256_set1_epi16(sc[2 * c])));
      sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p1, _mm256_set1_epi16(sc[2 * c + 1])));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(half(a[k].d) * b[k].d), _mm256_cvtepi32_ps(sumi), acc);
  }
  return hsum(acc) - hsum(acc_min);
}

// Half of a Q6_K super-block (128 weights) as four vectors of 32 unsigned
// 6-bit values (0..63): low nibbles from ql, the two high bits from qh.
inline void unpack_q6_k_half(const std::uint8_t* ql, const std::uint8_t* qh_bits, __m256i q[4]) {
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  const __m256i m3 = _mm256_set1_epi8(0x03);
  const __m256i m30 = _mm256_set1_epi8(0x30);
  const __m256i ql0 = load256(ql);
  const __m256i ql1 = load256(ql + 32);
  const __m256i qh = load256(qh_bits);
  q[0] = _mm256_or_si256(_mm256_and_si256(ql0, low4), _mm256_slli_epi16(_mm256_and_si256(qh, m3), 4));
  q[1] = _mm256_or_si256(_mm256_and_si256(ql1, low4),
                         _mm256_slli_epi16(_mm256_and_si256(qh, _mm256_set1_epi8(0x0c)), 2));
  q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low4), _mm256_and_si256(qh, m30));
  q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), low4),
                         _mm256_and_si256(_mm256_srli_epi16(qh, 2), m30));
}

// The stored levels are q+32; Σ sc·(q+32)·y - 32·Σ sc·Σy gives Σ sc·q·y.
// This is Σ sc·Σy over the sixteen sub-blocks.
inline int q6_k_bias(const block_q6_k& w, const block_q8_k& x) {
  int bias = 0;
  for (int j = 0; j < 16; ++j) bias += w.scales[j] * x.bsums[j];
  return bias;
}

// The scales of sub-blocks s and s+1 (16 elements each) for 32 elements'
// maddubs pairs: i16 lanes 0..7 and 8..15.
inline __m256i q6_k_scale_pair(const block_q6_k& w, int s) {
  return _mm256_set_m128i(_mm_set1_epi16(w.scales[s + 1]), _mm_set1_epi16(w.scales[s]));
}

float dot_q6_k(const void* w, const void* x, std::int64_t n) {
  const auto* a = static_cast<const block_q6_k*>(w);
  const auto* b = static_cast<const block_q8_k*>(x);
  const std::int64_t nb = n / qk_k;
  __m256 acc = _mm256_setzero_ps();
  float acc_bias = 0.0f;
  for (std::int64_t k = 0; k < nb; ++k) {
    const float d = half(a[k].d) * b[k].d;
    acc_bias += d * 32.0f * static_cast<float>(q6_k_bias(a[k], b[k]));
    __m256i sumi = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      __m256i q[4];
      unpack_q6_k_half(a[k].ql + 64 * h, a[k].qh + 32 * h, q);
      for (int r = 0; r < 4; ++r) {
        const __m256i scale = q6_k_scale_pair(a[k], 8 * h + 2 * r);
        const __m256i p = _mm256_maddubs_epi16(q[r], load256(b[k].qs + 128 * h + 32 * r));
        sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, scale));
      }
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
  }
  return hsum(acc) - acc_bias;
}

// ---------------------------------------------------------------- four tokens at once
// The same arithmetic as the one-token kernels above, per token in the same
// order (integer block sums are exact; the float steps are identical), so the
// results are bit-identical; only the weight unpacking is shared.

void dot4_q8_0(const void* w, const void* x, std::size_t x_stride, std::int64_t n, float* out) {
  dot4_q8_0_rows(static_cast<const block_q8_0*>(w), x, x_stride, n / qk8_0, out, group_sums);
}

void dot4_q4_k(const void* w, const void* x, std::size_t x_stride, std::int64_t n, float* out) {
  const auto* a = static_cast<const block_q4_k*>(w);
  const block_q8_k* b[4];
  token_rows4(x, x_stride, b);
  const std::int64_t nb = n / qk_k;
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  __m256 acc[4], acc_min[4];
  for (int t = 0; t < 4; ++t) acc[t] = acc_min[t] = _mm256_setzero_ps();
  for (std::int64_t k = 0; k < nb; ++k) {
    std::uint8_t sc[8];
    const __m256i mins16 = q4_k_scales_mins(a[k].scales, sc);
    const float dmin = half(a[k].dmin);
    const float d = half(a[k].d);
    __m256i sumi[4];
    for (int t = 0; t < 4; ++t) {
      acc_min[t] = _mm256_fmadd_ps(_mm256_set1_ps(dmin * b[t][k].d),
                                   _mm256_cvtepi32_ps(_mm256_madd_epi16(mins16, load256(b[t][k].bsums))), acc_min[t]);
      sumi[t] = _mm256_setzero_si256();
    }
    for (int c = 0; c < 4; ++c) {
      const __m256i q4 = load256(a[k].qs + 32 * c);
      const __m256i lo = _mm256_and_si256(q4, low4);
      const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q4, 4), low4);
      const __m256i s0 = _mm256_set1_epi16(sc[2 * c]);
      const __m256i s1 = _mm256_set1_epi16(sc[2 * c + 1]);
      for (int t = 0; t < 4; ++t) {
        const __m256i p0 = _mm256_maddubs_epi16(lo, load256(b[t][k].qs + 64 * c));
        const __m256i p1 = _mm256_maddubs_epi16(hi, load256(b[t][k].qs + 64 * c + 32));
        sumi[t] = _mm256_add_epi32(sumi[t], _mm256_madd_epi16(p0, s0));
        sumi[t] = _mm256_add_epi32(sumi[t], _mm256_madd_epi16(p1, s1));
      }
    }
    for (int t = 0; t < 4; ++t) {
      acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(d * b[t][k].d), _mm256_cvtepi32_ps(sumi[t]), acc[t]);
    }
  }
  for (int t = 0; t < 4; ++t) out[t] = hsum(acc[t]) - hsum(acc_min[t]);
}

void dot4_q6_k(const void* w, const void* x, std::size_t x_stride, std::int64_t n, float* out) {
  const auto* a = static_cast<const block_q6_k*>(w);
  const block_q8_k* b[4];
  token_rows4(x, x_stride, b);
  const std::int64_t nb = n / qk_k;
  __m256 acc[4];
  float acc_bias[4] = {0, 0, 0, 0};
  for (int t = 0; t < 4; ++t) acc[t] = _mm256_setzero_ps();
  for (std::int64_t k = 0; k < nb; ++k) {
    const float da = half(a[k].d);
    __m256i sumi[4];
    for (int t = 0; t < 4; ++t) {
      acc_bias[t] += da * b[t][k].d * 32.0f * static_cast<float>(q6_k_bias(a[k], b[t][k]));
      sumi[t] = _mm256_setzero_si256();
    }
    for (int h = 0; h < 2; ++h) {
      __m256i q[4];
      unpack_q6_k_half(a[k].ql + 64 * h, a[k].qh + 32 * h, q);
      for (int r = 0; r < 4; ++r) {
        const __m256i scale = q6_k_scale_pair(a[k], 8 * h + 2 * r);
        for (int t = 0; t < 4; ++t) {
          const __m256i p = _mm256_maddubs_epi16(q[r], load256(b[t][k].qs + 128 * h + 32 * r));
          sumi[t] = _mm256_add_epi32(sumi[t], _mm256_madd_epi16(p, scale));
        }
      }
    }
    for (int t = 0; t < 4; ++t) {
      acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(da * b[t][k].d), _mm256_cvtepi32_ps(sumi[t]), acc[t]);
    }
  }
  for (int t = 0; t < 4; ++t) out[t] = hsum(acc[t]) - acc_bias[t];
}

void quantize_row_q8_0(const float* x, void* dst, std::int64_t n) {
  auto* y = static_cast<block_q8_0*>(dst);
  for (std::int64_t b = 0; b < n / qk8_0; ++b, x += qk8_0) {
    const float amax = abs_max(x, qk8_0);
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = f32_to_fp16(d);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[b].qs), round_to_i8(x, id));
  }
}

void quantize_row_q8_k(const float* x, void* dst, std::int64_t n) {
  auto* y = static_cast<block_q8_k*>(dst);
  for (std::int64_t b = 0; b < n / qk_k; ++b, x += qk_k) {
    const float amax = abs_max(x, qk_k);
    const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    y[b].d = amax / 127.0f;
    for (int c = 0; c < qk_k / 32; ++c) {
      const __m256i q = round_to_i8(x + 32 * c, id);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[b].qs + 32 * c), q);
      // Sums of each 16 bytes: widen to i16, add pairs, then reduce in i32.
      const __m256i s16 = _mm256_maddubs_epi16(_mm256_set1_epi8(1), q);  // 16 x (q[2i]+q[2i+1])
      const __m256i s32 = _mm256_madd_epi16(s16, _mm256_set1_epi16(1));  // 8 x sums of 4
      const __m128i lo = _mm256_castsi256_si128(s32);
      const __m128i hi = _mm256_extracti128_si256(s32, 1);
      const __m128i h = _mm_hadd_epi32(lo, hi);  // sums of 8: [0..8), [8..16), [16..24), [24..32)
      const __m128i g = _mm_hadd_epi32(h, h);    // sums of 16: [0..16), [16..32)
      y[b].bsums[2 * c] = static_cast<std::int16_t>(_mm_cvtsi128_si32(g));
      y[b].bsums[2 * c + 1] = static_cast<std::int16_t>(_mm_extract_epi32(g, 1));
    }
  }
}

}  // namespace huashan::engine::avx2

#else  // built without AVX2: the dispatcher never calls these.

namespace huashan::engine::avx2 {
bool compiled() { return false; }
float dot_f32(const void* w, const void* x, std::int64_t n) { return scalar::dot_f32(w, x, n); }
float dot_f32_prompt(const void* w, const void* x, std::int64_t n) { return scalar::dot_f32_prompt(w, x, n); }
float dot_f16(const void* w, const void* x, std::int64_t n) { return scalar::dot_f16(w, x, n); }
float dot_bf16(const void* w, const void* x, std::int64_t n) { return scalar::dot_bf16(w, x, n); }
float dot_q8_0(const void* w, const void* x, std::int64_t n) { return scalar::dot_q8_0(w, x, n); }
float dot_q4_0(const void* w, const void* x, std::int64_t n) { return scalar::dot_q4_0(w, x, n); }
float dot_q4_k(const void* w, const void* x, std::int64_t n) { return scalar::dot_q4_k(w, x, n); }
float dot_q6_k(const void* w, const void* x, std::int64_t n) { return scalar::dot_q6_k(w, x, n); }
namespace {
void dot4_with(dot_fn f, const void* w, const void* x, std::size_t x_stride, std::int64_t n, float* out) {
  for (int t = 0; t < 4; ++t) out[t] = f(w, static_cast<const std::byte*>(x) + t * x_stride, n);
}
}  // namespace
void dot4_f16(const void* w, const void* x, std::size_t s, std::int64_t n, float* out) {
  dot4_with(scalar::dot_f16, w, x, s, n, out);
}
void dot4_q8_0(const void* w, const void* x, std::size_t s, std::int64_t n, float* out) {
  dot4_with(scalar::dot_q8_0, w, x, s, n, out);
}
void dot4_q4_k(const void* w, const void* x, std::size_t s, std::int64_t n, float* out) {
  dot4_with(scalar::dot_q4_k, w, x, s, n, out);
}
void dot4_q6_k(const void* w, const void* x, std::size_t s, std::int64_t n, float* out) {
  dot4_with(scalar::dot_q6_k, w, x, s, n, out);
}
void quantize_row_q8_0(const float* x, void* dst, std::int64_t n) {
  quantize_q8_0(x, static_cast<block_q8_0*>(dst), n);
}
void quantize_row_q8_k(const float* x, void* dst, std::int64_t n) {
  quantize_q8_k(x, static_cast<block_q8_k*>(dst), n);
}
}  // namespace huashan::engine::avx2

#endif
