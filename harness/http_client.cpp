#include "harness/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <variant>

#include "common/error.hpp"
#include "harness/openai_client.hpp"

namespace huashan::harness {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr std::size_t max_reply_bytes = std::size_t{256} << 20;

// The reply, and whether the connection stays open for the next call.
template <typename Stream>
std::pair<http_reply, bool> exchange(Stream& stream, beast::tcp_stream& lowest, http::request<http::string_body>& req,
                    std::chrono::milliseconds timeout) {
  lowest.expires_after(timeout);
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(max_reply_bytes);
  http::read(stream, buffer, parser);
  auto& res = parser.get();
  http_reply out;
  out.status = static_cast<int>(res.result_int());
  if (const auto it = res.find(http::field::content_type); it != res.end()) out.content_type = std::string(it->value());
  out.body = std::move(res.body());
  return {std::move(out), res.keep_alive()};
}

}  // namespace

struct http_client::impl {
  std::string base;
  parsed_url url;
  std::optional<std::string> key;
  std::chrono::milliseconds timeout;
  asio::io_context ioc;
  asio::ssl::context tls{asio::ssl::context::tls_client};
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;

  void connect() {
    tcp::resolver resolver(ioc);
    const auto endpoints = resolver.resolve(url.host, url.port);
    if (url.https) {
      secure.emplace(ioc, tls);
      if (!SSL_set_tlsext_host_name(secure->native_handle(), url.host.c_str()))
        throw backend_error("cannot set TLS server name " + url.host, 0);
      secure->set_verify_callback(asio::ssl::host_name_verification(url.host));
      auto& lowest = beast::get_lowest_layer(*secure);
      lowest.expires_after(timeout);
      lowest.connect(endpoints);
      secure->handshake(asio::ssl::stream_base::client);
    } else {
      plain.emplace(ioc);
      plain->expires_after(timeout);
      plain->connect(endpoints);
      plain->socket().set_option(tcp::no_delay(true));
    }
  }
  bool connected() const { return url.https ? secure.has_value() : plain.has_value(); }
  void drop() {
    plain.reset();
    secure.reset();
  }
};

http_client::http_client(const std::string& base_url, std::optional<std::string> bearer_key, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<impl>()) {
  impl_->base = base_url;
  impl_->url = parse_base_url(base_url);
  impl_->key = std::move(bearer_key);
  impl_->timeout = timeout;
  impl_->tls.set_default_verify_paths();
  impl_->tls.set_verify_mode(asio::ssl::verify_peer);
}

http_client::~http_client() = default;

const std::string& http_client::base_url() const { return impl_->base; }

http_reply http_client::call(const std::string& method, const std::string& target, const std::string& json_body) {
  http::request<http::string_body> req{http::string_to_verb(method), impl_->url.path + target, 11};
  req.set(http::field::host, impl_->url.host);
  req.set(http::field::user_agent, "huashan");
  req.set(http::field::accept, "application/json");
  req.keep_alive(true);
  if (impl_->key) req.set(http::field::authorization, "Bearer " + *impl_->key);
  if (!json_body.empty() || method == "POST") {
    req.set(http::field::content_type, "application/json");
    req.body() = json_body;
  }
  req.prepare_payload();
  // A kept-alive connection the server closed meanwhile fails at once: one fresh try.
  std::string failure;
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool reused = impl_->connected();
    try {
      if (!reused) impl_->connect();
      auto [reply, keep] = impl_->url.https
                               ? exchange(*impl_->secure, beast::get_lowest_layer(*impl_->secure), req, impl_->timeout)
                               : exchange(*impl_->plain, *impl_->plain, req, impl_->timeout);
      if (!keep) impl_->drop();
      return std::move(reply);
    } catch (const std::exception& e) {
      failure = e.what();
      impl_->drop();
      if (!reused) break;
    }
  }
  throw backend_error(fmt::format("{}{}: {}", impl_->base, target, failure), 0);
}

std::string reply_detail(const http_reply& reply) {
  boost::system::error_code ec;
  const auto v = boost::json::parse(reply.body, ec);
  if (!ec && v.is_object())
    if (const auto* d = v.as_object().if_contains("detail"); d && d->is_string()) return std::string(d->as_string());
  return reply.body.substr(0, 300);
}

}  // namespace huashan::harness
