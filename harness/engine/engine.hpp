// The engine's public API: load a GGUF model and serve many generate and score
// requests with continuous batching over a paged KV cache (see scheduler.hpp).
// No suites, no HTTP: the harness and the arena build on this.
//
// Results do not depend on batching: every row of a batch is computed with the
// same operations in the same order as it would be alone (llama_graph.hpp), and
// each request samples with its own seeded RNG. The unit tests check scores
// are bit-identical between one-at-a-time and batched runs (stated tolerance 1e-4).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "harness/engine/gguf.hpp"
#include "harness/engine/kv_cache.hpp"
#include "harness/engine/model.hpp"
#include "harness/engine/sampling.hpp"
#include "harness/engine/scoring.hpp"
#include "harness/engine/tokenizer.hpp"

namespace huashan::engine {

struct engine_config {
  std::int32_t n_threads = 0;            // <= 0: one per hardware thread
  std::int32_t n_ctx = 4096;             // most tokens of one sequence (capped by the model's context_length)
  std::int32_t max_batch_tokens = 256;   // rows of one forward pass (prefill chunks + decode tokens)
  std::int32_t max_sequences = 64;       // sequences running at once
  std::int32_t max_logit_rows = 64;      // score rows needing logits in one forward (bounds logits memory)
  kv_cache_config kv;                    // block size, memory budget, F16/F32, prefix reuse
};

enum class finish_reason { length, eos, stop, context };

// "length", "eos", "stop", "context".
std::string_view finish_reason_name(finish_reason r);

struct generate_request {
  std::vector<std::int32_t> prompt;  // token ids (BOS included if wanted)
  sampling_params sampling;          // temperature 0 = greedy
  std::int32_t max_tokens = 128;
  std::vector<std::string> stop;     // stop strings (need a tokenizer); the text ends before the match
  bool ignore_eos = false;           // keep going past end-of-generation tokens
  // Streamed text pieces, complete UTF-8, held back while they may begin a stop
  // string; called on the thread running step(). Their concatenation equals result.text.
  std::function<void(std::string_view)> on_text;
};

struct generate_result {
  std::vector<std::int32_t> tokens;  // generated ids (no end-of-generation token)
  std::string text;                  // their text (empty without a tokenizer), cut at a stop string
  finish_reason finish = finish_reason::length;
  std::int32_t n_prompt = 0;
  std::int32_t n_prompt_cached = 0;  // prompt tokens whose K/V came from the prefix cache
};

struct score_request {
  std::vector<std::int32_t> context;       // must be non-empty (start with BOS for most models)
  std::vector<std::int32_t> continuation;  // the tokens scored, must be non-empty
  std::int32_t top_n = 0;                  // alternatives per token to report
  // Compute the continuation's rows as prompt rows: one forward pass over
  // context + continuation, as a server scores an echoed prompt. Off, they are
  // computed as generation computed them, one token at a time after the
  // context (teacher forcing of generated tokens). Only f32 models tell the two
  // apart (llama_graph::prompt_order_matters): the products' last bits, which
  // an F16 KV cache's rounding grows to ~1e-3 per token on stories260K. On, a
  // result no longer depends on where the context ends: a text scored as
  // (context, continuation) and as ([BOS], the rest) gives the same bits.
  bool continuation_as_prompt = false;
};

struct score_result {
  double logprob = 0.0;        // Σ logprob of the continuation tokens
  bool is_greedy = true;       // every continuation token is the argmax at its step
  std::vector<token_score> tokens;
  std::int32_t n_prompt_cached = 0;
};

struct engine_stats {
  std::int64_t forward_calls = 0;
  std::int64_t rows = 0;              // batch rows computed (prompt + generated)
  std::int64_t prompt_tokens = 0;     // prefill rows
  std::int64_t generated_tokens = 0;  // sampled tokens
  std::int64_t max_batch_rows = 0;    // largest forward seen
  std::int64_t max_batch_sequences = 0;  // most sequences in one forward
  std::int64_t split_forward_calls = 0;  // forwards whose sequences were split between threads (small models)
  kv_cache_stats kv;
};

class scheduler;

class inference_engine {
 public:
  // Opens and maps the GGUF, loads the model and (when the file has one) its
  // tokenizer. Throws io_error / input_error naming the file and what is wrong.
  inference_engine(const std::filesystem::path& model_path, const engine_config& config = {});
  // Same from an already open file (tests build models in memory).
  inference_engine(gguf_file file, const engine_config& config = {});
  ~inference_engine();
  inference_engine(const inference_engine&) = delete;
  inference_engine& operator=(const inference_engine&) = delete;

  const huashan::engine::model& model() const { return *model_; }
  // The tokenizer; throws input_error when the model file has none.
  const huashan::engine::tokenizer& tokenizer() const;
  bool has_tokenizer() const { return tokenizer_ != nullptr; }
  const engine_config& config() const { return config_; }
  std::int32_t n_ctx() const;
  std::int32_t n_threads() const;

  // Queues a request (thread-safe); it joins the running batch at the next step.
  // Bad requests (empty, longer than n_ctx, larger than the whole KV cache)
  // resolve the future with an input_error.
  std::future<generate_result> submit(generate_request request);
  std::future<score_result> submit(score_request request);
  // Runs one scheduler step (admit, one forward over all running sequences,
  // sample/score); false when nothing was pending. Call from one thread.
  bool step();
  // Steps until every submitted request has finished.
  void run_until_idle();

  // Submit all, run, collect in order (rethrows a request's error).
  std::vector<generate_result> generate(std::vector<generate_request> requests);
  std::vector<score_result> score(std::vector<score_request> requests);
  // Σ logprob of every token of `tokens` (lm-eval loglikelihood_rolling) with
  // windows of at most `max_len` tokens (<= 0: n_ctx); the first window is
  // conditioned on `prefix_token` (< 0: the vocab's BOS, else its EOS; input_error
  // when there is neither). Windows run as one batch.
  double loglikelihood_rolling(std::span<const std::int32_t> tokens, std::int32_t max_len = 0,
                               std::int32_t prefix_token = -1);

  engine_stats stats() const;

 private:
  void init();

  engine_config config_;
  std::unique_ptr<gguf_file> file_;
  std::unique_ptr<huashan::engine::model> model_;
  std::unique_ptr<huashan::engine::tokenizer> tokenizer_;
  std::unique_ptr<scheduler> scheduler_;
};

}  // namespace huashan::engine
