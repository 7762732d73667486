// local_model's driver thread and the chat backend over it. The driver is the
// only caller of inference_engine::step(); submit() wakes it.
#include "harness/local_backend.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "common/error.hpp"
#include "common/log.hpp"
#include "common/utf8.hpp"
#include "harness/chat_render.hpp"
#include "harness/engine/scoring.hpp"
#include "harness/fingerprint.hpp"
#include "harness/openai_client.hpp"

namespace huashan::harness {

namespace {

// How long a consumer waits for text before it looks at the futures again: a
// generation that ends without a last piece of text resolves only its future.
constexpr std::chrono::milliseconds poll_interval{5};

// Keeps the last `max_total` tokens of context + continuation (lm-evaluation-
// harness cuts long inputs on the left); at least one token stays context.
void keep_last_tokens(engine::score_request& r, std::size_t max_total) {
  const std::size_t total = r.context.size() + r.continuation.size();
  if (total <= max_total) return;
  const std::size_t drop = total - max_total;
  if (drop < r.context.size()) {
    r.context.erase(r.context.begin(), r.context.begin() + static_cast<std::ptrdiff_t>(drop));
    return;
  }
  const auto from = static_cast<std::ptrdiff_t>(drop - r.context.size());
  r.context.assign(1, r.continuation[static_cast<std::size_t>(from)]);
  r.continuation.erase(r.continuation.begin(), r.continuation.begin() + from + 1);
}

// Indices of `items` ordered by key (stable): requests whose prompts share a
// prefix end up next to each other, so they run close together in time.
template <typename Key>
std::vector<std::size_t> sorted_by(std::size_t n, const Key& key) {
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return key(a) < key(b); });
  return order;
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

local_model::local_model(std::string name, const std::filesystem::path& path, const engine::engine_config& config)
    : name_(std::move(name)), path_(path) {
  auto file = engine::gguf_file::open(path);
  describe_file(file);
  engine_ = std::make_unique<engine::inference_engine>(std::move(file), config);
  fingerprint_.fields["n_ctx"] = std::to_string(engine_->n_ctx());
  start();
}

local_model::local_model(std::string name, engine::gguf_file file, const engine::engine_config& config)
    : name_(std::move(name)) {
  describe_file(file);
  // No path to read later: the bytes in hand are what the model is.
  sha256_ = sha256_hex(file.bytes());
  engine_ = std::make_unique<engine::inference_engine>(std::move(file), config);
  fingerprint_.fields["n_ctx"] = std::to_string(engine_->n_ctx());
  start();
}

void local_model::describe_file(const engine::gguf_file& file) {
  fingerprint_.kind = "gguf";
  auto& f = fingerprint_.fields;
  f["file"] = path_.empty() ? file.name() : path_.filename().string();
  f["architecture"] = std::string(file.architecture());
  f["tensor_types"] = tensor_type_counts(file);
  const auto chat_template = file.get_string("tokenizer.chat_template");
  f["chat_template_sha256"] = chat_template ? sha256_hex(*chat_template) : "none";
  f["engine_version"] = engine_version();
}

model_fingerprint local_model::fingerprint() const {
  std::call_once(sha256_once_, [this] {
    if (sha256_.empty()) sha256_ = sha256_file_hex(path_);
  });
  model_fingerprint out = fingerprint_;
  out.fields["gguf_sha256"] = sha256_;
  out.fields["kv_type"] = engine_->config().kv.type == engine::kv_type::f16 ? "f16" : "f32";
  return out;
}

void local_model::start() {
  created_ = unix_now();
  if (engine_->has_tokenizer() && !engine_->tokenizer().vocab().chat_template.empty()) {
    try {
      chat_template_ = jinja::template_::parse(engine_->tokenizer().vocab().chat_template, jinja::chat_environment(),
                                               name_ + ": tokenizer.chat_template");
    } catch (const jinja::template_error& e) {
      log::warn("local model '{}': its chat template does not parse ({}); using {}", name_, e.what(),
                chat_template_kind() == "none" ? "plain prompts" : "the hand-written " + chat_template_kind() + " format");
    }
  }
  driver_ = std::thread([this] { drive(); });
}

local_model::~local_model() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  driver_.join();
}

