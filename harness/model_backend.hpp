// The one interface every model sits behind, whether our engine runs it or a
// remote OpenAI-compatible server does. It carries lm-evaluation-harness's
// three requests (loglikelihood, loglikelihood_rolling, generate_until) for
// the eval runner, and chat generation with streaming for the arena's battles
// and the /v1 routes. Batch calls take every request at once so a backend can
// batch and reuse shared prefixes; results come back in the requests' order.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "harness/engine/chat_template.hpp"

namespace huashan::harness {

// One message type from the HTTP routes down to the template renderer.
using chat_message = engine::chat_message;

struct generation_options {
  std::int32_t max_tokens = 512;
  double temperature = 0.7;
  double top_p = 1.0;
  std::optional<std::uint64_t> seed;
  std::vector<std::string> stop;
};

struct generation_result {
  std::string text;
  std::string finish_reason;  // "stop" | "length" | ...
  std::int32_t prompt_tokens = 0;
  std::int32_t completion_tokens = 0;
  std::chrono::milliseconds first_token_latency{0};
  std::chrono::milliseconds total_latency{0};
};

// Receives each streamed piece of text as it arrives; return false to stop the
// generation early (the result then holds what arrived so far).
using text_sink = std::function<bool(std::string_view piece)>;

// log P(continuation | context). As lm-evaluation-harness: the continuation's
// tokens are those of tokenize(context + continuation) after the context's
// (so a leading space joins the continuation's first word); the model's BOS
// (when it has one) starts the context.
struct loglikelihood_request {
  std::string context;
  std::string continuation;
};
struct loglikelihood_result {
  double logprob = 0.0;     // Σ log-probability of the continuation tokens
  bool is_greedy = false;   // every continuation token was the argmax
  std::int32_t n_tokens = 0;  // continuation tokens scored
};

// log P(text), every token predicted once, over windows of the model's context.
struct rolling_request {
  std::string text;
};
struct rolling_result {
  double logprob = 0.0;
  std::int32_t n_tokens = 0;
};

// Text after `context` until a stop string (not included), max_tokens or the
// end of generation. temperature 0 = greedy; with a seed, sampling repeats.
struct generate_until_request {
  std::string context;
  std::vector<std::string> until;
  std::int32_t max_tokens = 256;
  double temperature = 0.0;
  double top_p = 1.0;
  std::uint64_t seed = 0;
};

// What identifies the model a result came from: two runs with equal
// fingerprints ran the same weights with the same settings. `fields` are the
// facts (gguf_sha256 or endpoint and model, tensor_types, chat_template_sha256,
// engine_version, ...), name -> value, printed into results as they are.
struct model_fingerprint {
  std::string kind;  // "gguf" | "openai"
  std::map<std::string, std::string> fields;
};

// A backend asked for something it cannot do (a chat-only endpoint asked for
// log-likelihoods): the message names the backend and the limitation.
class capability_error : public huashan::input_error {
 public:
  using input_error::input_error;
};

class model_backend {
 public:
  virtual ~model_backend() = default;
  // Generates the assistant's answer to `messages` (the model's own chat
  // template). Throws backend_error naming the model and what failed; never
  // returns a partial answer silently unless the sink asked to stop.
  virtual generation_result chat(const std::vector<chat_message>& messages, const generation_options& options,
                                 const text_sink& on_text) = 0;
  // Batch requests; results in the requests' order. Throw capability_error
  // when the backend cannot serve the kind, backend_error / input_error when a
  // request fails (naming which).
  virtual std::vector<loglikelihood_result> loglikelihood(std::span<const loglikelihood_request> requests) = 0;
  virtual std::vector<rolling_result> loglikelihood_rolling(std::span<const rolling_request> requests) = 0;
  virtual std::vector<generation_result> generate_until(std::span<const generate_until_request> requests) = 0;
  // The model's identity for results and caches (computed once, then cached).
  virtual model_fingerprint fingerprint() const = 0;
  // The model's name at its backend (for logs and errors).
  virtual std::string describe() const = 0;
};

}  // namespace huashan::harness
