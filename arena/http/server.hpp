// The arena's HTTP/1.1 server (Boost.Beast inside server.cpp only). Handlers see
// plain request/response structs; every limit is a named option.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace huashan::arena::http {

struct request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query as sent
  std::string path;    // percent-decoded path without the query
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string remote_address;
  std::map<std::string, std::string> path_params;  // {name} segments of the matched route
};

// Receives a streamed body chunk by chunk (server-sent events, long answers).
class chunk_writer {
 public:
  virtual ~chunk_writer() = default;
  // Sends `chunk` and waits until it is written: backpressure for the
  // producer. False once the client has gone away (stop producing then).
  virtual bool write(std::string_view chunk) = 0;
};

struct response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the body is produced by this function (chunked transfer
  // encoding) instead of `body`; it runs on a stream thread, never an I/O or handler one.
  std::function<void(chunk_writer&)> stream;
};

using handler = std::function<response(const request&)>;

// Where a handler runs. One that may block (database, models) runs on the
// server's handler pool; one that never blocks (answers from memory, e.g. a
// snapshot) runs on the I/O thread that read the request, which saves two
// thread hand-offs per request. A never_blocks handler that returns a
// streamed body still streams from the pool.
enum class handler_mode { may_block, never_blocks };

// Routes by path and method. A path is exact ("/api/leaderboard") or has
// {name} segments ("/api/battles/{id}/vote") that match one non-empty segment
// each and land in request::path_params, and may end in {name...}, which takes
// the rest of the path ("/models/{name...}"); exact routes win. Unknown paths are
// 404, known paths with another method 405 (problem+json).
class router {
 public:
  void add(std::string method, std::string path, handler h, handler_mode mode = handler_mode::may_block);
  response dispatch(const request& req) const;
  // The registered route `req` matches ("unmatched" when none): a bounded label for metrics.
  std::string route_of(const request& req) const;

  // A request matched once (the server's path): the route label, the handler
  // and its mode, or the 404/405 answer; resolve() fills req.path_params.
  struct resolved {
    std::string route;                 // as route_of()
    const handler* target = nullptr;   // nullptr: `refusal` is the answer
    handler_mode mode = handler_mode::never_blocks;
    response refusal;
  };
  resolved resolve(request& req) const;
  // Every registered (method, path), sorted: for the OpenAPI completeness test.
  std::vector<std::pair<std::string, std::string>> list() const;

 private:
  struct route_handler {
    handler h;
    handler_mode mode = handler_mode::may_block;
  };
  using methods = std::map<std::string, route_handler>;
  // The route `req` matches: exact on the decoded path, else pattern by pattern
  // on the target's segments, each decoded by itself (an escaped '/' is data
  // within its segment, RFC 3986), their {name} values into `params`.
  const std::pair<const std::string, methods>* match(const request& req, std::map<std::string, std::string>* params) const;
  std::map<std::string, methods> routes_;  // path pattern -> method -> handler
};

struct server_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  int threads = 2;                 // I/O threads (never block)
  int handler_threads = 16;        // run handlers (may block on the database or a model)
  int stream_threads = 64;         // write streamed bodies (each waits on its client between chunks)
  std::size_t body_limit_bytes = 1 << 20;
  // Larger limits for paths starting with a prefix (a published eval run
  // carries its samples); the longest matching prefix wins.
  std::vector<std::pair<std::string, std::size_t>> body_limit_by_prefix;
  std::size_t header_limit_bytes = 16 << 10;
  std::chrono::seconds request_timeout{30};       // whole request read + handling
  std::chrono::seconds keep_alive_timeout{60};    // idle connection
  std::chrono::seconds shutdown_grace{10};        // in-flight requests after SIGTERM
  std::size_t max_connections = 1024;
  // Called once per answered request (after a streamed body ends) with its
  // route, status and seconds from the complete request to the last byte.
  std::function<void(const request&, const std::string& route, int status, double seconds)> on_response;
};

// Serves `routes` until SIGINT/SIGTERM (or stop()), then stops accepting, lets
// in-flight requests finish (up to shutdown_grace) and returns. Throws io_error
// if the address cannot be bound.
class server {
 public:
  server(server_options options, router routes);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Binds and listens; after this, port() is the bound port (useful with port 0).
  void listen();
  std::uint16_t port() const;
  // Runs until a signal or stop(); returns after the graceful shutdown.
  void run();
  // Asks a running server to shut down gracefully; safe from any thread.
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// Headers the server sets on every response (a handler's own headers of the
// same name replace them): a Content-Security-Policy that allows scripts,
// styles and requests from this origin only and no framing, nosniff, and a
// Referrer-Policy that keeps paths to this origin.
const std::vector<std::pair<std::string, std::string>>& security_headers();

// An RFC 9457 problem+json response naming what was wrong.
response problem(int status, const std::string& title, const std::string& detail);

}  // namespace huashan::arena::http
