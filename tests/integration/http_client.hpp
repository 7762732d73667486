// A small blocking HTTP/1.1 client for tests (Boost.Beast), keeping cookies
// like a browser tab so a test can act as one arena visitor.
#pragma once

#include <map>
#include <string>

namespace huashan::testing {

struct http_reply {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
};

class http_client {
 public:
  explicit http_client(unsigned short port) : port_(port) {}
  // Sends one request on a fresh connection; stores Set-Cookie values and sends them back.
  http_reply request(const std::string& method, const std::string& target, const std::string& body = "",
                     const std::map<std::string, std::string>& headers = {});
  void forget_cookies() { cookies_.clear(); }

 private:
  unsigned short port_;
  std::map<std::string, std::string> cookies_;
};

}  // namespace huashan::testing
