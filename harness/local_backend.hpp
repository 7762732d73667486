// Local GGUF models behind the model_backend interface. A local_model owns one
// inference_engine (loaded once, shared by every battle and every /v1 request)
// and the one driver thread that may call its step(): the driver sleeps on a
// condition variable until a request is submitted, then steps until the
// engine is idle. Callers never touch step(); they submit and wait.
//
// Streamed text is produced on the driver thread (generate_request::on_text)
// and must never run user code there: a text_channel queues the pieces and the
// caller's own thread takes them out and hands them to its sink.
//
// The engine has no cancellation: a request, once submitted, runs to its
// max_tokens, a stop string or end-of-generation. A sink that returns false
// (or an HTTP client that leaves) only stops the forwarding; the driver keeps
// computing that sequence until it ends on its own.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <deque>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "harness/engine/chat_template.hpp"
#include "harness/engine/engine.hpp"
#include "harness/jinja/jinja.hpp"
#include "harness/model_backend.hpp"

namespace huashan::harness {

class local_model {
 public:
  // Loads the GGUF at `path` (io_error / input_error naming the file) and
  // starts the driver thread. `name` is what clients call the model.
  local_model(std::string name, const std::filesystem::path& path, const engine::engine_config& config = {});
  // Same from an open file (tests write models in memory).
  local_model(std::string name, engine::gguf_file file, const engine::engine_config& config = {});
  // Finishes every submitted request (their futures resolve), then stops the driver.
  ~local_model();
  local_model(const local_model&) = delete;
  local_model& operator=(const local_model&) = delete;

  const std::string& name() const { return name_; }
  // Unix seconds when the model was loaded (the "created" of /v1/models).
  std::int64_t created() const { return created_; }
  // The engine, for model(), tokenizer(), n_ctx() and config(). The driver owns
  // step(); stats() reads scheduler state the driver writes, so not from here.
  const engine::inference_engine& engine() const { return *engine_; }
  // The tokenizer; input_error naming the model when its file has none.
  const engine::tokenizer& tokenizer() const;
  std::int32_t n_ctx() const { return engine_->n_ctx(); }

  // Queue a request for the driver (thread-safe). Bad requests resolve the
  // future with the engine's input_error, as inference_engine::submit does.
  std::future<engine::generate_result> submit(engine::generate_request request);
  std::future<engine::score_result> submit(engine::score_request request);
  // Queues every request before the driver looks, so they share its first step.
  std::vector<std::future<engine::score_result>> submit(std::vector<engine::score_request> requests);
  std::vector<std::future<engine::generate_result>> submit(std::vector<engine::generate_request> requests);

  // lm-evaluation-harness's split of (context, continuation) into tokens, the
  // one used by `huashan score` and by loglikelihood: the context tokenized
  // with BOS as the vocab says (special tokens written in the text are
  // parsed, as a Hugging Face tokenizer does), the continuation = the tokens of
  // tokenize(context + continuation) after their longest common prefix with
  // the context's (so " word" joins its space). An empty context, or one that
  // shares no token with the whole, becomes the prefix token alone (BOS, else
  // EOS). The continuation may come out empty (an empty continuation text).
  // Scored as one forward pass (continuation_as_prompt), as a server scores
  // the echoed context + continuation.
  engine::score_request loglikelihood_tokens(std::string_view context, std::string_view continuation) const;
  // The token that starts a text with no context: BOS, else EOS; input_error
  // naming the model when the vocab has neither.
  std::int32_t prefix_token() const;

  // Identity for results: kind "gguf" with gguf_sha256 (of the file's bytes,
  // computed on first call and kept), file, architecture, tensor_types,
  // chat_template_sha256, engine_version, n_ctx and kv_type.
  model_fingerprint fingerprint() const;

