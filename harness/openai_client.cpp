// One chat() call = up to max_attempts HTTP attempts. Each attempt runs on a
// private io_context in the calling thread (C++20 coroutines over Beast), so a
// backend needs no thread of its own and every timeout is a socket deadline.
#include "harness/openai_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <random>
#include <thread>

#include "common/log.hpp"

namespace huashan::harness {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

namespace {

thread_local int g_last_attempts = 0;

// What one attempt ended with. `retryable` failures happened before any text
// reached the caller, so trying again cannot duplicate output.
struct attempt_outcome {
  bool ok = false;
  int status = 0;
  bool retryable = false;
  std::optional<std::chrono::milliseconds> retry_after;
  std::string error;
  generation_result result;
  std::string body;  // the JSON answer of a non-streamed request
};

bool retryable_status(int status) { return status == 429 || status == 500 || status == 502 || status == 503 || status == 504; }

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value) {
  int seconds = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return std::nullopt;
    seconds = seconds * 10 + (c - '0');
    if (seconds > 3600) return std::nullopt;
  }
  if (value.empty()) return std::nullopt;
  return std::chrono::milliseconds(seconds * 1000);
}

// Incremental server-sent-events reader for chat.completion.chunk payloads.
class sse_reader {
 public:
  sse_reader(generation_result& result, const text_sink& sink, clock_type::time_point started)
      : result_(result), sink_(sink), started_(started) {}

  // Feeds raw bytes; returns false when the sink asked to stop.
  bool feed(std::string_view bytes) {
    pending_.append(bytes);
    std::size_t start = 0;
    while (true) {
      const auto newline = pending_.find('\n', start);
      if (newline == std::string::npos) break;
      std::string_view line(pending_.data() + start, newline - start);
      start = newline + 1;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (!handle_line(line)) {
        pending_.erase(0, start);
        return false;
      }
    }
    pending_.erase(0, start);
    return true;
  }
  bool done() const { return done_; }
  bool delivered_text() const { return delivered_; }

 private:
  bool handle_line(std::string_view line) {
    if (line.rfind("data:", 0) != 0) return true;  // comments, event:, id:, blank separators
    std::string_view payload = line.substr(5);
    while (!payload.empty() && payload.front() == ' ') payload.remove_prefix(1);
    if (payload == "[DONE]") {
      done_ = true;
      return true;
    }
    boost::system::error_code ec;
    const json::value chunk = json::parse(payload, ec);
    if (ec || !chunk.is_object()) throw backend_error(fmt::format("malformed stream chunk: {}", payload.substr(0, 200)), 200);
    const auto& object = chunk.as_object();
    if (const auto* error = object.if_contains("error")) {
      const auto* message = error->is_object() ? error->as_object().if_contains("message") : nullptr;
      throw backend_error(fmt::format("server reported an error mid-stream: {}",
                                      message && message->is_string() ? std::string(message->as_string())
                                                                      : json::serialize(*error)),
                          200);
    }
    if (const auto* usage = object.if_contains("usage"); usage && usage->is_object()) {
      const auto& u = usage->as_object();
      if (const auto* p = u.if_contains("prompt_tokens"); p && p->is_int64()) result_.prompt_tokens = static_cast<std::int32_t>(p->as_int64());
      if (const auto* c = u.if_contains("completion_tokens"); c && c->is_int64()) result_.completion_tokens = static_cast<std::int32_t>(c->as_int64());
    }
    const auto* choices = object.if_contains("choices");
    if (!choices || !choices->is_array() || choices->as_array().empty()) return true;
    const auto& choice = choices->as_array()[0];
    if (!choice.is_object()) return true;
    if (const auto* finish = choice.as_object().if_contains("finish_reason"); finish && finish->is_string())
      result_.finish_reason = std::string(finish->as_string());
    const auto* delta = choice.as_object().if_contains("delta");
    if (!delta || !delta->is_object()) return true;
    const auto* content = delta->as_object().if_contains("content");
    if (!content || !content->is_string() || content->as_string().empty()) return true;
    const std::string_view piece(content->as_string().data(), content->as_string().size());
    if (!delivered_)
      result_.first_token_latency =
          std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - started_);
    delivered_ = true;
    result_.text.append(piece);
    return !sink_ || sink_(piece);
  }

  generation_result& result_;
  const text_sink& sink_;
  clock_type::time_point started_;
  std::string pending_;
  bool done_ = false;
  bool delivered_ = false;
};