void local_model::drive() {
  while (true) {
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [this] { return work_ || stop_; });
      work_ = false;
    }
    // step() returns false once nothing is queued or running. A submit that
    // lands after that sets work_ again, so no wake-up is lost. On stop the
    // loop still drains what was submitted, so every future resolves.
    try {
      while (engine_->step()) {
      }
    } catch (const std::exception& e) {
      // The scheduler fails the affected requests itself; an escape here is a
      // bug, but the driver must keep serving the other requests.
      log::error("local model '{}': engine step failed: {}", name_, e.what());
    }
    std::lock_guard lock(mutex_);
    if (stop_ && !work_) return;
  }
}

void local_model::wake() {
  {
    std::lock_guard lock(mutex_);
    work_ = true;
  }
  cv_.notify_one();
}

const engine::tokenizer& local_model::tokenizer() const {
  if (!engine_->has_tokenizer()) throw input_error(fmt::format("model '{}': the GGUF file has no tokenizer", name_));
  return engine_->tokenizer();
}

std::future<engine::generate_result> local_model::submit(engine::generate_request request) {
  auto future = engine_->submit(std::move(request));
  wake();
  return future;
}

std::future<engine::score_result> local_model::submit(engine::score_request request) {
  auto future = engine_->submit(std::move(request));
  wake();
  return future;
}

std::vector<std::future<engine::score_result>> local_model::submit(std::vector<engine::score_request> requests) {
  std::vector<std::future<engine::score_result>> futures;
  futures.reserve(requests.size());
  for (auto& r : requests) futures.push_back(engine_->submit(std::move(r)));
  wake();
  return futures;
}

std::vector<std::future<engine::generate_result>> local_model::submit(std::vector<engine::generate_request> requests) {
  std::vector<std::future<engine::generate_result>> futures;
  futures.reserve(requests.size());
  for (auto& r : requests) futures.push_back(engine_->submit(std::move(r)));
  wake();
  return futures;
}

std::int32_t local_model::prefix_token() const {
  const auto& tok = tokenizer();
  const auto id = tok.bos() != engine::no_token ? tok.bos() : tok.eos();
  if (id == engine::no_token) throw input_error(fmt::format("model '{}': the vocab has no BOS or EOS token to start a text with", name_));
  return id;
}

engine::score_request local_model::loglikelihood_tokens(std::string_view context, std::string_view continuation) const {
  const auto& tok = tokenizer();
  const engine::tokenize_options with_special{.add_special = true, .parse_special = true};
  engine::score_request request;
  request.context = tok.tokenize(context, with_special);
  std::string joined(context);
  joined += continuation;
  const auto whole = tok.tokenize(joined, with_special);
  const auto [in_whole, in_context] = std::mismatch(whole.begin(), whole.end(), request.context.begin(), request.context.end());
  const auto common = static_cast<std::size_t>(in_whole - whole.begin());
  request.context.resize(common);
  request.continuation.assign(in_whole, whole.end());
  if (request.context.empty()) request.context.push_back(prefix_token());
  // Context and continuation as one forward pass: the same numbers as a
  // server's echoed prompt, wherever the split falls.
  request.continuation_as_prompt = true;
  return request;
}

bool local_model::has_chat_template() const { return chat_template_kind() != "none"; }

std::string local_model::chat_template_kind() const {
  if (chat_template_) return "jinja";
  if (!engine_->has_tokenizer()) return "none";
  const auto family = engine::detect_chat_family(engine_->tokenizer().vocab().chat_template);
  return family == engine::chat_family::none ? "none" : std::string(engine::chat_family_name(family));
}

