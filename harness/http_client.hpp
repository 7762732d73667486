// A small blocking HTTP/1.1 client for JSON APIs (the arena's eval queue):
// one keep-alive connection reused across calls, reopened when the server
// closed it, http and https, a deadline per call. Not thread-safe: one per
// thread.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace huashan::harness {

struct http_reply {
  int status = 0;
  std::string content_type;
  std::string body;
};

class http_client {
 public:
  // `base_url`: http(s)://host[:port][/path]; config_error when malformed.
  // `bearer_key`: sent as "Authorization: Bearer KEY" when set.
  http_client(const std::string& base_url, std::optional<std::string> bearer_key,
              std::chrono::milliseconds timeout = std::chrono::seconds(60));
  ~http_client();
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  // Sends METHOD base-path + `target` with a JSON body (empty: none) and
  // returns the reply whatever its status. backend_error naming the URL when
  // the server cannot be reached or the reply cannot be read.
  http_reply call(const std::string& method, const std::string& target, const std::string& json_body = {});
  const std::string& base_url() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// The "detail" of a problem+json reply, else its body's start: for error messages.
std::string reply_detail(const http_reply& reply);

}  // namespace huashan::harness