std::string request_body(const std::string& model, const std::vector<chat_message>& messages,
                         const generation_options& options) {
  json::array msgs;
  for (const auto& m : messages) msgs.push_back(json::object{{"role", m.role}, {"content", m.content}});
  json::object body{{"model", model},
                    {"messages", std::move(msgs)},
                    {"max_tokens", options.max_tokens},
                    {"temperature", options.temperature},
                    {"top_p", options.top_p},
                    {"stream", true},
                    {"stream_options", json::object{{"include_usage", true}}}};
  if (options.seed) body["seed"] = *options.seed;
  if (!options.stop.empty()) {
    json::array stop;
    for (const auto& s : options.stop) stop.push_back(json::string(s));
    body["stop"] = std::move(stop);
  }
  return json::serialize(body);
}

}  // namespace

parsed_url parse_base_url(const std::string& url) {
  parsed_url out;
  std::string_view rest(url);
  if (rest.rfind("https://", 0) == 0) {
    out.https = true;
    rest.remove_prefix(8);
  } else if (rest.rfind("http://", 0) == 0) {
    rest.remove_prefix(7);
  } else {
    throw config_error(fmt::format("base URL '{}' must start with http:// or https://", url));
  }
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (authority.find('@') != std::string_view::npos)
    throw config_error(fmt::format("base URL '{}' must not carry credentials; use api_key_env", url));
  const auto colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.find(']') == std::string_view::npos) {
    out.host = std::string(authority.substr(0, colon));
    out.port = std::string(authority.substr(colon + 1));
    if (out.port.empty() || !std::all_of(out.port.begin(), out.port.end(), [](char c) { return c >= '0' && c <= '9'; }))
      throw config_error(fmt::format("base URL '{}' has a bad port", url));
  } else {
    out.host = std::string(authority);
    out.port = out.https ? "443" : "80";
  }
  if (out.host.empty()) throw config_error(fmt::format("base URL '{}' has no host", url));
  out.path = std::string(path);
  return out;
}

struct openai_client::impl {
  openai_client_options options;
  parsed_url url;
  asio::ssl::context tls{asio::ssl::context::tls_client};
  std::mutex mutex;
  std::condition_variable slot_free;
  int in_flight = 0;

  explicit impl(openai_client_options o) : options(std::move(o)), url(parse_base_url(options.base_url)) {
    tls.set_default_verify_paths();
    tls.set_verify_mode(asio::ssl::verify_peer);
  }

  std::string describe() const { return fmt::format("{} at {}", options.model, options.base_url); }
  // One request under the concurrency cap, retried as the options say;
  // backend_error (with the last status) when every attempt failed.
  attempt_outcome call(const std::string& target, const std::string& body, bool streaming, const text_sink& on_text);
  // POST {base}/completions, the answer's JSON. `scoring`: a refusal that
  // means the server cannot echo prompt log-probabilities is a capability_error.
  json::value post_completions(const json::object& body, bool scoring);
  capability_error no_prompt_logprobs(std::string_view detail) const;

