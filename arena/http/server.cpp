// Asynchronous HTTP/1.1 server on Boost.Beast: one strand per connection, explicit
// limits on bodies, headers, time and connections; every failure becomes either a
// problem+json response or a closed connection, never an exception escaping.
#include "arena/http/server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include <atomic>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <map>

#include "arena/http/json.hpp"
#include "arena/http/target.hpp"
#include "common/error.hpp"
#include "common/log.hpp"
#include "common/utf8.hpp"

namespace huashan::arena::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

response problem(int status, const std::string& title, const std::string& detail) {
  response r;
  r.status = status;
  r.content_type = "application/problem+json";
  r.body = fmt::format(R"({{"type":"about:blank","title":{},"status":{},"detail":{}}})", json_quote(title), status,
                       json_quote(detail));
  return r;
}

const std::vector<std::pair<std::string, std::string>>& security_headers() {
  static const std::vector<std::pair<std::string, std::string>> headers = {
      {"Content-Security-Policy",
       "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"},
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "same-origin"},
  };
  return headers;
}

void router::add(std::string method, std::string path, handler h, handler_mode mode) {
  routes_[std::move(path)][std::move(method)] = {std::move(h), mode};
}

namespace {

std::vector<std::string_view> split_segments(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    const auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash);
  }
  return out;
}

// `s` in UTF-8: each byte that is not becomes U+FFFD (untouched when valid).
void make_utf8(std::string& s) {
  if (!utf8_is_valid(s)) s = utf8_sanitize(s);
}

// The path segments of `req`: those of its target decoded one by one, or of
// its decoded path when it has no target (requests built in-process).
std::vector<std::string> decoded_segments(const request& req) {
  std::vector<std::string> out;
  if (req.target.empty()) {
    for (const auto s : split_segments(req.path)) out.emplace_back(s);
    return out;
  }
  const std::string_view raw = std::string_view(req.target).substr(0, req.target.find('?'));
  for (const auto s : split_segments(raw)) {
    out.push_back(percent_decode(s, false));
    make_utf8(out.back());
  }
  return out;
}

}  // namespace

const std::pair<const std::string, router::methods>* router::match(const request& req,
                                                                  std::map<std::string, std::string>* params) const {
  if (const auto exact = routes_.find(req.path); exact != routes_.end()) return &*exact;
  const auto segments = decoded_segments(req);
  for (const auto& entry : routes_) {
    if (entry.first.find('{') == std::string::npos) continue;
    const auto pattern = split_segments(entry.first);
    // A last segment {name...} takes the rest of the path (model names hold '/').
    const bool rest = !pattern.empty() && pattern.back().ends_with("...}");
    if (rest ? segments.size() < pattern.size() : pattern.size() != segments.size()) continue;
    std::map<std::string, std::string> captured;
    bool ok = true;
    for (std::size_t i = 0; ok && i < pattern.size(); ++i) {
      if (rest && i + 1 == pattern.size()) {
        std::string tail(segments[i]);
        for (std::size_t j = i + 1; j < segments.size(); ++j) tail += "/" + segments[j];
        captured[std::string(pattern[i].substr(1, pattern[i].size() - 5))] = std::move(tail);
      } else if (pattern[i].size() > 2 && pattern[i].front() == '{' && pattern[i].back() == '}')
        captured[std::string(pattern[i].substr(1, pattern[i].size() - 2))] = segments[i];
      else
        ok = pattern[i] == segments[i];
    }
    if (!ok) continue;
    if (params != nullptr) *params = std::move(captured);
    return &entry;
  }
  return nullptr;
}

router::resolved router::resolve(request& req) const {
  // Everything behind the routes is UTF-8 (the database refuses other bytes):
  // a path or query that percent-decodes to other bytes gets U+FFFD for each
  // invalid byte, as Python's urllib decodes, and so names nothing that exists.
  make_utf8(req.path);
  for (auto it = req.query.begin(); it != req.query.end();) {
    if (utf8_is_valid(it->first) && utf8_is_valid(it->second)) {
      ++it;
      continue;
    }
    auto key = it->first;
    auto value = std::move(it->second);
    make_utf8(key);
    make_utf8(value);
    it = req.query.erase(it);
    req.query.insert_or_assign(std::move(key), std::move(value));
  }
  resolved out;
  const auto* route = match(req, &req.path_params);
  if (route == nullptr) {
    out.route = "unmatched";
    out.refusal = problem(404, "Not Found", fmt::format("no route for path {}", req.path));
    return out;
  }
  out.route = route->first;
  const auto& methods = route->second;
  auto method_it = methods.find(req.method);
  if (method_it == methods.end() && req.method == "HEAD") method_it = methods.find("GET");
  if (method_it == methods.end()) {
    std::string allowed;
    for (const auto& [m, h] : methods) allowed += (allowed.empty() ? "" : ", ") + m;
    out.refusal = problem(405, "Method Not Allowed", fmt::format("{} does not accept {}; allowed: {}", req.path, req.method, allowed));
    out.refusal.headers.emplace_back("Allow", allowed);
    return out;
  }
  out.target = &method_it->second.h;
  out.mode = method_it->second.mode;
  return out;
}

