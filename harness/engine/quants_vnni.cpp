// AVX-512 VNNI kernels (256-bit EVEX forms), compiled with -mavx512vnni
// -mavx512vl -mavx512bw -mavx512dq on top of AVX2 (see CMakeLists.txt) and called only
// after run-time detection. vpdpbusd sums four u8 x s8 products per 32-bit lane
// in one instruction, where AVX2 needs maddubs then madd; the lane sums are the
// same exact integers, and the float accumulation below repeats the AVX2
// kernels' order, so the results are bit-identical to them (tested).
#include "harness/engine/quants.hpp"

#if defined(__AVX512VNNI__) && defined(__AVX512VL__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && \
    defined(__AVX2__) && \
    defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>

#include <algorithm>
#include <cstring>

namespace huashan::engine::vnni {

namespace {

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline float half(std::uint16_t h) { return _cvtsh_ss(h); }

inline __m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// Σ over groups of four of a*b for signed bytes: |a| as unsigned, b given a's sign.
inline __m256i dot_i8_groups(__m256i abs_a, __m256i signed_b) {
  return _mm256_dpbusd_epi32(_mm256_setzero_si256(), abs_a, signed_b);
}

}  // namespace

bool compiled() { return true; }

float dot_q8_0(const void* w, const void* x, std::int64_t n) {
  const auto* a = static_cast<const block_q8_0*>(w);
  const auto* b = static_cast<const block_q8_0*>(x);
  const std::int64_t nb = n / qk8_0;
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  auto block = [&](std::int64_t k, __m256& acc) {
    const __m256i qa = load256(a[k].qs);
    const __m256i p = dot_i8_groups(_mm256_abs_epi8(qa), _mm256_sign_epi8(load256(b[k].qs), qa));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(half(a[k].d) * half(b[k].d)), _mm256_cvtepi32_ps(p), acc);
  };
  std::int64_t k = 0;
  for (; k + 2 <= nb; k += 2) {
    block(k, acc0);
    block(k + 1, acc1);
  }
  for (; k < nb; ++k) block(k, acc0);
  return hsum(_mm256_add_ps(acc0, acc1));
}

void dot4_q8_0(const void* w, const void* x, std::size_t x_stride, std::int64_t n, float* out) {
  const auto* a = static_cast<const block_q8_0*>(w);
  const block_q8_0* b[4];
  for (int t = 0; t < 4; ++t) b[t] = reinterpret_cast<const block_q8_0*>(static_cast<const std::byte*>(x) + t * x_stride);
  const std::int64_t nb = n / qk8_0;
  __m256 acc0[4], acc1[4];
  for (int t = 0; t < 4; ++t) acc0[t] = acc1[t] = _mm256_setzero_ps();
  auto block = [&](std::int64_t k, __m256* acc) {
    const __m256i qa = load256(a[k].qs);
    const __m256i abs_a = _mm256_abs_epi8(qa);
    const float da = half(a[k].d);
    for (int t = 0; t < 4; ++t) {
      const __m256i p = dot_i8_groups(abs_a, _mm256_sign_epi8(load256(b[t][k].qs), qa));
      acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(da * half(b[t][k].d)), _mm256_cvtepi32_ps(p), acc[t]);
    }
  };
  std::int64_t k = 0;
  for (; k + 2 <= nb; k += 2) {
    block(k, acc0);
    block(k + 1, acc1);
  }
  for (; k < nb; ++k) block(k, acc0);
  for (int t = 0; t < 4; ++t) out[t] = hsum(_mm256_add_ps(acc0[t], acc1[t]));
}

void sum_q8_0(const block_q8_0* x, std::int64_t n_blocks, block_q8_0_summed* out) {
  for (std::int64_t k = 0; k < n_blocks; ++k) {
    std::memcpy(out[k].qs, x[k].qs, sizeof out[k].qs);
    int sum = 0;
    for (int i = 0; i < qk8_0; ++i) sum += x[k].qs[i];
    out[k].d = half(x[k].d);
    out[k].offset_correction = -128 * sum;
  }
}

