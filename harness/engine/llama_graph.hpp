// The forward pass shared by llama, qwen2 and qwen3 (pre-norm decoder blocks):
//   x = embed(tokens)                                   [T, n_embd]
//   per layer:
//     h = rmsnorm(x) · attn_norm
//     q = h Wqᵀ (+bq)  [T, n_head·hd_k];  k = h Wkᵀ (+bk), v = h Wvᵀ (+bv)  [T, n_kv·hd]
//     qwen3: q, k per head rmsnorm · q_norm / k_norm  [hd_k]
//     q, k = rope(q, k, pos);  K/V cache[seq][pos] = k, v
//     a = causal attention over the sequence's cache   [T, n_head·hd_v]
//     x = x + a Woᵀ
//     h = rmsnorm(x) · ffn_norm
//     x = x + (silu(h Wgateᵀ) ⊙ h Wupᵀ) Wdownᵀ
//   logits = (rmsnorm(x) · output_norm) Woutᵀ           [rows wanting logits, n_vocab]
// A batch mixes rows of many sequences (prefill chunks and decode tokens). Every
// row's math is the same whatever else is in the batch: matmul computes each
// (row, output) dot independently and attention visits keys in position order.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "harness/engine/kv_cache.hpp"
#include "harness/engine/model.hpp"
#include "harness/engine/thread_pool.hpp"

namespace huashan::engine {

// One row of a batch: `token` of sequence `seq` at position `pos`.
struct batch_row {
  std::int32_t token = 0;
  std::int32_t pos = 0;
  std::int32_t seq = 0;     // kv_cache sequence id
  bool want_logits = false;
  // The row belongs to a prompt of two or more tokens, or to a score computed
  // as one forward pass (score_request::continuation_as_prompt; see matmul's
  // prompt_rows): its F32 products take the order of llama.cpp's prompt path.
  bool prompt = false;
};

class llama_graph {
 public:
  llama_graph(const model& m, thread_pool& pool);

  // Runs `rows` (positions of a sequence ascending, each sequence's earlier
  // positions already in `cache`, blocks reserved for these). Writes their K/V
  // into the cache and the logits of rows with want_logits, in row order, to
  // `logits` (resized to n_logit_rows · n_vocab). Throws input_error for a token
  // id outside the vocabulary.
  void forward(std::span<const batch_row> rows, kv_cache& cache, std::vector<float>& logits);

  // Whether batch_row::prompt changes any layer product (an f32 model): then
  // K/V computed for generated rows differ from what the same tokens give as
  // a prompt, and must not be offered to later prompts for reuse.
  bool prompt_order_matters() const { return prompt_order_matters_; }

  // How many forward calls split their sequences between threads (a small
  // model's batch of several sequences; see forward_split).
  std::int64_t split_forward_calls() const { return split_forward_calls_; }

 private:
  void ensure_capacity(std::int64_t n_rows);
  // forward for a small model: whole sequences' rows split between the pool's
  // threads, each thread running every layer for its share alone. False
  // (nothing done) when the model is large or the rows do not split evenly.
  bool forward_split(std::span<const batch_row> rows, kv_cache& cache, std::vector<float>& logits);

  // The pool for a product of `work` multiply-adds: small ones stay on the
  // calling thread (serial_pool_), where waking workers would cost more.
  thread_pool& pool_for(std::int64_t work);

  const model& m_;
  thread_pool& pool_;
  bool prompt_order_matters_ = false;
  thread_pool serial_pool_{1};
  std::int64_t capacity_ = 0;
  // Work buffers, [rows, width] row-major.
  std::vector<float> x_, h_, q_, k_, v_, att_, o_, gate_, up_, ffn_out_, rope_cs_;
  std::vector<std::uint8_t> prompt_rows_;  // batch_row::prompt per row, for matmul
  // forward_split's parts: one single-threaded graph per pool thread, taken
  // from free_parts_ by the thread that claims a share; logits per share.
  bool small_model_ = false;
  std::int64_t split_forward_calls_ = 0;
  std::vector<std::unique_ptr<thread_pool>> part_pools_;
  std::vector<std::unique_ptr<llama_graph>> parts_;
  std::mutex parts_mutex_;
  std::vector<llama_graph*> free_parts_;
  std::vector<std::vector<float>> part_logits_;
};

}  // namespace huashan::engine