  // Remaining time before `deadline`, but at most `limit`.
  static std::chrono::milliseconds budget(clock_type::time_point deadline, std::chrono::milliseconds limit) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
    return std::max(std::chrono::milliseconds(1), std::min(left, limit));
  }

  // `streaming`: a server-sent-events answer whose text goes to `sink`;
  // otherwise one JSON document kept in out.body.
  template <typename Stream>
  asio::awaitable<void> exchange(Stream& stream, beast::tcp_stream& lowest, const std::string& target,
                                 const std::string& body, bool streaming, const text_sink& sink,
                                 clock_type::time_point started, clock_type::time_point deadline, attempt_outcome& out) {
    http::request<http::string_body> req{http::verb::post, url.path + target, 11};
    req.set(http::field::host, url.host);
    req.set(http::field::user_agent, "huashan");
    req.set(http::field::content_type, "application/json");
    req.set(http::field::accept, streaming ? "text/event-stream" : "application/json");
    if (options.api_key) req.set(http::field::authorization, "Bearer " + *options.api_key);
    req.body() = body;
    req.prepare_payload();
    lowest.expires_after(budget(deadline, options.first_byte_timeout));
    co_await http::async_write(stream, req, asio::use_awaitable);

    beast::flat_buffer buffer;
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(options.max_response_bytes);
    co_await http::async_read_header(stream, buffer, parser, asio::use_awaitable);
    out.status = static_cast<int>(parser.get().result_int());
    if (const auto it = parser.get().find(http::field::retry_after); it != parser.get().end())
      out.retry_after = parse_retry_after(it->value());

    sse_reader reader(out.result, sink, started);
    std::string error_body;
    char chunk[16384];
    while (!parser.is_done()) {
      parser.get().body().data = chunk;
      parser.get().body().size = sizeof chunk;
      lowest.expires_after(budget(deadline, options.idle_timeout));
      // read_some, not read: return with whatever arrived so text streams through.
      auto [ec, n] = co_await http::async_read_some(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
      if (ec == http::error::need_buffer) ec = {};
      if (ec) throw boost::system::system_error(ec);
      const std::size_t got = sizeof chunk - parser.get().body().size;
      if (out.status != 200) {
        error_body.append(chunk, std::min<std::size_t>(got, 4096 - std::min<std::size_t>(4096, error_body.size())));
        continue;
      }
      if (!streaming) {
        out.body.append(chunk, got);
        continue;
      }
      if (!reader.feed(std::string_view(chunk, got))) break;  // the sink has enough
    }
    if (out.status != 200) {
      out.retryable = retryable_status(out.status);
      out.error = fmt::format("HTTP {}: {}", out.status, error_body.substr(0, 300));
      co_return;
    }
    if (streaming && out.result.finish_reason.empty()) out.result.finish_reason = reader.done() ? "stop" : "incomplete";
    out.ok = true;
  }

  attempt_outcome attempt(const std::string& target, const std::string& body, bool streaming, const text_sink& sink) {
    attempt_outcome out;
    const auto started = clock_type::now();
    const auto deadline = started + options.total_timeout;
    asio::io_context ioc;
    bool delivered = false;
    const text_sink tracking_sink = [&](std::string_view piece) {
      delivered = true;
      return !sink || sink(piece);
    };
    auto run = [&]() -> asio::awaitable<void> {
      tcp::resolver resolver(ioc);
      const auto endpoints = co_await resolver.async_resolve(url.host, url.port, asio::use_awaitable);
      if (url.https) {
        beast::ssl_stream<beast::tcp_stream> stream(ioc, tls);
        if (!SSL_set_tlsext_host_name(stream.native_handle(), url.host.c_str()))
          throw backend_error("cannot set TLS server name " + url.host, 0);
        stream.set_verify_callback(asio::ssl::host_name_verification(url.host));
        auto& lowest = beast::get_lowest_layer(stream);
        lowest.expires_after(budget(deadline, options.connect_timeout));
        co_await lowest.async_connect(endpoints, asio::use_awaitable);
        lowest.expires_after(budget(deadline, options.connect_timeout));
        co_await stream.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
        co_await exchange(stream, lowest, target, body, streaming, tracking_sink, started, deadline, out);
      } else {
        beast::tcp_stream stream(ioc);
        stream.expires_after(budget(deadline, options.connect_timeout));
        co_await stream.async_connect(endpoints, asio::use_awaitable);
        co_await exchange(stream, stream, target, body, streaming, tracking_sink, started, deadline, out);
      }
    };
    std::exception_ptr failure;
    asio::co_spawn(ioc, run(), [&](std::exception_ptr e) { failure = e; });
    ioc.run();
    out.result.total_latency = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - started);
    if (failure) {
      try {
        std::rethrow_exception(failure);
      } catch (const backend_error& e) {
        out.error = e.what();
        out.retryable = false;
      } catch (const boost::system::system_error& e) {
        out.error = e.code() == beast::error::timeout ? "timed out" : e.code().message();
        out.retryable = !delivered;
      } catch (const std::exception& e) {
        out.error = e.what();
        out.retryable = !delivered;
      }
      out.ok = false;
    }
    return out;
  }
};

