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
#include <cstddef>
#include <cstring>

#include "harness/engine/simd_x86.hpp"

namespace huashan::engine::vnni {

namespace {

// Σ u*s over groups of four bytes, u unsigned and s signed -> 8 x i32 (one
// vpdpbusd: the integers of avx2's maddubs + madd, never saturating).
const auto group_sums = [](__m256i u, __m256i s) { return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s); };

}  // namespace

bool compiled() { return true; }

namespace {

// Eight rows' FMA chains over elements begin, begin + step, ... (< end), eight
// at a time: r_k = Σ w[k·s + i..i+7] · x[i..i+7]. Named variables rather than
// an array, so that all eight stay in registers.
inline void chains8(const float* w, std::int64_t s, const float* x, std::int64_t begin, std::int64_t end,
                    std::int64_t step, __m256& r0, __m256& r1, __m256& r2, __m256& r3, __m256& r4, __m256& r5,
                    __m256& r6, __m256& r7) {
  r0 = r1 = r2 = r3 = r4 = r5 = r6 = r7 = _mm256_setzero_ps();
  for (std::int64_t i = begin; i < end; i += step) {
    const __m256 xv = _mm256_loadu_ps(x + i);
    r0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), xv, r0);
    r1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + s + i), xv, r1);
    r2 = _mm256_fmadd_ps(_mm256_loadu_ps(w + 2 * s + i), xv, r2);
    r3 = _mm256_fmadd_ps(_mm256_loadu_ps(w + 3 * s + i), xv, r3);
    r4 = _mm256_fmadd_ps(_mm256_loadu_ps(w + 4 * s + i), xv, r4);
    r5 = _mm256_fmadd_ps(_mm256_loadu_ps(w + 5 * s + i), xv, r5);
    r6 = _mm256_fmadd_ps(_mm256_loadu_ps(w + 6 * s + i), xv, r6);
    r7 = _mm256_fmadd_ps(_mm256_loadu_ps(w + 7 * s + i), xv, r7);
  }
}

// Lanes l and l + 4 of rows a and b added: row a's four sums in the low half, b's in the high.
inline __m256 fold_halves(__m256 a, __m256 b) {
  return _mm256_add_ps(_mm256_permute2f128_ps(a, b, 0x20), _mm256_permute2f128_ps(a, b, 0x31));
}

// m[k][r] = old m[r][k]: an 8 x 8 transpose.
inline void transpose8(__m256* m) {
  __m256 t[8], u[8];
  for (int p = 0; p < 4; ++p) {
    t[2 * p] = _mm256_unpacklo_ps(m[2 * p], m[2 * p + 1]);
    t[2 * p + 1] = _mm256_unpackhi_ps(m[2 * p], m[2 * p + 1]);
  }
  for (int h = 0; h < 2; ++h) {
    u[4 * h] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], 0x44);
    u[4 * h + 1] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], 0xee);
    u[4 * h + 2] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0x44);
    u[4 * h + 3] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0xee);
  }
  for (int k = 0; k < 4; ++k) {
    m[k] = _mm256_permute2f128_ps(u[k], u[k + 4], 0x20);
    m[k + 4] = _mm256_permute2f128_ps(u[k], u[k + 4], 0x31);
  }
}

// tinyBLAS's lane sum ((0+4)+(2+6)) + ((1+5)+(3+7)) of rows a and b, in lanes 0 and 4.
inline __m256 prompt_lane_sums(__m256 a, __m256 b) {
  const __m256 h = fold_halves(a, b);                             // c0..c3 of each row
  const __m256 d = _mm256_add_ps(h, _mm256_permute_ps(h, 0x4e));  // c0+c2, c1+c3
  return _mm256_add_ps(d, _mm256_permute_ps(d, 0xb1));            // (c0+c2)+(c1+c3)
}

}  // namespace

