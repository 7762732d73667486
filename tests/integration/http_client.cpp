#include "http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cctype>

namespace huashan::testing {

namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

http_reply http_client::request(const std::string& method, const std::string& target, const std::string& body,
                                const std::map<std::string, std::string>& headers) {
  boost::asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port_));
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!body.empty()) req.set(http::field::content_type, "application/json");
  std::string cookie_header;
  for (const auto& [name, value] : cookies_) cookie_header += (cookie_header.empty() ? "" : "; ") + name + "=" + value;
  if (!cookie_header.empty()) req.set(http::field::cookie, cookie_header);
  for (const auto& [name, value] : headers) req.set(name, value);
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 << 20);
  http::read(stream, buffer, parser);
  auto& res = parser.get();
  http_reply reply;
  reply.status = static_cast<int>(res.result_int());
  reply.body = res.body();
  for (const auto& field : res) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (name == "set-cookie") {
      const std::string value(field.value());
      const auto eq = value.find('='), semi = value.find(';');
      if (eq != std::string::npos) cookies_[value.substr(0, eq)] = value.substr(eq + 1, semi == std::string::npos ? std::string::npos : semi - eq - 1);
    }
    reply.headers[name] = std::string(field.value());
  }
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  return reply;
}

}  // namespace huashan::testing