openai_client::openai_client(openai_client_options options) : impl_(std::make_unique<impl>(std::move(options))) {}
openai_client::~openai_client() = default;

std::string openai_client::describe() const { return impl_->describe(); }

int openai_client::last_attempts() { return g_last_attempts; }

attempt_outcome openai_client::impl::call(const std::string& target, const std::string& body, bool streaming,
                                          const text_sink& on_text) {
  auto& im = *this;
  {
    std::unique_lock lock(im.mutex);
    im.slot_free.wait(lock, [&] { return im.in_flight < std::max(1, im.options.max_concurrent_requests); });
    ++im.in_flight;
  }
  struct release_slot {
    impl& im;
    ~release_slot() {
      const std::lock_guard lock(im.mutex);
      --im.in_flight;
      im.slot_free.notify_one();
    }
  } release{im};

  std::mt19937_64 jitter(std::random_device{}());
  auto backoff = im.options.initial_backoff;
  attempt_outcome last;
  for (int attempt = 1; attempt <= std::max(1, im.options.max_attempts); ++attempt) {
    g_last_attempts = attempt;
    last = im.attempt(target, body, streaming, on_text);
    if (last.ok) return last;
    if (!last.retryable || attempt == im.options.max_attempts) break;
    auto wait = std::chrono::milliseconds(static_cast<std::int64_t>(
        static_cast<double>(backoff.count()) * std::uniform_real_distribution<double>(0.5, 1.0)(jitter)));
    if (last.retry_after) wait = std::min(*last.retry_after, std::chrono::milliseconds(60000));
    log::warn("{}: attempt {} failed ({}); retrying in {} ms", describe(), attempt, last.error, wait.count());
    std::this_thread::sleep_for(wait);
    backoff = std::min(backoff * 2, im.options.max_backoff);
  }
  throw backend_error(fmt::format("{}: {} (after {} attempt{})", describe(), last.error, g_last_attempts,
                                  g_last_attempts == 1 ? "" : "s"),
                      last.status);
}

generation_result openai_client::chat(const std::vector<chat_message>& messages, const generation_options& options,
                                      const text_sink& on_text) {
  return impl_->call("/chat/completions", request_body(impl_->options.model, messages, options), true, on_text).result;
}