void dot8_f32(const float* w, std::int64_t w_stride, const float* x, std::int64_t n, bool prompt_order, float* out) {
  __m256 a0, a1, a2, a3, a4, a5, a6, a7;
  if (prompt_order) {
    // tinyBLAS: one chain per row over the whole row, then its lane sum.
    chains8(w, w_stride, x, 0, n, 8, a0, a1, a2, a3, a4, a5, a6, a7);
    alignas(32) float lanes[4][8];
    _mm256_store_ps(lanes[0], prompt_lane_sums(a0, a1));
    _mm256_store_ps(lanes[1], prompt_lane_sums(a2, a3));
    _mm256_store_ps(lanes[2], prompt_lane_sums(a4, a5));
    _mm256_store_ps(lanes[3], prompt_lane_sums(a6, a7));
    for (int p = 0; p < 4; ++p) {
      out[2 * p] = lanes[p][0];
      out[2 * p + 1] = lanes[p][4];
    }
    return;
  }
  // ggml's vector dot: chain j takes elements 8j..8j+7 of every 32; the
  // chains are reduced (0+2) + (1+3), then eight rows' reductions run side by
  // side: the halves, then two rounds of pair sums (hadd), each lane adding
  // what dot_f32 adds.
  const std::int64_t n_simd = n - n % 32;
  __m256 b0, b1, b2, b3, b4, b5, b6, b7;
  chains8(w, w_stride, x, 0, n_simd, 32, a0, a1, a2, a3, a4, a5, a6, a7);
  chains8(w, w_stride, x, 16, n_simd, 32, b0, b1, b2, b3, b4, b5, b6, b7);
  a0 = _mm256_add_ps(a0, b0), a1 = _mm256_add_ps(a1, b1), a2 = _mm256_add_ps(a2, b2), a3 = _mm256_add_ps(a3, b3);
  a4 = _mm256_add_ps(a4, b4), a5 = _mm256_add_ps(a5, b5), a6 = _mm256_add_ps(a6, b6), a7 = _mm256_add_ps(a7, b7);
  __m256 c0, c1, c2, c3, c4, c5, c6, c7;
  chains8(w, w_stride, x, 8, n_simd, 32, b0, b1, b2, b3, b4, b5, b6, b7);
  chains8(w, w_stride, x, 24, n_simd, 32, c0, c1, c2, c3, c4, c5, c6, c7);
  a0 = _mm256_add_ps(a0, _mm256_add_ps(b0, c0)), a1 = _mm256_add_ps(a1, _mm256_add_ps(b1, c1));
  a2 = _mm256_add_ps(a2, _mm256_add_ps(b2, c2)), a3 = _mm256_add_ps(a3, _mm256_add_ps(b3, c3));
  a4 = _mm256_add_ps(a4, _mm256_add_ps(b4, c4)), a5 = _mm256_add_ps(a5, _mm256_add_ps(b5, c5));
  a6 = _mm256_add_ps(a6, _mm256_add_ps(b6, c6)), a7 = _mm256_add_ps(a7, _mm256_add_ps(b7, c7));
  const __m256 g0123 = _mm256_hadd_ps(fold_halves(a0, a1), fold_halves(a2, a3));
  const __m256 g4567 = _mm256_hadd_ps(fold_halves(a4, a5), fold_halves(a6, a7));
  __m256 sums = _mm256_permutevar8x32_ps(_mm256_hadd_ps(g0123, g4567), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  // The tail: each row's products added one at a time (two roundings each),
  // the eight rows in the lanes; up to eight elements of every row per step,
  // transposed so that column k holds element i + k of each row.
  for (std::int64_t i = n_simd; i < n; i += 8) {
    const int count = static_cast<int>(std::min<std::int64_t>(8, n - i));
    const auto mask = static_cast<__mmask8>((1u << count) - 1);
    __m256 col[8];
    for (int r = 0; r < 8; ++r) col[r] = _mm256_maskz_loadu_ps(mask, w + r * w_stride + i);
    transpose8(col);
    for (int k = 0; k < count; ++k) sums = _mm256_add_ps(sums, _mm256_mul_ps(col[k], _mm256_set1_ps(x[i + k])));
  }
  _mm256_storeu_ps(out, sums);
}

float dot_q8_0(const void* w, const void* x, std::int64_t n) {
  return dot_q8_0_row(static_cast<const block_q8_0*>(w), static_cast<const block_q8_0*>(x), n / qk8_0, group_sums);
}

void dot4_q8_0(const void* w, const void* x, std::size_t x_stride, std::int64_t n, float* out) {
  dot4_q8_0_rows(static_cast<const block_q8_0*>(w), x, x_stride, n / qk8_0, out, group_sums);
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

// Software prefetch for the packed weights, ahead of a tile of NT tokens.
// At batch 1 (NT < 4) the weights stream from memory: 2 KB ahead into L1,
// where the hardware prefetcher alone left a single core at ~14 GB/s and these
// reach ~19-20 GB/s (measured with bench_engine_kernels, matmul_packed). Tiles
// of four tokens or more spend long enough on each line for a fetch from L2 to
// hide behind their arithmetic: 4 KB ahead into L2 leaves the L1 fill buffers
// to the loads that need them (one thread, weights from memory, 16 tokens:
// q8_0 +30 %, q6_k +8 %, q4_k the same; the engine's batch-16 decoding Q8_0
// +10-31 %, Q4_K +3-5 %; docs/perf.md).
template <int NT>
inline void prefetch_tile(const void* p, std::size_t bytes) {
  constexpr bool into_l2 = NT >= 4;
  const auto* c = static_cast<const char*>(p) + (into_l2 ? 4096 : 2048);
  for (std::size_t i = 0; i < bytes; i += 64) _mm_prefetch(c + i, into_l2 ? _MM_HINT_T1 : _MM_HINT_T0);
}

// Sixteen bytes (one per row) as floats.
inline __m512 bytes_to_floats(const std::uint8_t* p) {
  return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}
inline __m512 bytes_to_floats(const std::int8_t* p) {
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}

// One token's 4-byte group in every 32-bit lane (the signed vpdpbusd operand).
inline __m512i broadcast4(const std::int8_t* p) {
  std::int32_t v;
  std::memcpy(&v, p, sizeof v);
  return _mm512_set1_epi32(v);
}

// NT tokens against one packed group of sixteen rows, all of a block's weights
// held in registers while the tokens pass. The integer sums are exact, so only
// the float chain (one per token, block after block) fixes the result, and it
// is the same for every NT.
template <int NT>
struct q8_0_tile {
  static void run(const block_q8_0x16* w, std::int64_t n_blocks, const block_q8_0_summed* const* x, float* y,
                  std::int64_t y_stride) {
    constexpr int groups = qk8_0 / 4;
    __m512 acc[NT];
    for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
    for (std::int64_t k = 0; k < n_blocks; ++k) {
      prefetch_tile<NT>(w + k, sizeof(block_q8_0x16));
      __m512i wq[groups];
      for (int g = 0; g < groups; ++g) wq[g] = _mm512_loadu_si512(w[k].qs + 64 * g);
      const __m512 dw = load_halves16(w[k].d);
      __m512i sum[NT];
      for (int t = 0; t < NT; ++t) sum[t] = _mm512_set1_epi32(x[t][k].offset_correction);
      for (int g = 0; g < groups; ++g) {
        for (int t = 0; t < NT; ++t) sum[t] = _mm512_dpbusd_epi32(sum[t], wq[g], broadcast4(x[t][k].qs + 4 * g));
      }
      for (int t = 0; t < NT; ++t)
        acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum[t]), _mm512_mul_ps(dw, _mm512_set1_ps(x[t][k].d)), acc[t]);
    }
    for (int t = 0; t < NT; ++t) _mm512_storeu_ps(y + t * y_stride, acc[t]);
  }
};