std::vector<std::int32_t> local_model::chat_prompt(std::span<const chat_message> messages) const {
  if (!chat_template_) {
    std::vector<engine::chat_message> converted(messages.begin(), messages.end());
    // The template's markers become control tokens; what the messages say never does.
    return engine::tokenize_chat(tokenizer(), converted, true);
  }
  if (messages.empty()) throw input_error(fmt::format("model '{}': a chat needs at least one message", name_));
  const auto& tok = tokenizer();
  const auto& v = tok.vocab();
  auto text_of = [&](engine::token_id id) { return id == engine::no_token ? std::string() : v.tokens[static_cast<std::size_t>(id)]; };
  chat_render_options o;
  o.bos_token = text_of(v.bos_id);
  o.eos_token = text_of(v.eos_id);
  o.add_generation_prompt = true;
  rendered_chat rendered;
  try {
    rendered = render_chat_template(*chat_template_, messages, o);
  } catch (const jinja::template_error& e) {
    throw input_error(fmt::format("model '{}': its chat template refused the conversation: {}", name_, e.what()));
  }
  engine::tokenize_options topts;
  topts.parse_special = true;
  topts.plain_ranges = rendered.plain;
  // A template that writes BOS itself (Llama 3's "{{ bos_token }}") must not get a second one.
  topts.add_special = o.bos_token.empty() || !rendered.text.starts_with(o.bos_token);
  return tok.tokenize(rendered.text, topts);
}

std::vector<std::int32_t> local_model::plain_prompt(std::span<const chat_message> messages) const {
  // A base model continues text: each answer follows its prompt directly, and
  // a blank line starts the next prompt. System messages lead the text.
  std::string text;
  for (const auto& m : messages) {
    if (m.role == "assistant") {
      text += m.content;
    } else {
      if (!text.empty()) text += "\n\n";
      text += m.content;
    }
  }
  if (text.empty()) throw input_error(fmt::format("model '{}': the conversation is empty", name_));
  return tokenizer().tokenize(text, {.add_special = true, .parse_special = false});
}

local_model_registry load_local_models(const std::vector<std::pair<std::string, std::filesystem::path>>& models,
                                       const engine::engine_config& config) {
  local_model_registry registry;
  for (const auto& [name, path] : models) {
    if (name.empty()) throw input_error(fmt::format("local model {}: the name is empty", path.string()));
    if (registry.count(name) != 0) throw input_error(fmt::format("local model '{}' is listed twice", name));
    registry.emplace(name, std::make_shared<local_model>(name, path, config));
  }
  return registry;
}

std::function<void(std::string_view)> text_channel::writer(const std::shared_ptr<text_channel>& channel,
                                                           std::size_t index) {
  return [channel, index](std::string_view text) {
    {
      std::lock_guard lock(channel->mutex_);
      channel->queue_.push_back({index, std::string(text)});
    }
    channel->cv_.notify_one();
  };
}