namespace {

// NT tokens against one packed group of sixteen rows, all of a block's weights
// held in registers while the tokens pass. The integer sums are exact, so only
// the float chain (one per token, block after block) fixes the result, and it
// is the same for every NT.
template <int NT>
void gemm_tile(const block_q8_0x16* w, std::int64_t n_blocks, const block_q8_0_summed* const* x, float* y,
               std::int64_t y_stride) {
  constexpr int groups = qk8_0 / 4;
  __m512 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
  for (std::int64_t k = 0; k < n_blocks; ++k) {
    __m512i wq[groups];
    for (int g = 0; g < groups; ++g) wq[g] = _mm512_loadu_si512(w[k].qs + 64 * g);
    const __m512 dw = _mm512_cvtph_ps(load256(w[k].d));
    __m512i sum[NT];
    for (int t = 0; t < NT; ++t) sum[t] = _mm512_set1_epi32(x[t][k].offset_correction);
    for (int g = 0; g < groups; ++g) {
      for (int t = 0; t < NT; ++t) {
        std::int32_t group;
        std::memcpy(&group, x[t][k].qs + 4 * g, sizeof group);
        sum[t] = _mm512_dpbusd_epi32(sum[t], wq[g], _mm512_set1_epi32(group));
      }
    }
    for (int t = 0; t < NT; ++t)
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum[t]), _mm512_mul_ps(dw, _mm512_set1_ps(x[t][k].d)), acc[t]);
  }
  for (int t = 0; t < NT; ++t) _mm512_storeu_ps(y + t * y_stride, acc[t]);
}

}  // namespace

void gemm_q8_0x16(const block_q8_0x16* w, std::int64_t n_blocks, const block_q8_0_summed* x,
                  std::size_t x_stride_blocks, std::int64_t n_tokens, float* y, std::int64_t y_stride) {
  constexpr int tile = 8;  // tokens sharing each block's weights in registers
  for (std::int64_t t0 = 0; t0 < n_tokens; t0 += tile) {
    const block_q8_0_summed* rows[tile];
    const int nt = static_cast<int>(std::min<std::int64_t>(tile, n_tokens - t0));
    for (int t = 0; t < nt; ++t) rows[t] = x + static_cast<std::size_t>(t0 + t) * x_stride_blocks;
    float* out = y + t0 * y_stride;
    switch (nt) {
      case 8: gemm_tile<8>(w, n_blocks, rows, out, y_stride); break;
      case 7: gemm_tile<7>(w, n_blocks, rows, out, y_stride); break;
      case 6: gemm_tile<6>(w, n_blocks, rows, out, y_stride); break;
      case 5: gemm_tile<5>(w, n_blocks, rows, out, y_stride); break;
      case 4: gemm_tile<4>(w, n_blocks, rows, out, y_stride); break;
      case 3: gemm_tile<3>(w, n_blocks, rows, out, y_stride); break;
      case 2: gemm_tile<2>(w, n_blocks, rows, out, y_stride); break;
      default: gemm_tile<1>(w, n_blocks, rows, out, y_stride); break;
    }
  }
}

}  // namespace huashan::engine::vnni

#else

namespace huashan::engine::vnni {
bool compiled() { return false; }
float dot_q8_0(const void*, const void*, std::int64_t) { return 0.0f; }
void dot4_q8_0(const void*, const void*, std::size_t, std::int64_t, float*) {}
void sum_q8_0(const block_q8_0*, std::int64_t, block_q8_0_summed*) {}
void gemm_q8_0x16(const block_q8_0x16*, std::int64_t, const block_q8_0_summed*, std::size_t, std::int64_t, float*,
                  std::int64_t) {}
}  // namespace huashan::engine::vnni

#endif