  // True when the file carries a chat template we can render: its own Jinja
  // (tokenizer.chat_template), or failing that a family written by hand.
  bool has_chat_template() const;
  // How chat prompts are made: "jinja" (the file's template), the hand-written
  // family's name when the template does not parse, or "none".
  std::string chat_template_kind() const;
  // The prompt tokens for `messages`: the model's own chat template rendered
  // as transformers' apply_chat_template does (add_generation_prompt), BOS
  // added unless the template wrote it; only the template's own markers become
  // control tokens, what the messages say stays plain text. input_error when
  // the model has no template, the list is empty, or the template refuses the
  // conversation (its raise_exception message, e.g. roles out of order).
  std::vector<std::int32_t> chat_prompt(std::span<const chat_message> messages) const;
  // The prompt tokens for a model without a chat template (a base model):
  // the conversation as plain text, each answer right after its prompt and a
  // blank line before the next prompt, BOS as the vocab says. input_error for
  // an empty conversation.
  std::vector<std::int32_t> plain_prompt(std::span<const chat_message> messages) const;

 private:
  void start();
  void drive();
  void wake();
  // Facts of the file for fingerprint(), read before the engine takes it.
  void describe_file(const engine::gguf_file& file);

  std::string name_;
  std::int64_t created_ = 0;
  std::unique_ptr<engine::inference_engine> engine_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool work_ = false;  // a submit happened since the driver last looked
  bool stop_ = false;
  std::thread driver_;

  // The file's chat template, parsed once at load; absent when the file has
  // none or it does not parse (then the hand-written family, if any).
  std::optional<jinja::template_> chat_template_;
  std::filesystem::path path_;  // empty for an in-memory model
  model_fingerprint fingerprint_;  // all but gguf_sha256 until the first fingerprint()
  mutable std::once_flag sha256_once_;
  mutable std::string sha256_;
};

// Models by the name clients use. Shared pointers: the /v1 routes and the
// battles' local_backends use the same loaded models.
using local_model_registry = std::map<std::string, std::shared_ptr<local_model>, std::less<>>;

// Loads every (name, path) pair; input_error for an empty or duplicate name,
// io_error / input_error from loading (naming the file).
local_model_registry load_local_models(const std::vector<std::pair<std::string, std::filesystem::path>>& models,
                                       const engine::engine_config& config = {});

// A queue between on_text callbacks on the driver thread and one consumer
// thread, for one or several generations (pieces carry their stream's index).
class text_channel {
 public:
  struct piece {
    std::size_t index;
    std::string text;
  };
  // An on_text callback for stream `index`; it keeps the channel alive, so a
  // generation may outlive the consumer that stopped listening.
  static std::function<void(std::string_view)> writer(const std::shared_ptr<text_channel>& channel, std::size_t index);
  // Takes every queued piece, waiting up to `timeout` for the first one.
  std::vector<piece> take(std::chrono::milliseconds timeout);

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<piece> queue_;
};

// Engine sampling for OpenAI-style options: temperature (0 = greedy), top_p,
// and the seed, or a fresh random one when none is given.
engine::sampling_params sampling_for(double temperature, double top_p, std::optional<std::uint64_t> seed);
// "stop" for end-of-generation and stop strings, "length" for max_tokens and a full context.
std::string openai_finish_reason(engine::finish_reason reason);

// model_backend over a local_model: chat() renders the chat template (a model
// without one gets plain_prompt, as a base model is used), submits
// one generate request and forwards its text to the sink on the caller's
// thread. Throws backend_error (status 400) for a prompt the model cannot take.
//
// The batch calls tokenize every request, submit them all at once (the
// scheduler batches them and, as requests sharing a prompt prefix wait for
// its blocks, computes a shared few-shot prefix once) and wait. Requests are
// submitted sorted by their tokens, so those sharing a context are adjacent.
// Inputs longer than the context are cut on the left, as lm-evaluation-harness does.
class local_backend final : public model_backend {
 public:
  explicit local_backend(std::shared_ptr<local_model> model);

  generation_result chat(const std::vector<chat_message>& messages, const generation_options& options,
                         const text_sink& on_text) override;
  std::vector<loglikelihood_result> loglikelihood(std::span<const loglikelihood_request> requests) override;
  std::vector<rolling_result> loglikelihood_rolling(std::span<const rolling_request> requests) override;
  std::vector<generation_result> generate_until(std::span<const generate_until_request> requests) override;
  model_fingerprint fingerprint() const override;
  std::string describe() const override;

 private:
  std::shared_ptr<local_model> model_;
};

}  // namespace huashan::harness