// Runs Tile<NT>::run for token tiles of up to 8: every kernel's per-token
// arithmetic is the same whatever NT is.
template <template <int> class Tile, class W, class X>
void over_token_tiles(const W* w, std::int64_t n_blocks, const X* x, std::size_t x_stride_blocks,
                      std::int64_t n_tokens, float* y, std::int64_t y_stride) {
  constexpr int tile = 8;  // tokens sharing each block's weights in registers
  for (std::int64_t t0 = 0; t0 < n_tokens; t0 += tile) {
    const X* rows[tile];
    const int nt = static_cast<int>(std::min<std::int64_t>(tile, n_tokens - t0));
    for (int t = 0; t < nt; ++t) rows[t] = x + static_cast<std::size_t>(t0 + t) * x_stride_blocks;
    float* out = y + t0 * y_stride;
    switch (nt) {
      case 8: Tile<8>::run(w, n_blocks, rows, out, y_stride); break;
      case 7: Tile<7>::run(w, n_blocks, rows, out, y_stride); break;
      case 6: Tile<6>::run(w, n_blocks, rows, out, y_stride); break;
      case 5: Tile<5>::run(w, n_blocks, rows, out, y_stride); break;
      case 4: Tile<4>::run(w, n_blocks, rows, out, y_stride); break;
      case 3: Tile<3>::run(w, n_blocks, rows, out, y_stride); break;
      case 2: Tile<2>::run(w, n_blocks, rows, out, y_stride); break;
      default: Tile<1>::run(w, n_blocks, rows, out, y_stride); break;
    }
  }
}