response router::dispatch(const request& req) const {
  request copy = req;
  auto r = resolve(copy);
  return r.target != nullptr ? (*r.target)(copy) : std::move(r.refusal);
}

std::string router::route_of(const request& req) const {
  const auto* route = match(req, nullptr);
  return route != nullptr ? route->first : std::string("unmatched");
}

std::vector<std::pair<std::string, std::string>> router::list() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [path, methods] : routes_)
    for (const auto& [method, h] : methods) out.emplace_back(method, path);
  return out;
}

struct server::impl {
  class session;

  server_options options;
  router routes;
  asio::io_context ioc;
  asio::thread_pool handler_pool;
  asio::thread_pool stream_pool;
  tcp::acceptor acceptor;
  asio::signal_set signals;
  asio::steady_timer grace_timer;
  asio::steady_timer accept_backoff;  // after a failed accept (no descriptors left), on the acceptor's strand
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> open_sessions{0};
  std::mutex sessions_mutex;
  std::map<std::uint64_t, std::weak_ptr<session>> sessions;  // by id: the oldest first
  std::uint64_t next_session_id = 0;

  impl(server_options opts, router r)
      : options(std::move(opts)),
        routes(std::move(r)),
        ioc(options.threads),
        handler_pool(static_cast<std::size_t>(std::max(1, options.handler_threads))),
        stream_pool(static_cast<std::size_t>(std::max(1, options.stream_threads))),
        acceptor(asio::make_strand(ioc)),
        signals(ioc, SIGINT, SIGTERM),
        grace_timer(ioc),
        accept_backoff(acceptor.get_executor()) {}

  class session : public std::enable_shared_from_this<session> {
   public:
    session(impl& owner, tcp::socket socket, std::uint64_t id)
        : owner_(owner), stream_(std::move(socket)), id_(id) {
      beast::error_code ec;
      const auto endpoint = stream_.socket().remote_endpoint(ec);
      if (!ec) remote_ = endpoint.address().to_string();
    }
    ~session() {
      {
        const std::lock_guard lock(owner_.sessions_mutex);
        owner_.sessions.erase(id_);
      }
      if (--owner_.open_sessions == 0 && owner_.stopping) {
        asio::post(owner_.ioc, [&o = owner_] { o.grace_timer.cancel(); });
      }
    }

