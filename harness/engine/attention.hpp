// Causal multi-head attention of one query vector over a sequence's paged K/V.
// For query head h (KV head g = h / (n_head / n_head_kv), grouped-query attention):
//   s_j = (q · K[j]) · scale              j = 0 .. n_kv-1 (positions 0..pos)
//   p_j = exp(s_j − max s) / Σ exp(s − max s)
//   out = Σ_j p_j · V[j]
// The keys are visited in position order whatever the batch, so a row's result
// does not depend on what else is in the batch (batch invariance).
#pragma once

#include <cstdint>
#include <vector>

#include "harness/engine/kv_cache.hpp"

namespace huashan::engine {

// Largest head size the attention kernels accept (checked when a model loads).
inline constexpr std::int32_t max_head_dim = 512;

struct attention_args {
  const kv_cache* cache = nullptr;
  std::int32_t layer = 0;
  const std::vector<std::int32_t>* blocks = nullptr;  // the sequence's block table
  std::int32_t n_kv = 0;         // keys to attend to (query position + 1)
  std::int32_t kv_head = 0;      // which KV head
  std::int32_t head_dim_k = 0;
  std::int32_t head_dim_v = 0;
  float scale = 1.0f;            // 1/sqrt(head_dim_k)
  // Optional: the block table, key count and KV head of the row the caller
  // attends to next (same layer). The long-head kernels (not the short heads
  // run side by side) fetch its rows into L2 while they compute this one;
  // results do not change.
  const std::vector<std::int32_t>* next_blocks = nullptr;
  std::int32_t next_n_kv = 0;
  std::int32_t next_kv_head = 0;
};

// out[0..head_dim_v) for query q[0..head_dim_k); `scores` is scratch of at least n_kv floats.
// F32 cache: exact two-pass softmax (sum in double). F16 cache: ggml's flash-attention
// numerics (Q and the V accumulator in F16, online softmax), to agree with llama.cpp.
// Dispatches to the AVX2/F16C kernel for the F16 cache when the CPU has it.
void attend(const attention_args& a, const float* q, float* scores, float* out);
// attend for n_q consecutive query heads that share a.kv_head (grouped-query
// attention): q holds them head_dim_k apart, out head_dim_v apart; scores is
// scratch of at least 2 x n_kv floats. Each head's result is the same bits as
// attend's; pairs of heads share one pass over the K/V rows where the kernel
// allows (F16 cache, AVX-512, head sizes 64 and 128).
void attend_group(const attention_args& a, const float* q, std::int32_t n_q, float* scores, float* out);
// attend for all the query heads of KV heads a.kv_head .. a.kv_head +
// n_kv_heads - 1, `group` query heads each (grouped-query attention), held
// consecutively in q (head_dim_k apart) and out (head_dim_v apart); scratch
// grows as needed. Each head's result is the same bits as attend's. Short heads
// (F16 cache, AVX-512, head sizes below 32) run up to eight side by side.
void attend_heads(const attention_args& a, std::int32_t n_kv_heads, std::int32_t group, const float* q,
                  std::vector<float>& scratch, float* out);
// How many KV heads one attend_heads call should take to use it well: all of
// them where short heads run side by side, else one (smaller tasks for threads).
std::int32_t attend_heads_span(const kv_cache& cache, std::int32_t head_dim_k, std::int32_t head_dim_v,
                               std::int32_t n_kv_heads);
// The plain scalar code for either cache type (the reference the SIMD kernel is tested against).
void attend_reference(const attention_args& a, const float* q, float* scores, float* out);

}  // namespace huashan::engine