// Packed q4_k: per 32-element sub-block, eight vpdpbusd per token (4-bit
// weights are already unsigned), then the sub-block's float scale d·sc times
// the token's d; the mins Σ m_j·(Σx over sub-block j) by four vpdpwssd on
// (m, m) pairs, subtracted once per super-block as dmin·d_x·Σ.
template <int NT>
struct q4_k_tile {
  static void run(const block_q4_kx16* w, std::int64_t n_blocks, const block_q8_k* const* x, float* y,
                  std::int64_t y_stride) {
    const __m512i nibble = _mm512_set1_epi8(0x0f);
    __m512 acc[NT];
    for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
    for (std::int64_t k = 0; k < n_blocks; ++k) {
      const block_q4_kx16& b = w[k];
      const __m512 d = load_halves16(b.d);
      prefetch_tile<NT>(&b, offsetof(block_q4_kx16, qs));
      // The super-block in units of the token's scale: one multiply by it per
      // super-block instead of one per sub-block and token.
      __m512 block[NT];
      for (int t = 0; t < NT; ++t) block[t] = _mm512_setzero_ps();
      for (int j = 0; j < 8; ++j) {
        prefetch_tile<NT>(b.qs[j], sizeof b.qs[j]);
        const __m512 scale = _mm512_mul_ps(bytes_to_floats(b.scales[j]), d);
        __m512i sum[NT];
        for (int t = 0; t < NT; ++t) sum[t] = _mm512_setzero_si512();
        for (int i = 0; i < 4; ++i) {
          const __m512i line = _mm512_loadu_si512(b.qs[j][i]);
          const __m512i lo = _mm512_and_si512(line, nibble);
          for (int t = 0; t < NT; ++t) sum[t] = _mm512_dpbusd_epi32(sum[t], lo, broadcast4(x[t][k].qs + 32 * j + 4 * i));
        }
        for (int i = 0; i < 4; ++i) {
          const __m512i line = _mm512_loadu_si512(b.qs[j][i]);
          const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(line, 4), nibble);
          for (int t = 0; t < NT; ++t)
            sum[t] = _mm512_dpbusd_epi32(sum[t], hi, broadcast4(x[t][k].qs + 32 * j + 4 * (i + 4)));
        }
        for (int t = 0; t < NT; ++t) block[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum[t]), scale, block[t]);
      }
      const __m512 dmin = load_halves16(b.dmin);
      __m512i mins[4];
      for (int p = 0; p < 4; ++p) mins[p] = _mm512_cvtepu8_epi16(load256(b.mins[p]));
      for (int t = 0; t < NT; ++t) {
        const std::int16_t* bs = x[t][k].bsums;
        __m512i m = _mm512_setzero_si512();
        for (int p = 0; p < 4; ++p) {
          // (Σx of sub-block 2p, Σx of sub-block 2p+1) as two int16 in every lane.
          const auto lo = static_cast<std::uint16_t>(bs[4 * p] + bs[4 * p + 1]);
          const auto hi = static_cast<std::uint16_t>(bs[4 * p + 2] + bs[4 * p + 3]);
          const auto pair = static_cast<std::int32_t>(lo | (std::uint32_t{hi} << 16));
          m = _mm512_dpwssd_epi32(m, mins[p], _mm512_set1_epi32(pair));
        }
        block[t] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(m), dmin, block[t]);
        acc[t] = _mm512_fmadd_ps(block[t], _mm512_set1_ps(x[t][k].d), acc[t]);
      }
    }
    for (int t = 0; t < NT; ++t) _mm512_storeu_ps(y + t * y_stride, acc[t]);
  }
};