std::vector<text_channel::piece> text_channel::take(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  cv_.wait_for(lock, timeout, [this] { return !queue_.empty(); });
  std::vector<piece> out(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
  queue_.clear();
  return out;
}

engine::sampling_params sampling_for(double temperature, double top_p, std::optional<std::uint64_t> seed) {
  engine::sampling_params p;
  p.temperature = static_cast<float>(temperature);
  p.top_p = static_cast<float>(top_p);
  if (seed) {
    p.seed = *seed;
  } else {
    thread_local std::mt19937_64 gen{std::random_device{}()};
    p.seed = gen();
  }
  return p;
}

std::string openai_finish_reason(engine::finish_reason reason) {
  return reason == engine::finish_reason::eos || reason == engine::finish_reason::stop ? "stop" : "length";
}

local_backend::local_backend(std::shared_ptr<local_model> model) : model_(std::move(model)) {}

std::string local_backend::describe() const { return fmt::format("local:{}", model_->name()); }

model_fingerprint local_backend::fingerprint() const { return model_->fingerprint(); }

std::vector<loglikelihood_result> local_backend::loglikelihood(std::span<const loglikelihood_request> requests) {
  std::vector<loglikelihood_result> out(requests.size());
  std::vector<engine::score_request> prepared(requests.size());
  std::vector<std::size_t> scored;  // requests with continuation tokens
  const auto max_total = static_cast<std::size_t>(model_->n_ctx()) + 1;  // the last token is never fed
  for (std::size_t i = 0; i < requests.size(); ++i) {
    try {
      prepared[i] = model_->loglikelihood_tokens(requests[i].context, requests[i].continuation);
    } catch (const input_error& e) {
      throw input_error(fmt::format("{}: loglikelihood request {}: {}", describe(), i, e.what()));
    }
    if (prepared[i].continuation.empty()) {
      out[i] = {0.0, true, 0};  // nothing to predict: log 1
      continue;
    }
    keep_last_tokens(prepared[i], max_total);
    scored.push_back(i);
  }
  const auto order = sorted_by(scored.size(), [&](std::size_t k) -> const std::vector<std::int32_t>& {
    return prepared[scored[k]].context;
  });
  std::vector<engine::score_request> batch;
  batch.reserve(order.size());
  for (const auto k : order) batch.push_back(std::move(prepared[scored[k]]));
  std::vector<std::int32_t> n_tokens;
  n_tokens.reserve(batch.size());
  for (const auto& r : batch) n_tokens.push_back(static_cast<std::int32_t>(r.continuation.size()));
  auto futures = model_->submit(std::move(batch));
  for (std::size_t j = 0; j < futures.size(); ++j) {
    const std::size_t i = scored[order[j]];
    try {
      const auto r = futures[j].get();
      out[i] = {r.logprob, r.is_greedy, n_tokens[j]};
    } catch (const input_error& e) {
      throw input_error(fmt::format("{}: loglikelihood request {}: {}", describe(), i, e.what()));
    }
  }
  return out;
}

std::vector<rolling_result> local_backend::loglikelihood_rolling(std::span<const rolling_request> requests) {
  std::vector<rolling_result> out(requests.size());
  std::vector<engine::score_request> batch;
  std::vector<std::size_t> owner;  // request index of each window
  const engine::tokenize_options plain{.add_special = false, .parse_special = true};
  for (std::size_t i = 0; i < requests.size(); ++i) {
    try {
      const auto tokens = model_->tokenizer().tokenize(requests[i].text, plain);
      out[i].n_tokens = static_cast<std::int32_t>(tokens.size());
      if (tokens.empty()) continue;
      // As inference_engine::loglikelihood_rolling: the first window starts
      // at the prefix token, later ones see the n_ctx tokens before them.
      for (auto& w : engine::rolling_windows(tokens, model_->prefix_token(), model_->n_ctx())) {
        batch.push_back({std::move(w.context), std::move(w.continuation), 0, true});
        owner.push_back(i);
      }
    } catch (const input_error& e) {
      throw input_error(fmt::format("{}: loglikelihood_rolling request {}: {}", describe(), i, e.what()));
    }
  }
  auto futures = model_->submit(std::move(batch));
  for (std::size_t j = 0; j < futures.size(); ++j) {
    try {
      out[owner[j]].logprob += futures[j].get().logprob;
    } catch (const input_error& e) {
      throw input_error(fmt::format("{}: loglikelihood_rolling request {}: {}", describe(), owner[j], e.what()));
    }
  }
  return out;
}

std::vector<generation_result> local_backend::generate_until(std::span<const generate_until_request> requests) {
  const auto started = std::chrono::steady_clock::now();
  const std::int32_t n_ctx = model_->n_ctx();
  const engine::tokenize_options with_special{.add_special = true, .parse_special = true};
  std::vector<engine::generate_request> prepared(requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto& r = requests[i];
    auto& g = prepared[i];
    try {
      g.prompt = model_->tokenizer().tokenize(r.context, with_special);
      if (g.prompt.empty()) g.prompt.push_back(model_->prefix_token());
    } catch (const input_error& e) {
      throw input_error(fmt::format("{}: generate_until request {}: {}", describe(), i, e.what()));
    }
    // Room for the answer: the prompt keeps its last tokens (lm-evaluation-harness
    // cuts the context on the left to max_length - max_gen_toks).
    const std::int32_t room = std::max(1, std::min(r.max_tokens, n_ctx - 1));
    const auto keep = static_cast<std::size_t>(n_ctx - room);
    if (g.prompt.size() > keep) g.prompt.erase(g.prompt.begin(), g.prompt.end() - static_cast<std::ptrdiff_t>(keep));
    g.max_tokens = r.max_tokens;
    g.stop = r.until;
    g.sampling = sampling_for(r.temperature, r.top_p, r.seed);
  }
  const auto order = sorted_by(prepared.size(), [&](std::size_t i) -> const std::vector<std::int32_t>& { return prepared[i].prompt; });
  std::vector<engine::generate_request> batch;
  batch.reserve(order.size());
  for (const auto i : order) batch.push_back(std::move(prepared[i]));
  auto futures = model_->submit(std::move(batch));
  std::vector<generation_result> out(requests.size());
  for (std::size_t j = 0; j < futures.size(); ++j) {
    const std::size_t i = order[j];
    engine::generate_result r;
    try {
      r = futures[j].get();
    } catch (const input_error& e) {
      throw input_error(fmt::format("{}: generate_until request {}: {}", describe(), i, e.what()));
    }
    auto& g = out[i];
    // The model's bytes need not be UTF-8 (a byte token alone, a character cut
    // by max_tokens); answers leave as UTF-8 with U+FFFD for invalid bytes, as
    // Hugging Face's decode gives them, so samples files and the worker's JSON stay valid.
    g.text = utf8_sanitize(r.text);
    g.finish_reason = openai_finish_reason(r.finish);
    g.prompt_tokens = r.n_prompt;
    g.completion_tokens = static_cast<std::int32_t>(r.tokens.size());
    g.total_latency = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  }
  return out;
}

generation_result local_backend::chat(const std::vector<chat_message>& messages, const generation_options& options,
                                      const text_sink& on_text) {
  const auto started = std::chrono::steady_clock::now();
  engine::generate_request request;
  try {
    request.prompt = model_->has_chat_template() ? model_->chat_prompt(messages) : model_->plain_prompt(messages);
  } catch (const input_error& e) {
    throw backend_error(fmt::format("{}: {}", describe(), e.what()), 400);
  }
  request.sampling = sampling_for(options.temperature, options.top_p, options.seed);
  request.max_tokens = options.max_tokens;
  request.stop = options.stop;
  auto channel = std::make_shared<text_channel>();
  request.on_text = text_channel::writer(channel, 0);
  const auto n_prompt = static_cast<std::int32_t>(request.prompt.size());
  auto future = model_->submit(std::move(request));

  generation_result out;
  out.prompt_tokens = n_prompt;
  bool first = true;
  auto forward = [&](std::vector<text_channel::piece> pieces) {
    for (auto& p : pieces) {
      if (p.text.empty()) continue;
      if (first) {
        out.first_token_latency =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
        first = false;
      }
      out.text += p.text;
      if (on_text && !on_text(p.text)) return false;
    }
    return true;
  };
  // The sink asked to stop: what arrived so far. No cancellation in the
  // engine: the sequence finishes on the driver and its remaining text is
  // dropped with the channel.
  auto stopped_by_sink = [&] {
    out.finish_reason = "stop";
    out.completion_tokens = 0;
    out.total_latency = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    return out;
  };
  // Pieces until the future resolves; the last piece is queued before the
  // promise is set, so one more take() after that gets everything.
  while (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
    if (!forward(channel->take(poll_interval))) return stopped_by_sink();
  engine::generate_result result;
  try {
    result = future.get();
  } catch (const input_error& e) {
    throw backend_error(fmt::format("{}: {}", describe(), e.what()), 400);
  }
  // A generation that finished before the first look still honours the sink.
  if (!forward(channel->take(std::chrono::milliseconds(0)))) return stopped_by_sink();
  // The engine's text is authoritative (the pieces concatenate to it), in UTF-8 as above.
  out.text = utf8_sanitize(result.text);
  out.finish_reason = openai_finish_reason(result.finish);
  out.completion_tokens = static_cast<std::int32_t>(result.tokens.size());
  out.total_latency = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  return out;
}

}  // namespace huashan::harness
