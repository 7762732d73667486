// A client for OpenAI-compatible chat and text completion servers (vLLM, SGLang,
// llama.cpp server, DeepSeek, Qwen, OpenAI, and our own /v1): streaming over
// server-sent events, explicit timeouts, retries with exponential backoff on
// 429 and 5xx (honouring Retry-After) and a cap on concurrent requests.
// Plain http:// and https:// (OpenSSL, certificate and host name verified).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/error.hpp"
#include "harness/model_backend.hpp"

namespace huashan::harness {

// A backend call failed after its retries; `status` is the last HTTP status
// (0 for connection errors and timeouts).
class backend_error : public huashan::error {
 public:
  backend_error(const std::string& message, int status) : huashan::error(message), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

struct openai_client_options {
  std::string base_url;        // e.g. "https://api.example.com/v1" (".../chat/completions" is appended)
  std::string model;           // the model name the server knows
  std::optional<std::string> api_key;  // sent as "Authorization: Bearer <key>"
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds first_byte_timeout{60000};  // request sent -> response headers
  std::chrono::milliseconds idle_timeout{30000};        // between streamed chunks
  std::chrono::milliseconds total_timeout{300000};      // the whole request
  int max_attempts = 4;                                  // 1 = no retry
  std::chrono::milliseconds initial_backoff{500};        // doubled per retry, with jitter, capped below
  std::chrono::milliseconds max_backoff{8000};
  int max_concurrent_requests = 8;                       // per client (one client per model)
  std::size_t max_response_bytes = 16 << 20;
};

// Parsed "http[s]://host[:port][/path]"; throws config_error naming the URL.
struct parsed_url {
  bool https = false;
  std::string host;
  std::string port;  // "80" / "443" by default
  std::string path;  // no trailing slash; may be empty
};
parsed_url parse_base_url(const std::string& url);

class openai_client final : public model_backend {
 public:
  // Throws config_error for a malformed base URL.
  explicit openai_client(openai_client_options options);
  ~openai_client() override;

  generation_result chat(const std::vector<chat_message>& messages, const generation_options& options,
                         const text_sink& on_text) override;
  // The batch calls POST {base}/completions, up to max_concurrent_requests
  // at once; a failure names the request's index. loglikelihood and
  // loglikelihood_rolling need the prompt's log-probabilities (echo +
  // logprobs, max_tokens 0): a server without them gives capability_error.
  std::vector<loglikelihood_result> loglikelihood(std::span<const loglikelihood_request> requests) override;
  std::vector<rolling_result> loglikelihood_rolling(std::span<const rolling_request> requests) override;
  std::vector<generation_result> generate_until(std::span<const generate_until_request> requests) override;
  // kind "openai": endpoint (the base URL, which never carries credentials) and model.
  model_fingerprint fingerprint() const override;
  std::string describe() const override;

  // How many attempts the last chat() on this thread needed (tests and metrics).
  static int last_attempts();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace huashan::harness