// Packed q6_k: per 16-element sub-block the 6-bit weights are rebuilt from two
// nibble lines and one line of high bits, four vpdpbusd per token start from
// -32·(Σx of the sub-block) (the weights' -32 offset), then the float scale.
template <int NT>
struct q6_k_tile {
  static void run(const block_q6_kx16* w, std::int64_t n_blocks, const block_q8_k* const* x, float* y,
                  std::int64_t y_stride) {
    const __m512i nibble = _mm512_set1_epi8(0x0f);
    const __m512i high = _mm512_set1_epi8(0x30);
    __m512 acc[NT];
    for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
    for (std::int64_t k = 0; k < n_blocks; ++k) {
      const block_q6_kx16& b = w[k];
      const __m512 d = load_halves16(b.d);
      prefetch_tile<NT>(&b, offsetof(block_q6_kx16, sub));
      __m512 block[NT];  // as in q4_k_tile: in units of the token's scale
      for (int t = 0; t < NT; ++t) block[t] = _mm512_setzero_ps();
      for (int j = 0; j < 16; ++j) {
        prefetch_tile<NT>(&b.sub[j], sizeof b.sub[j]);
        const __m512 scale = _mm512_mul_ps(bytes_to_floats(b.scales[j]), d);
        const __m512i l0 = _mm512_loadu_si512(b.sub[j].ql[0]);
        const __m512i l1 = _mm512_loadu_si512(b.sub[j].ql[1]);
        const __m512i h = _mm512_loadu_si512(b.sub[j].qh);
        __m512i wq[4];
        wq[0] = _mm512_or_si512(_mm512_and_si512(l0, nibble), _mm512_and_si512(_mm512_slli_epi16(h, 4), high));
        wq[1] = _mm512_or_si512(_mm512_and_si512(l1, nibble), _mm512_and_si512(_mm512_slli_epi16(h, 2), high));
        wq[2] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l0, 4), nibble), _mm512_and_si512(h, high));
        wq[3] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l1, 4), nibble),
                                _mm512_and_si512(_mm512_srli_epi16(h, 2), high));
        __m512i sum[NT];
        for (int t = 0; t < NT; ++t) sum[t] = _mm512_set1_epi32(-32 * x[t][k].bsums[j]);
        for (int g = 0; g < 4; ++g)
          for (int t = 0; t < NT; ++t)
            sum[t] = _mm512_dpbusd_epi32(sum[t], wq[g], broadcast4(x[t][k].qs + 16 * j + 4 * g));
        for (int t = 0; t < NT; ++t) block[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum[t]), scale, block[t]);
      }
      for (int t = 0; t < NT; ++t) acc[t] = _mm512_fmadd_ps(block[t], _mm512_set1_ps(x[t][k].d), acc[t]);
    }
    for (int t = 0; t < NT; ++t) _mm512_storeu_ps(y + t * y_stride, acc[t]);
  }
};