    void start() {
      asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read_request(); });
    }

    // True, once, when it waits for a request (or for the rest of its
    // header): it is then the acceptor's to close.
    bool claim_if_idle() { return !busy_.load() && !claimed_.exchange(true); }

    // Closes the connection now if it waits for a request; otherwise after the response.
    void shutdown_if_idle() {
      asio::post(stream_.get_executor(), [self = shared_from_this()] {
        self->closing_ = true;
        if (!self->busy_) {
          beast::error_code ec;
          self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
          self->stream_.close();
        }
      });
    }

   private:
    void read_request() {
      if (closing_) return close();
      busy_ = false;
      parser_.emplace();
      // The largest limit until the target is known (a Content-Length over
      // it fails while the header is read); on_header sets the route's.
      body_limit_ = owner_.options.body_limit_bytes;
      for (const auto& [prefix, limit] : owner_.options.body_limit_by_prefix) body_limit_ = std::max(body_limit_, limit);
      parser_->body_limit(body_limit_);
      parser_->header_limit(static_cast<std::uint32_t>(owner_.options.header_limit_bytes));
      stream_.expires_after(first_request_ ? owner_.options.request_timeout : owner_.options.keep_alive_timeout);
      first_request_ = false;
      bhttp::async_read_header(stream_, buffer_, *parser_,
                               [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
    }

    void on_header(beast::error_code ec) {
      if (ec) return on_read_error(ec);
      busy_ = true;
      body_limit_ = owner_.options.body_limit_bytes;
      std::size_t matched = 0;
      const auto target = parser_->get().target();
      for (const auto& [prefix, limit] : owner_.options.body_limit_by_prefix)
        if (prefix.size() >= matched && target.substr(0, prefix.size()) == prefix) {
          matched = prefix.size();
          body_limit_ = limit;
        }
      // The parser checks a Content-Length against its limit only while the
      // header is read (under the largest limit): the route's is checked here.
      if (const auto length = parser_->content_length(); length && *length > body_limit_)
        return on_read_error(bhttp::error::body_limit);
      parser_->body_limit(body_limit_);
      stream_.expires_after(owner_.options.request_timeout);
      bhttp::async_read(stream_, buffer_, *parser_,
                        [self = shared_from_this()](beast::error_code ec2, std::size_t) { self->on_body(ec2); });
    }

    void on_read_error(beast::error_code ec) {
      if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted ||
          ec == asio::error::connection_reset || ec == asio::error::bad_descriptor || ec == asio::error::eof) {
        return close();
      }
      if (ec == bhttp::error::body_limit)
        return send(problem(413, "Payload Too Large",
                            fmt::format("request body exceeds {} bytes", body_limit_)),
                    false);
      if (ec == bhttp::error::header_limit)
        return send(problem(431, "Request Header Fields Too Large",
                            fmt::format("request headers exceed {} bytes", owner_.options.header_limit_bytes)),
                    false);
      send(problem(400, "Bad Request", fmt::format("malformed HTTP request: {}", ec.message())), false);
    }

    void on_body(beast::error_code ec) {
      if (ec) return on_read_error(ec);
      auto& raw = parser_->get();
      request req;
      req.method = std::string(raw.method_string());
      req.target = std::string(raw.target());
      auto parsed = parse_target(req.target);
      req.path = std::move(parsed.path);
      req.query = std::move(parsed.query);
      for (const auto& field : raw) {
        std::string name(field.name_string());
        for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        req.headers[name] = std::string(field.value());
      }
      req.body = std::move(raw.body());
      req.remote_address = remote_;
      const bool keep_alive = raw.keep_alive();
      version_ = raw.version();
      head_ = raw.method() == bhttp::verb::head;

      const bool keep = keep_alive && !closing_ && !owner_.stopping;
      busy_ = true;
      auto route = owner_.routes.resolve(req);
      if (route.mode == handler_mode::never_blocks) return handle(req, route, keep, true);
      // Handlers may block (database, models): run them off the I/O threads. The
      // work guard keeps the I/O loop alive until the response is posted back.
      asio::post(owner_.handler_pool, [self = shared_from_this(), req = std::move(req), route = std::move(route), keep,
                                       guard = asio::make_work_guard(owner_.ioc)]() mutable {
        self->handle(req, route, keep, false);
      });
    }

    // On a handler thread, or on the session's strand for a never_blocks route
    // (`on_strand`): run the handler, then send the response on the strand.
    void handle(const request& req, router::resolved& route, bool keep_alive, bool on_strand) {
      const auto started = std::chrono::steady_clock::now();
      response res;
      try {
        res = route.target != nullptr ? (*route.target)(req) : std::move(route.refusal);
      } catch (const std::exception& e) {
        log::error("{} {}: handler failed: {}", req.method, req.path, e.what());
        res = problem(500, "Internal Server Error", "the server failed to handle this request; see its log");
      }
      const auto micros =
          std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count();
      log::debug("{} {} {} {}us {}", req.method, req.target, res.status, micros, remote_);
      if (res.stream && !head_) {
        // Streamed bodies run on their own pool: a stream waits for its
        // client between chunks (a client that never reads holds it up to the
        // request timeout), and must not hold a handler that votes and pages
        // need. Never from the strand itself either.
        const int status = res.status;
        asio::post(owner_.stream_pool, [self = shared_from_this(), req, route = route.route, status, started,
                                        res = std::move(res), keep_alive,
                                        guard = asio::make_work_guard(owner_.ioc)]() mutable {
          self->stream_response(std::move(res), keep_alive);
          self->observe(req, route, status, started);
        });
        return;
      }
      observe(req, route.route, res.status, started);
      if (on_strand) return send(std::move(res), keep_alive);
      asio::post(stream_.get_executor(), [self = shared_from_this(), res = std::move(res), keep_alive]() mutable {
        self->send(std::move(res), keep_alive);
      });
    }

    void observe(const request& req, const std::string& route, int status, std::chrono::steady_clock::time_point started) {
      if (!owner_.options.on_response) return;
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      try {
        owner_.options.on_response(req, route, status, seconds);
      } catch (const std::exception& e) {
        log::warn("response observer failed: {}", e.what());
      }
    }

    // Runs `fn` on the strand and waits for it to report; false on failure or
    // when the I/O loop is gone (shutdown past its grace).
    template <typename Start>
    bool on_strand_and_wait(Start start) {
      auto done = std::make_shared<std::promise<bool>>();
      auto result = done->get_future();
      asio::post(stream_.get_executor(), [self = shared_from_this(), start, done]() mutable { start(*self, done); });
      if (result.wait_for(owner_.options.request_timeout) != std::future_status::ready) return false;
      return result.get();
    }

    class session_chunk_writer final : public chunk_writer {
     public:
      explicit session_chunk_writer(session& s) : session_(s) {}
      bool write(std::string_view chunk) override {
        if (failed_) return false;
        if (chunk.empty()) return true;
        auto data = std::make_shared<std::string>(chunk);
        failed_ = !session_.on_strand_and_wait([data](session& s, std::shared_ptr<std::promise<bool>> done) {
          s.stream_.expires_after(s.owner_.options.request_timeout);
          asio::async_write(s.stream_, bhttp::make_chunk(asio::buffer(*data)),
                            [data, done](beast::error_code ec, std::size_t) { done->set_value(!ec); });
        });
        return !failed_;
      }
      bool failed() const { return failed_; }

     private:
      session& session_;
      bool failed_ = false;
    };

    // On a handler thread: header, the producer's chunks, the last chunk.
    void stream_response(response res, bool keep_alive) {
      auto header = std::make_shared<bhttp::response<bhttp::empty_body>>();
      header->version(version_);
      header->result(static_cast<unsigned>(res.status));
      header->set(bhttp::field::server, "huashan");
      header->set(bhttp::field::content_type, res.content_type);
      header->set(bhttp::field::cache_control, "no-cache");
      for (const auto& [name, value] : security_headers()) header->set(name, value);
      for (const auto& [name, value] : res.headers) header->set(name, value);
      header->keep_alive(keep_alive);
      header->chunked(true);
      auto serializer = std::make_shared<bhttp::response_serializer<bhttp::empty_body>>(*header);
      bool ok = on_strand_and_wait([header, serializer](session& s, std::shared_ptr<std::promise<bool>> done) {
        s.stream_.expires_after(s.owner_.options.request_timeout);
        bhttp::async_write_header(s.stream_, *serializer, [header, serializer, done](beast::error_code ec, std::size_t) {
          done->set_value(!ec);
        });
      });
      if (ok) {
        session_chunk_writer writer(*this);
        try {
          res.stream(writer);
        } catch (const std::exception& e) {
          log::error("streamed response failed: {}", e.what());
          ok = false;
        }
        ok = ok && !writer.failed();
      }
      if (ok) {
        ok = on_strand_and_wait([](session& s, std::shared_ptr<std::promise<bool>> done) {
          asio::async_write(s.stream_, bhttp::make_chunk_last(),
                            [done](beast::error_code ec, std::size_t) { done->set_value(!ec); });
        });
      }
      asio::post(stream_.get_executor(), [self = shared_from_this(), keep = ok && keep_alive] {
        if (!keep) return self->close();
        self->read_request();
      });
    }

    void send(response res, bool keep_alive) {
      busy_ = true;
      auto out = std::make_shared<bhttp::response<bhttp::string_body>>();
      out->version(version_);
      out->result(static_cast<unsigned>(res.status));
      out->set(bhttp::field::server, "huashan");
      out->set(bhttp::field::content_type, res.content_type);
      for (const auto& [name, value] : security_headers()) out->set(name, value);
      for (const auto& [name, value] : res.headers) out->set(name, value);
      out->body() = std::move(res.body);
      out->keep_alive(keep_alive);
      out->prepare_payload();
      if (head_) out->body().clear();
      stream_.expires_after(owner_.options.request_timeout);
      bhttp::async_write(stream_, *out,
                         [self = shared_from_this(), out, keep_alive](beast::error_code ec, std::size_t) {
                           if (ec || !keep_alive) return self->close();
                           self->read_request();
                         });
    }

    void close() {
      beast::error_code ec;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
      stream_.close();
    }

    impl& owner_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
    std::string remote_;
    std::uint64_t id_;
    unsigned version_ = 11;
    bool head_ = false;
    std::atomic<bool> busy_{false};  // a request is being read or answered (read by the acceptor too)
    std::atomic<bool> claimed_{false};  // closed by the acceptor to make room
    std::size_t body_limit_ = 0;  // of the request being read
    bool closing_ = false;
    bool first_request_ = true;
  };

  void accept() {
    acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
        // Out of descriptors (EMFILE) fails again at once: wait a moment instead of spinning.
        log::warn("accept failed: {}; retrying in 50 ms", ec.message());
        accept_backoff.expires_after(std::chrono::milliseconds(50));
        accept_backoff.async_wait([this](beast::error_code wait_ec) {
          if (!wait_ec && acceptor.is_open()) accept();
        });
        return;
      }
      if (open_sessions.load() >= options.max_connections && !close_longest_idle()) {
        // Every connection has a request in flight: refuse rather than queue without bound.
        beast::error_code ignored;
        socket.close(ignored);
        log::warn("connection refused: {} connections open (limit {}), none idle", open_sessions.load(), options.max_connections);
        return accept();
      }
      ++open_sessions;
      std::shared_ptr<session> s;
      {
        const std::lock_guard lock(sessions_mutex);
        const auto id = next_session_id++;
        s = std::make_shared<session>(*this, std::move(socket), id);
        sessions[id] = s;
      }
      s->start();
      accept();
    });
  }

  // At the connection limit a new connection takes the place of the one that
  // has waited longest for a request: connections held open without sending
  // one (idle clients, slowloris) cannot lock others out. False when every
  // connection has a request in flight.
  bool close_longest_idle() {
    std::shared_ptr<session> oldest;
    {
      const std::lock_guard lock(sessions_mutex);
      for (auto& [id, weak] : sessions) {
        auto s = weak.lock();
        if (s && s->claim_if_idle()) {
          oldest = std::move(s);
          break;
        }
      }
    }
    if (!oldest) return false;
    log::debug("connection limit {} reached: closing the connection idle longest", options.max_connections);
    oldest->shutdown_if_idle();
    return true;
  }

  void begin_shutdown() {
    if (stopping.exchange(true)) return;
    log::info("shutting down: no new connections, finishing in-flight requests (up to {}s)",
              options.shutdown_grace.count());
    asio::post(acceptor.get_executor(), [this] {
      beast::error_code ec;
      acceptor.close(ec);
    });
    signals.cancel();
    std::vector<std::shared_ptr<session>> live;
    {
      const std::lock_guard lock(sessions_mutex);
      for (auto& [id, weak] : sessions)
        if (auto s = weak.lock()) live.push_back(std::move(s));
    }
    for (auto& s : live) s->shutdown_if_idle();
    live.clear();
    if (open_sessions.load() == 0) return;
    grace_timer.expires_after(options.shutdown_grace);
    grace_timer.async_wait([this](beast::error_code ec) {
      if (!ec) {
        log::warn("shutdown grace period over; closing remaining connections");
        ioc.stop();
      }
    });
  }
};

