// Continuous batching over the paged KV cache. Each step:
//   1. admit queued requests (FIFO) while sequences and KV blocks allow: attach
//      cached prefix blocks, reserve blocks for prompt + max_tokens; a request
//      whose prefix a running sequence is still computing waits for it;
//   2. build one batch: a decode row for every generating sequence, then prefill
//      chunks of the others up to max_batch_tokens rows;
//   3. run the forward pass; commit the new K/V (publishing full blocks);
//   4. sample next tokens / score continuation tokens; finish and free sequences.
// Requests that arrive between steps join at the next one.
#pragma once

#include <cstdint>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "harness/engine/engine.hpp"
#include "harness/engine/kv_cache.hpp"
#include "harness/engine/llama_graph.hpp"
#include "harness/engine/sampling.hpp"
#include "harness/engine/thread_pool.hpp"

namespace huashan::engine {

class scheduler {
 public:
  // `tok` may be null (no text: stop strings and on_text are then refused).
  scheduler(const model& m, const tokenizer* tok, const engine_config& config, std::int32_t n_ctx);

  std::future<generate_result> submit(generate_request request);
  std::future<score_result> submit(score_request request);
  // One step as above; false when there was nothing to do.
  bool step();
  bool idle();
  // Counters as of the end of the last step (safe from any thread).
  engine_stats stats() const;
  std::int32_t n_threads() const { return pool_.size(); }

 private:
  struct sequence {
    bool is_score = false;
    generate_request gen;
    score_request score;
    std::promise<generate_result> gen_promise;
    std::promise<score_result> score_promise;
    std::int32_t kv_seq = -1;
    std::vector<std::int32_t> tokens;  // all tokens fed or to feed (prompt/context+continuation, then generated)
    std::int32_t n_fed = 0;            // tokens whose K/V are in the cache
    std::int32_t n_prompt = 0;         // generate: prompt length; score: context length
    std::int32_t n_cached = 0;
    std::optional<sampler> smp;
    generate_result gen_out;
    score_result score_out;
    std::size_t emitted = 0;  // bytes of gen_out.text already streamed
    bool done = false;
  };

  // Tokens of `s` still to feed this request (score: all but the last token).
  std::int32_t n_to_feed(const sequence& s) const;
  // How many leading tokens of `s` are computed as prompt rows
  // (batch_row::prompt): a prompt of two or more tokens, every token of a
  // score with continuation_as_prompt, else none.
  static std::int32_t n_prompt_rows(const sequence& s);
  bool admit(sequence& s);  // false: not enough KV blocks now
  // True while a running sequence is computing prompt blocks `s` could reuse
  // (full blocks of their common prefix not yet in the cache).
  bool waits_for_prefix(const sequence& s) const;
  void fail(sequence& s, std::exception_ptr error);
  void on_generated(sequence& s, std::int32_t id);
  void finish(sequence& s, finish_reason reason);
  void stream(sequence& s, bool final);

  const model& m_;
  const tokenizer* tok_;
  engine_config config_;
  std::int32_t n_ctx_;
  thread_pool pool_;
  kv_cache cache_;
  llama_graph graph_;
  std::mutex queue_mutex_;
  std::deque<std::unique_ptr<sequence>> queue_;
  std::vector<std::unique_ptr<sequence>> running_;
  std::vector<batch_row> rows_;
  std::vector<float> logits_;
  engine_stats stats_;                // updated by step()
  mutable std::mutex stats_mutex_;
  engine_stats published_stats_;      // copy of stats_ after the last step, for other threads
};

}  // namespace huashan::engine
