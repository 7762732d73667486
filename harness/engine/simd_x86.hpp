// x86 helpers shared by the kernel files built for AVX2/FMA/F16C
// (quants_avx2.cpp, attention_avx2.cpp) and for AVX-512 on top of that
// (quants_vnni.cpp, attention_avx512.cpp); include it only from those, after
// checking their feature macros. The helpers have internal linkage on purpose:
// each file compiles its own copy with its own -m flags, so the linker cannot
// pick a copy built for AVX-512 to serve the AVX2 path of a CPU without it.
#pragma once

#if !(defined(__AVX2__) && defined(__FMA__) && defined(__F16C__))
#error "simd_x86.hpp needs -mavx2 -mfma -mf16c (harness/engine/CMakeLists.txt sets them per file)"
#endif

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "harness/engine/quants.hpp"

namespace huashan::engine {
namespace {

// The two lane sums the kernels need, each the order of the reference it
// reproduces bit for bit (another order changes the last bit):
// hsum: ((0+4)+(2+6)) + ((1+5)+(3+7)), llama.cpp's hsum_float_8 (its
// quantized dots and tinyBLAS).
inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// hsum_hadd: the two 4-lane halves, then two horizontal pair sums
// ((0+4)+(1+5)) + ((2+6)+(3+7)), the end of ggml's F32 and F16 vector dots.
inline float hsum_hadd(__m256 v) {
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  h = _mm_hadd_ps(h, h);
  h = _mm_hadd_ps(h, h);
  return _mm_cvtss_f32(h);
}

// One IEEE half as a float (exact).
inline float half(std::uint16_t h) { return _cvtsh_ss(h); }

// Eight halves as floats (exact).
inline __m256 load_halves8(const std::uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

inline __m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// The four activation rows of a four-token kernel, x_stride bytes apart.
template <class Row>
inline void token_rows4(const void* x, std::size_t x_stride, const Row* (&rows)[4]) {
  for (int t = 0; t < 4; ++t) rows[t] = reinterpret_cast<const Row*>(static_cast<const std::byte*>(x) + t * x_stride);
}

// The q8_0 dots' block order (llama.cpp's): blocks alternate between two
// accumulators, an odd last block going to the first; block(k, acc) adds
// block k into acc. The two are added at the end.
template <class Acc, class Block>
inline void alternate_blocks(std::int64_t n_blocks, Acc& acc0, Acc& acc1, Block block) {
  std::int64_t k = 0;
  for (; k + 2 <= n_blocks; k += 2) {
    block(k, acc0);
    block(k + 1, acc1);
  }
  for (; k < n_blocks; ++k) block(k, acc0);
}

// The q8_0 dots (quants.hpp) of one weight row with one activation row, or
// with four (out[0..3]), in llama.cpp's order: per block the 32 products'
// integer sums in eight lanes, one float FMA by d_w·d_x into the block's
// accumulator (alternate_blocks), the two added and summed by hsum. Sums(|w|,
// x with w's signs) makes the lanes' integers: maddubs + madd on AVX2,
// vpdpbusd with VNNI; they are the same exact integers, so the results are
// the same bits.
template <class Sums>
inline float dot_q8_0_row(const block_q8_0* a, const block_q8_0* b, std::int64_t n_blocks, Sums sums) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  alternate_blocks(n_blocks, acc0, acc1, [&](std::int64_t k, __m256& acc) {
    const __m256i qa = load256(a[k].qs);
    const __m256i p = sums(_mm256_abs_epi8(qa), _mm256_sign_epi8(load256(b[k].qs), qa));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(half(a[k].d) * half(b[k].d)), _mm256_cvtepi32_ps(p), acc);
  });
  return hsum(_mm256_add_ps(acc0, acc1));
}

template <class Sums>
inline void dot4_q8_0_rows(const block_q8_0* a, const void* x, std::size_t x_stride, std::int64_t n_blocks,
                           float* out, Sums sums) {
  const block_q8_0* b[4];
  token_rows4(x, x_stride, b);
  __m256 acc0[4], acc1[4];
  for (int t = 0; t < 4; ++t) acc0[t] = acc1[t] = _mm256_setzero_ps();
  alternate_blocks(n_blocks, acc0, acc1, [&](std::int64_t k, __m256* acc) {
    const __m256i qa = load256(a[k].qs);
    const __m256i abs_a = _mm256_abs_epi8(qa);
    const float da = half(a[k].d);
    for (int t = 0; t < 4; ++t) {
      const __m256i p = sums(abs_a, _mm256_sign_epi8(load256(b[t][k].qs), qa));
      acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(da * half(b[t][k].d)), _mm256_cvtepi32_ps(p), acc[t]);
    }
  });
  for (int t = 0; t < 4; ++t) out[t] = hsum(_mm256_add_ps(acc0[t], acc1[t]));
}

#if defined(__AVX512F__)
// Sixteen halves as floats (exact).
inline __m512 load_halves16(const std::uint16_t* p) { return _mm512_cvtph_ps(load256(p)); }
#endif

}  // namespace
}  // namespace huashan::engine
