// The one interface every model sits behind, whether our engine runs it or a
// remote OpenAI-compatible server does: chat generation with streaming. The
// arena's battles and the harness's generate_until both call this.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace huashan::harness {

struct chat_message {
  std::string role;  // "system" | "user" | "assistant"
  std::string content;
};

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

class model_backend {
 public:
  virtual ~model_backend() = default;
  // Generates the assistant's answer to `messages`. Throws backend_error (see
  // below) naming the model and what failed; never returns a partial answer
  // silently unless the sink asked to stop.
  virtual generation_result chat(const std::vector<chat_message>& messages, const generation_options& options,
                                 const text_sink& on_text) = 0;
  // The model's name at its backend (for logs and errors).
  virtual std::string describe() const = 0;
};

}  // namespace huashan::harness