server::server(server_options options, router routes)
    : impl_(std::make_unique<impl>(std::move(options), std::move(routes))) {}

server::~server() = default;

void server::listen() {
  auto& im = *impl_;
  beast::error_code ec;
  const auto address = asio::ip::make_address(im.options.host, ec);
  if (ec) throw config_error(fmt::format("listen address '{}' is not an IP address", im.options.host));
  const tcp::endpoint endpoint(address, im.options.port);
  im.acceptor.open(endpoint.protocol(), ec);
  if (!ec) im.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) im.acceptor.bind(endpoint, ec);
  if (!ec) im.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw io_error(fmt::format("cannot listen on {}:{}: {}", im.options.host, im.options.port, ec.message()));
}

std::uint16_t server::port() const {
  beast::error_code ec;
  const auto endpoint = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

void server::run() {
  auto& im = *impl_;
  if (!im.acceptor.is_open()) listen();
  im.signals.async_wait([&im](beast::error_code ec, int signal_number) {
    if (ec) return;
    log::info("received signal {}", signal_number);
    im.begin_shutdown();
  });
  im.accept();
  std::vector<std::thread> workers;
  for (int i = 1; i < im.options.threads; ++i) workers.emplace_back([&im] { im.ioc.run(); });
  im.ioc.run();
  for (auto& t : workers) t.join();
  im.handler_pool.stop();
  im.handler_pool.join();
  im.stream_pool.stop();
  im.stream_pool.join();
  log::info("server stopped");
}

void server::stop() {
  asio::post(impl_->ioc, [&im = *impl_] { im.begin_shutdown(); });
}

}  // namespace huashan::arena::http
