// local_model's driver thread and the chat backend over it. The driver is the
// only caller of inference_engine::step(); submit() wakes it.
#include "harness/local_backend.hpp"

#include <fmt/format.h>

#include <random>

#include "common/error.hpp"
#include "common/log.hpp"
#include "harness/openai_client.hpp"

namespace huashan::harness {

namespace {

// How long a consumer waits for text before it looks at the futures again: a
// generation that ends without a last piece of text resolves only its future.
constexpr std::chrono::milliseconds poll_interval{5};

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

local_model::local_model(std::string name, const std::filesystem::path& path, const engine::engine_config& config)
    : name_(std::move(name)), engine_(std::make_unique<engine::inference_engine>(path, config)) {
  start();
}

local_model::local_model(std::string name, engine::gguf_file file, const engine::engine_config& config)
    : name_(std::move(name)), engine_(std::make_unique<engine::inference_engine>(std::move(file), config)) {
  start();
}

void local_model::start() {
  created_ = unix_now();
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

bool local_model::has_chat_template() const {
  return engine_->has_tokenizer() &&
         engine::detect_chat_family(engine_->tokenizer().vocab().chat_template) != engine::chat_family::none;
}

std::vector<std::int32_t> local_model::chat_prompt(std::span<const chat_message> messages) const {
  std::vector<engine::chat_message> converted;
  converted.reserve(messages.size());
  for (const auto& m : messages) converted.push_back({m.role, m.content});
  // The template's markers become control tokens; what the messages say never does.
  return engine::tokenize_chat(tokenizer(), converted, true);
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
  // Pieces until the future resolves; the last piece is queued before the
  // promise is set, so one more take() after that gets everything.
  while (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    if (!forward(channel->take(poll_interval))) {
      // No cancellation in the engine: the sequence finishes on the driver
      // and its remaining text is dropped with the channel.
      out.finish_reason = "stop";
      out.completion_tokens = 0;
      out.total_latency =
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
      return out;
    }
  }
  engine::generate_result result;
  try {
    result = future.get();
  } catch (const input_error& e) {
    throw backend_error(fmt::format("{}: {}", describe(), e.what()), 400);
  }
  forward(channel->take(std::chrono::milliseconds(0)));
  // The engine's text is authoritative (the pieces concatenate to it).
  out.text = result.text;
  out.finish_reason = openai_finish_reason(result.finish);
  out.completion_tokens = static_cast<std::int32_t>(result.tokens.size());
  out.total_latency = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  return out;
}

}  // namespace huashan::harness
