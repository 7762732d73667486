// What attention.cpp (the run-time dispatch), attention_scalar.cpp (the
// reference) and the SIMD kernels (attention_avx2.cpp, attention_avx512.cpp,
// each compiled with its own -m flags) share: the kernels' entry points, which
// the dispatch calls only on a CPU that has their instructions, and the cache
// walking and the F16 dot's order that every variant must follow alike.
// The inline helpers have internal linkage (an unnamed namespace) so that the
// AVX-512 file's copies, built with AVX-512 allowed, never serve another file.
#pragma once

#include <cstddef>
#include <cstdint>

#include "harness/engine/attention.hpp"
#include "harness/engine/kv_half.hpp"

namespace huashan::engine {

namespace avx2 {
// Whether attention_avx2.cpp was built with AVX2/FMA/F16C (false elsewhere:
// the functions below then do nothing).
bool attention_compiled();
// attend_reference for the F16 cache, the same bits; head sizes multiples of 8,
// and heads shorter than half_dot_step with at most 24 values. With `avx512`
// the exponentials and the V pass of heads of 64 and 128 take the AVX-512
// kernels (the same bits again).
void attend_f16(const attention_args& a, const float* q, float* scores, float* out, bool avx512);
// The online softmax of the F16 reference taken out of the V pass: scores in,
// each key's weight out (or, where the key raised the running maximum, the
// rescale of the sum so far as -ms with the sign bit set); returns the
// denominator. `avx512` as for attend_f16.
float softmax_weights(float* weights, std::int32_t n, bool avx512);
}  // namespace avx2

namespace avx512 {
// Whether attention_avx512.cpp was built with AVX-512 F/VL/BW/DQ (false elsewhere).
bool attention_compiled();
// The softmax exponentials of softmax_weights for whole groups of eight keys;
// returns how many were done.
std::int32_t softmax_exponentials(float* y, std::int32_t n);
// The V pass of avx2::attend_f16 for heads of 64 and 128 values with the F16
// accumulator in registers; false (nothing done) for other sizes.
bool values_f16(const attention_args& a, const float* weights, float sum, float* out);
// Two query heads of one KV head in one pass over its rows (F16 cache), for
// heads of at least half_dot_step keys (a multiple of 8) and 64 or 128 values;
// false (nothing done) for other sizes. scores: scratch of 2 x n_kv floats.
bool attend_pair_f16(const attention_args& a, const float* q, float* scores, float* out);
// Whether short heads of these sizes run side by side (F16 cache: K and V of
// 8, 16 or 24 elements; see attention_avx512.cpp).
bool has_lanes_kernel(std::int32_t head_dim_k, std::int32_t head_dim_v);
// attend_heads for such heads; scratch holds at least 10 x n_kv floats.
void attend_heads_lanes(const attention_args& a, std::int32_t n_kv_heads, std::int32_t group, const float* q,
                        float* scratch, float* out);
}  // namespace avx512

namespace {

// The F16 dot's step (ggml's vec_dot_f16 on x86 AVX2): four 8-lane
// accumulators; elements past the last whole step are the tail.
constexpr std::int32_t half_dot_step = 32;

// The end of the F16 dot in ggml's order: the vector part (already reduced to
// one float, 0 where there is none) plus the tail's products (exact in float:
// two halves) added one at a time in double, the total rounded once.
inline float half_dot_tail(float vector_sum, const float* q_half, const std::uint16_t* k, std::int32_t n_simd,
                           std::int32_t n) {
  double s = static_cast<double>(vector_sum);
  for (std::int32_t i = n_simd; i < n; ++i) s += static_cast<double>(q_half[i] * kv::half_to_float(k[i]));
  return static_cast<float>(s);
}

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

}  // namespace

}  // namespace huashan::engine