namespace {

// Runs fn(i) for i in [0, n) on up to `workers` threads. The first failure
// stops the handing out of further indices and is rethrown (as fn threw it)
// once every worker has finished its current request.
void run_parallel(std::size_t n, int workers, const std::function<void(std::size_t)>& fn) {
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr first_error;
  std::mutex error_mutex;
  auto work = [&] {
    while (!failed.load()) {
      const std::size_t i = next.fetch_add(1);
      if (i >= n) return;
      try {
        fn(i);
      } catch (...) {
        const std::lock_guard lock(error_mutex);
        if (!first_error) first_error = std::current_exception();
        failed = true;
      }
    }
  };
  const auto n_threads = std::min<std::size_t>(n, static_cast<std::size_t>(std::max(1, workers)));
  std::vector<std::thread> threads;
  threads.reserve(n_threads);
  for (std::size_t t = 1; t < n_threads; ++t) threads.emplace_back(work);
  if (n_threads > 0) work();
  for (auto& t : threads) t.join();
  if (first_error) std::rethrow_exception(first_error);
}

std::int64_t code_points(std::string_view s) {
  std::int64_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

const json::value* member(const json::value& v, std::string_view key) {
  return v.is_object() ? v.as_object().if_contains(key) : nullptr;
}

std::optional<double> as_number(const json::value& v) {
  if (v.is_double()) return v.as_double();
  if (v.is_int64()) return static_cast<double>(v.as_int64());
  if (v.is_uint64()) return static_cast<double>(v.as_uint64());
  return std::nullopt;
}

// The log-probabilities of the echoed prompt in a /completions answer.
struct echoed_logprobs {
  std::vector<std::string> tokens;
  std::vector<std::optional<double>> logprobs;  // nullopt where the server gives none (the first token)
  std::vector<std::optional<double>> top;       // the best alternative's log-probability
  std::vector<std::string> top_token;
  std::vector<std::int64_t> offsets;            // text_offset: code points before the token
};

}  // namespace

capability_error openai_client::impl::no_prompt_logprobs(std::string_view detail) const {
  return capability_error(fmt::format(
      "{}: the server at {}/completions does not return prompt log-probabilities (echo + logprobs) on /v1/completions "
      "for model '{}' ({}); loglikelihood suites need a server that does, e.g. huashan serve or vLLM",
      describe(), options.base_url, options.model, detail));
}

namespace {

// One echo request: the prompt's tokens with their log-probabilities. Throws
// capability_error (from `refuse`) when the answer carries none.
echoed_logprobs parse_echo(const json::value& answer, const std::function<capability_error(std::string_view)>& refuse) {
  const auto* choices = member(answer, "choices");
  if (!choices || !choices->is_array() || choices->as_array().empty()) throw refuse("the answer has no choices");
  const auto* lp = member(choices->as_array()[0], "logprobs");
  if (!lp || lp->is_null()) throw refuse("logprobs came back null");
  const auto* tokens = member(*lp, "tokens");
  const auto* token_logprobs = member(*lp, "token_logprobs");
  const auto* offsets = member(*lp, "text_offset");
  const auto* top = member(*lp, "top_logprobs");
  if (!tokens || !tokens->is_array() || !token_logprobs || !token_logprobs->is_array() || !offsets ||
      !offsets->is_array() || tokens->as_array().size() != token_logprobs->as_array().size() ||
      tokens->as_array().size() != offsets->as_array().size())
    throw refuse("logprobs lack tokens, token_logprobs or text_offset");
  echoed_logprobs out;
  const std::size_t n = tokens->as_array().size();
  for (std::size_t i = 0; i < n; ++i) {
    const auto& t = tokens->as_array()[i];
    out.tokens.push_back(t.is_string() ? std::string(t.as_string()) : std::string());
    out.logprobs.push_back(as_number(token_logprobs->as_array()[i]));
    const auto offset = as_number(offsets->as_array()[i]);
    if (!offset) throw refuse("text_offset is not a number");
    out.offsets.push_back(static_cast<std::int64_t>(*offset));
    std::optional<double> best;
    std::string best_token;
    if (top && top->is_array() && i < top->as_array().size() && top->as_array()[i].is_object()) {
      for (const auto& [key, value] : top->as_array()[i].as_object()) {
        const auto v = as_number(value);
        if (v && (!best || *v > *best)) {
          best = v;
          best_token = std::string(key);
        }
      }
    }
    out.top.push_back(best);
    out.top_token.push_back(std::move(best_token));
  }
  return out;
}

// text_offset counts characters of the echoed prompt (OpenAI; huashan serve
// exactly so). vLLM's are the running sum of its decoded tokens' lengths from
// the first token on, and its first token is decoded on its own: a BOS the
// prompt does not hold ("<s>", "<|begin_of_text|>") or the leading space of a
// SentencePiece first word pushes every later offset ahead by that many
// characters. Measured at the end: the last echoed token ends where the
// prompt does, less a leading space of its own that the prompt lacks (a
// one-word prompt's only token, " Hello" for "Hello").
std::int64_t offset_shift(const echoed_logprobs& echo, std::string_view prompt) {
  if (echo.tokens.empty() || echo.tokens.back().rfind("bytes:", 0) == 0) return 0;
  const std::string& last = echo.tokens.back();
  std::int64_t end = echo.offsets.back() + code_points(last);
  if (last.starts_with(' ') && !prompt.ends_with(last) && prompt.ends_with(std::string_view(last).substr(1))) --end;
  return std::max<std::int64_t>(0, end - code_points(prompt));
}

}  // namespace

json::value openai_client::impl::post_completions(const json::object& body, bool scoring) {
  attempt_outcome outcome;
  try {
    outcome = call("/completions", json::serialize(body), false, nullptr);
  } catch (const backend_error& e) {
    // A server without /completions (a chat-only API) or one that refuses echo
    // or logprobs cannot score prompts; say so rather than report a failure.
    const std::string what = e.what();
    const bool refused = e.status() == 404 || e.status() == 405 || e.status() == 501 ||
                         ((e.status() == 400 || e.status() == 422) &&
                          (what.find("echo") != std::string::npos || what.find("logprobs") != std::string::npos));
    if (scoring && refused) throw no_prompt_logprobs(fmt::format("HTTP {}", e.status()));
    throw;
  }
  boost::system::error_code ec;
  json::value answer = json::parse(outcome.body, ec);
  if (ec || !answer.is_object())
    throw backend_error(fmt::format("{}: /completions answered with malformed JSON: {}", describe(), outcome.body.substr(0, 200)), 200);
  return answer;
}

std::vector<loglikelihood_result> openai_client::loglikelihood(std::span<const loglikelihood_request> requests) {
  std::vector<loglikelihood_result> out(requests.size());
  run_parallel(requests.size(), impl_->options.max_concurrent_requests, [&](std::size_t i) {
    const auto& r = requests[i];
    try {
      const std::string prompt = r.context + r.continuation;
      json::object body{{"model", impl_->options.model}, {"prompt", prompt}, {"echo", true},     {"logprobs", 1},
                        {"max_tokens", 0},                {"temperature", 0.0}};
      const auto echo = parse_echo(impl_->post_completions(body, true), [this](std::string_view d) { return impl_->no_prompt_logprobs(d); });
      // As lm-evaluation-harness's completions backend: the continuation is
      // the tokens that start at or after the context's end (text_offset
      // counts characters, code points here), so a token that straddles the
      // boundary belongs to the context.
      const std::int64_t shift = offset_shift(echo, prompt);
      const std::int64_t context_end = code_points(r.context) + shift;
      const std::int64_t prompt_end = code_points(prompt) + shift;
      // A first token that takes no room in the prompt (the next one starts
      // where the prompt does) is a BOS the server added: with an empty
      // context it is still not the continuation's.
      const bool added_first = echo.tokens.size() > 1 && echo.offsets[1] - shift <= 0;
      loglikelihood_result result{0.0, true, 0};
      for (std::size_t k = 0; k < echo.tokens.size(); ++k) {
        if ((k == 0 && added_first) || echo.offsets[k] < context_end || echo.offsets[k] >= prompt_end) continue;
        if (!echo.logprobs[k]) throw impl_->no_prompt_logprobs(fmt::format("no log-probability for continuation token {}", k));
        result.logprob += *echo.logprobs[k];
        ++result.n_tokens;
        const bool top_is_token = echo.top[k] && (echo.top_token[k] == echo.tokens[k] || *echo.top[k] <= *echo.logprobs[k]);
        result.is_greedy = result.is_greedy && top_is_token;
      }
      out[i] = result;
    } catch (const capability_error&) {
      throw;
    } catch (const backend_error& e) {
      throw backend_error(fmt::format("loglikelihood request {}: {}", i, e.what()), e.status());
    }
  });
  return out;
}

std::vector<rolling_result> openai_client::loglikelihood_rolling(std::span<const rolling_request> requests) {
  std::vector<rolling_result> out(requests.size());
  run_parallel(requests.size(), impl_->options.max_concurrent_requests, [&](std::size_t i) {
    const auto& r = requests[i];
    try {
      json::object body{{"model", impl_->options.model}, {"prompt", r.text}, {"echo", true},     {"logprobs", 1},
                        {"max_tokens", 0},                {"temperature", 0.0}};
      const auto echo = parse_echo(impl_->post_completions(body, true), [this](std::string_view d) { return impl_->no_prompt_logprobs(d); });
      // Every echoed token the server scored: with a BOS-prefixing server
      // that is every token of the text, conditioned on BOS, as the local
      // backend's first window. Unlike the local windows the server sees the
      // text in one piece, so a text longer than its context fails there
      // instead of being scored window by window; a server that adds no BOS
      // leaves the text's first token unscored.
      const std::int64_t text_end = code_points(r.text) + offset_shift(echo, r.text);
      for (std::size_t k = 0; k < echo.tokens.size(); ++k) {
        if (echo.offsets[k] >= text_end || !echo.logprobs[k]) continue;
        out[i].logprob += *echo.logprobs[k];
        ++out[i].n_tokens;
      }
    } catch (const capability_error&) {
      throw;
    } catch (const backend_error& e) {
      throw backend_error(fmt::format("loglikelihood_rolling request {}: {}", i, e.what()), e.status());
    }
  });
  return out;
}

std::vector<generation_result> openai_client::generate_until(std::span<const generate_until_request> requests) {
  std::vector<generation_result> out(requests.size());
  run_parallel(requests.size(), impl_->options.max_concurrent_requests, [&](std::size_t i) {
    const auto& r = requests[i];
    const auto started = clock_type::now();
    try {
      json::object body{{"model", impl_->options.model}, {"prompt", r.context},   {"max_tokens", r.max_tokens},
                        {"temperature", r.temperature},  {"top_p", r.top_p},      {"seed", r.seed}};
      if (!r.until.empty()) {
        json::array stop;
        for (const auto& u : r.until) stop.push_back(json::string(u));
        body["stop"] = std::move(stop);
      }
      const auto answer = impl_->post_completions(body, false);
      const auto* choices = member(answer, "choices");
      if (!choices || !choices->is_array() || choices->as_array().empty())
        throw backend_error(fmt::format("{}: /completions answered without choices", describe()), 200);
      const auto& choice = choices->as_array()[0];
      auto& g = out[i];
      if (const auto* text = member(choice, "text"); text && text->is_string()) g.text = std::string(text->as_string());
      if (const auto* finish = member(choice, "finish_reason"); finish && finish->is_string())
        g.finish_reason = std::string(finish->as_string());
      // Servers may leave a stop string in (or stop only on some): cut at the first.
      for (const auto& u : r.until) {
        if (u.empty()) continue;
        if (const auto at = g.text.find(u); at != std::string::npos) {
          g.text.resize(at);
          g.finish_reason = "stop";
        }
      }
      if (const auto* usage = member(answer, "usage")) {
        if (const auto* p = member(*usage, "prompt_tokens"); p && p->is_int64()) g.prompt_tokens = static_cast<std::int32_t>(p->as_int64());
        if (const auto* c = member(*usage, "completion_tokens"); c && c->is_int64()) g.completion_tokens = static_cast<std::int32_t>(c->as_int64());
      }
      g.total_latency = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - started);
    } catch (const backend_error& e) {
      throw backend_error(fmt::format("generate_until request {}: {}", i, e.what()), e.status());
    }
  });
  return out;
}

model_fingerprint openai_client::fingerprint() const {
  // parse_base_url refuses credentials in the URL, so the base URL is safe to print.
  return {"openai", {{"endpoint", impl_->options.base_url}, {"model", impl_->options.model}}};
}

}  // namespace huashan::harness