template <int NT>
struct f16_tile {
  static void run(const block_f16x16* w, std::int64_t n_pairs, const f32_pair* const* x, float* y,
                  std::int64_t y_stride) {
    __m512 even[NT], odd[NT];
    for (int t = 0; t < NT; ++t) even[t] = odd[t] = _mm512_setzero_ps();
    for (std::int64_t k = 0; k < n_pairs; ++k) {
      prefetch_tile<NT>(w + k, sizeof(block_f16x16));
      const __m512 w0 = load_halves16(w[k].w[0]);
      const __m512 w1 = load_halves16(w[k].w[1]);
      for (int t = 0; t < NT; ++t) {
        even[t] = _mm512_fmadd_ps(w0, _mm512_set1_ps(x[t][k].x[0]), even[t]);
        odd[t] = _mm512_fmadd_ps(w1, _mm512_set1_ps(x[t][k].x[1]), odd[t]);
      }
    }
    for (int t = 0; t < NT; ++t) _mm512_storeu_ps(y + t * y_stride, _mm512_add_ps(even[t], odd[t]));
  }
};

}  // namespace

void gemm_f16x16(const block_f16x16* w, std::int64_t n_pairs, const f32_pair* x, std::size_t x_stride_pairs,
                 std::int64_t n_tokens, float* y, std::int64_t y_stride) {
  over_token_tiles<f16_tile>(w, n_pairs, x, x_stride_pairs, n_tokens, y, y_stride);
}

void gemm_q8_0x16(const block_q8_0x16* w, std::int64_t n_blocks, const block_q8_0_summed* x,
                  std::size_t x_stride_blocks, std::int64_t n_tokens, float* y, std::int64_t y_stride) {
  over_token_tiles<q8_0_tile>(w, n_blocks, x, x_stride_blocks, n_tokens, y, y_stride);
}

void gemm_q4_kx16(const block_q4_kx16* w, std::int64_t n_blocks, const block_q8_k* x, std::size_t x_stride_blocks,
                  std::int64_t n_tokens, float* y, std::int64_t y_stride) {
  over_token_tiles<q4_k_tile>(w, n_blocks, x, x_stride_blocks, n_tokens, y, y_stride);
}

void gemm_q6_kx16(const block_q6_kx16* w, std::int64_t n_blocks, const block_q8_k* x, std::size_t x_stride_blocks,
                  std::int64_t n_tokens, float* y, std::int64_t y_stride) {
  over_token_tiles<q6_k_tile>(w, n_blocks, x, x_stride_blocks, n_tokens, y, y_stride);
}

}  // namespace huashan::engine::vnni

#else

namespace huashan::engine::vnni {
bool compiled() { return false; }
void dot8_f32(const float*, std::int64_t, const float*, std::int64_t, bool, float*) {}
float dot_q8_0(const void*, const void*, std::int64_t) { return 0.0f; }
void dot4_q8_0(const void*, const void*, std::size_t, std::int64_t, float*) {}
void sum_q8_0(const block_q8_0*, std::int64_t, block_q8_0_summed*) {}
void gemm_q8_0x16(const block_q8_0x16*, std::int64_t, const block_q8_0_summed*, std::size_t, std::int64_t, float*,
                  std::int64_t) {}
void gemm_q4_kx16(const block_q4_kx16*, std::int64_t, const block_q8_k*, std::size_t, std::int64_t, float*,
                  std::int64_t) {}
void gemm_q6_kx16(const block_q6_kx16*, std::int64_t, const block_q8_k*, std::size_t, std::int64_t, float*,
                  std::int64_t) {}
void gemm_f16x16(const block_f16x16*, std::int64_t, const f32_pair*, std::size_t, std::int64_t, float*, std::int64_t) {}
}  // namespace huashan::engine::vnni

#endif
