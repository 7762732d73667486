// The OpenAI-compatible client against a real HTTP server (ours, on loopback)
// whose routes answer like an OpenAI-compatible server would, including its
// failure modes: 503 and 429 with Retry-After (retried), 400 (not retried),
// a server too slow to answer (timeout), and a reader that stops early.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "arena/http/server.hpp"
#include "harness/openai_client.hpp"

using namespace huashan;
using namespace huashan::harness;
namespace http = huashan::arena::http;

namespace {

std::string sse_body(const std::vector<std::string>& pieces) {
  std::string body;
  for (const auto& p : pieces)
    body += "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + p + "\"},\"finish_reason\":null}]}\n\n";
  body += "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n";
  body += "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":3}}\n\n";
  body += "data: [DONE]\n\n";
  return body;
}

http::response sse(const std::vector<std::string>& pieces) {
  http::response r;
  r.content_type = "text/event-stream";
  r.body = sse_body(pieces);
  return r;
}

// A /completions echo answer: token k has log-probability -k (the first
// none) and is its own best alternative.
http::response echo_answer(const std::vector<std::string>& tokens, const std::vector<int>& offsets) {
  std::string logprobs = "[null", top = "[null", toks, offs;
  for (std::size_t k = 0; k < tokens.size(); ++k) {
    toks += (k ? "," : "") + ("\"" + tokens[k] + "\"");
    offs += (k ? "," : "") + std::to_string(offsets[k]);
    if (k == 0) continue;
    logprobs += ",-" + std::to_string(k);
    top += ",{\"" + tokens[k] + "\":-" + std::to_string(k) + "}";
  }
  http::response r;
  r.content_type = "application/json";
  r.body = R"({"choices":[{"index":0,"text":"","finish_reason":"length","logprobs":{"tokens":[)" + toks + R"(],"token_logprobs":)" +
           logprobs + R"(],"top_logprobs":)" + top + R"(],"text_offset":[)" + offs + "]}}]}";
  return r;
}

struct test_server {
  std::atomic<int> flaky_calls{0};
  std::atomic<int> limited_calls{0};
  std::string last_authorization;
  std::string last_body;
  std::unique_ptr<http::server> server;
  std::thread thread;

  test_server() {
    http::router routes;
    routes.add("POST", "/v1/chat/completions", [this](const http::request& req) {
      last_authorization = req.headers.count("authorization") ? req.headers.at("authorization") : "";
      last_body = req.body;
      return sse({"Hel", "lo", "!"});
    });
    routes.add("POST", "/flaky/chat/completions", [this](const http::request&) {
      if (++flaky_calls <= 2) return http::problem(503, "Service Unavailable", "warming up");
      return sse({"ok"});
    });
    routes.add("POST", "/limited/chat/completions", [this](const http::request&) {
      if (++limited_calls == 1) {
        auto r = http::problem(429, "Too Many Requests", "slow down");
        r.headers.emplace_back("Retry-After", "0");
        return r;
      }
      return sse({"fine"});
    });
    routes.add("POST", "/bad/chat/completions",
               [](const http::request&) { return http::problem(400, "Bad Request", "unknown model 'x'"); });
    routes.add("POST", "/stream/chat/completions", [](const http::request&) {
      // A truly streamed body: chunks leave as they are produced.
      http::response r;
      r.content_type = "text/event-stream";
      r.stream = [](http::chunk_writer& out) {
        const std::string all = sse_body({"a", "b", "c"});
        std::size_t start = 0;
        while (start < all.size()) {
          const auto end = all.find("\n\n", start) + 2;
          if (!out.write(std::string_view(all).substr(start, end - start))) return;
          start = end;
          std::this_thread::sleep_for(std::chrono::milliseconds(60));
        }
      };
      return r;
    });
    // A chat-only API: no /completions at all (404), or one that ignores echo.
    routes.add("POST", "/chatonly/chat/completions", [](const http::request&) { return sse({"hi"}); });
    routes.add("POST", "/nologprobs/completions", [](const http::request&) {
      http::response r;
      r.content_type = "application/json";
      r.body = R"({"choices":[{"index":0,"text":"","logprobs":null,"finish_reason":"length"}]})";
      return r;
    });
    // Echoed "The sky is blue." as our server numbers it (text_offset: where
    // each token's text starts in the prompt; SentencePiece's leading space
    // before "The" takes no room) and as vLLM does (the running sum of its
    // decoded tokens' lengths, "<s>" included: every offset 3 ahead); and a
    // one-word prompt whose only token carries the leading space.
    routes.add("POST", "/exact/completions", [](const http::request&) {
      return echo_answer({"<s>", " The", " sky", " is", " blue", "."}, {0, 0, 3, 7, 10, 15});
    });
    routes.add("POST", "/vllm/completions", [](const http::request&) {
      return echo_answer({"<s>", "The", " sky", " is", " blue", "."}, {0, 3, 6, 10, 13, 18});
    });
    routes.add("POST", "/oneword/completions", [](const http::request&) { return echo_answer({"<s>", " Hello"}, {0, 0}); });
    routes.add("POST", "/failing/completions",
               [](const http::request&) { return http::problem(400, "Bad Request", "prompt too long"); });
    routes.add("POST", "/slow/chat/completions", [](const http::request&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      return sse({"late"});
    });
    http::server_options options;
    options.port = 0;
    options.threads = 4;
    options.shutdown_grace = std::chrono::seconds(3);
    server = std::make_unique<http::server>(options, std::move(routes));
    server->listen();
    thread = std::thread([this] { server->run(); });
  }
  ~test_server() {
    server->stop();
    thread.join();
  }
  std::string base(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(server->port()) + path; }
};

openai_client_options fast_options(std::string base_url) {
  openai_client_options o;
  o.base_url = std::move(base_url);
  o.model = "test-model";
  o.initial_backoff = std::chrono::milliseconds(10);
  o.max_backoff = std::chrono::milliseconds(40);
  return o;
}

}  // namespace

TEST_CASE("streams a chat completion, sends the key, reads usage") {
  test_server server;
  auto options = fast_options(server.base("/v1"));
  options.api_key = "sk-test";
  openai_client client(options);
  std::vector<std::string> pieces;
  const auto result = client.chat({{"user", "hi"}}, {}, [&](std::string_view p) {
    pieces.emplace_back(p);
    return true;
  });
  CHECK(result.text == "Hello!");
  CHECK(pieces == std::vector<std::string>{"Hel", "lo", "!"});
  CHECK(result.finish_reason == "stop");
  CHECK(result.prompt_tokens == 7);
  CHECK(result.completion_tokens == 3);
  CHECK(server.last_authorization == "Bearer sk-test");
  CHECK(server.last_body.find("\"stream\":true") != std::string::npos);
  CHECK(server.last_body.find("\"model\":\"test-model\"") != std::string::npos);
  CHECK(openai_client::last_attempts() == 1);
}

TEST_CASE("503 and 429 are retried; 400 is not") {
  test_server server;
  openai_client flaky(fast_options(server.base("/flaky")));
  CHECK(flaky.chat({{"user", "x"}}, {}, nullptr).text == "ok");
  CHECK(openai_client::last_attempts() == 3);

  openai_client limited(fast_options(server.base("/limited")));
  CHECK(limited.chat({{"user", "x"}}, {}, nullptr).text == "fine");
  CHECK(openai_client::last_attempts() == 2);

  openai_client bad(fast_options(server.base("/bad")));
  try {
    bad.chat({{"user", "x"}}, {}, nullptr);
    FAIL("a 400 must throw");
  } catch (const backend_error& e) {
    CHECK(e.status() == 400);
    CHECK(std::string(e.what()).find("unknown model 'x'") != std::string::npos);
    CHECK(openai_client::last_attempts() == 1);
  }
}

TEST_CASE("a server slower than the timeout fails with a timeout after the retries") {
  test_server server;
  auto options = fast_options(server.base("/slow"));
  options.first_byte_timeout = std::chrono::milliseconds(200);
  options.max_attempts = 2;
  openai_client client(options);
  CHECK_THROWS_WITH_AS(client.chat({{"user", "x"}}, {}, nullptr), doctest::Contains("timed out (after 2 attempts)"),
                       backend_error);
}

TEST_CASE("a streamed response arrives piece by piece") {
  test_server server;
  openai_client client(fast_options(server.base("/stream")));
  std::vector<std::chrono::steady_clock::time_point> arrivals;
  const auto result = client.chat({{"user", "hi"}}, {}, [&](std::string_view) {
    arrivals.push_back(std::chrono::steady_clock::now());
    return true;
  });
  CHECK(result.text == "abc");
  CHECK(result.completion_tokens == 3);
  REQUIRE(arrivals.size() == 3);
  // The producer sleeps 60 ms between chunks: the pieces cannot have come in one read.
  CHECK(arrivals[2] - arrivals[0] >= std::chrono::milliseconds(100));
  CHECK(result.first_token_latency < result.total_latency);
}

TEST_CASE("a sink that returns false stops the stream early") {
  test_server server;
  openai_client client(fast_options(server.base("/v1")));
  const auto result = client.chat({{"user", "hi"}}, {}, [](std::string_view) { return false; });
  CHECK(result.text == "Hel");
}

TEST_CASE("base URLs are validated") {
  CHECK(parse_base_url("https://api.example.com/v1/").path == "/v1");
  CHECK(parse_base_url("https://api.example.com").port == "443");
  CHECK(parse_base_url("http://127.0.0.1:8000/v1").port == "8000");
  CHECK_THROWS_AS(parse_base_url("ftp://x"), config_error);
  CHECK_THROWS_AS(parse_base_url("http://user:pw@x/v1"), config_error);
  CHECK_THROWS_AS(parse_base_url("http://:80/v1"), config_error);
  CHECK_THROWS_AS(parse_base_url("http://x:8a/v1"), config_error);
}

TEST_CASE("loglikelihood from a server without prompt log-probabilities is a capability_error naming it") {
  test_server server;
  const std::vector<loglikelihood_request> requests = {{"The sky is", " blue"}, {"Grass is", " green"}};
  for (const char* path : {"/chatonly", "/nologprobs"}) {
    CAPTURE(path);
    openai_client client(fast_options(server.base(path)));
    try {
      client.loglikelihood(requests);
      FAIL("no capability_error");
    } catch (const capability_error& e) {
      const std::string what = e.what();
      CHECK(what.find(server.base(path) + "/completions") != std::string::npos);
      CHECK(what.find("test-model") != std::string::npos);
      CHECK(what.find("does not return prompt log-probabilities (echo + logprobs) on /v1/completions") != std::string::npos);
      CHECK(what.find("huashan serve or vLLM") != std::string::npos);
    }
    CHECK_THROWS_AS(client.loglikelihood_rolling(std::vector<rolling_request>{{"text"}}), capability_error);
  }
  // Other failures stay backend errors and name the request.
  openai_client failing(fast_options(server.base("/failing")));
  CHECK_THROWS_WITH_AS(failing.generate_until(std::vector<generate_until_request>{{"x", {}, 4, 0.0, 1.0, 0}}),
                       doctest::Contains("generate_until request 0"), backend_error);
}

TEST_CASE("loglikelihood takes the tokens whose text_offset falls in the continuation, with exact or vLLM-shifted offsets") {
  test_server server;
  const std::vector<loglikelihood_request> sky = {{"The sky is", " blue."}};
  for (const char* path : {"/exact", "/vllm"}) {
    CAPTURE(path);
    openai_client client(fast_options(server.base(path)));
    const auto r = client.loglikelihood(sky);
    REQUIRE(r.size() == 1);
    CHECK(r[0].n_tokens == 2);        // " blue" and "."
    CHECK(r[0].logprob == -4.0 - 5.0);  // not " is" (-3), which the shifted offsets would give unadjusted
    CHECK(r[0].is_greedy);
    const auto rolled = client.loglikelihood_rolling(std::vector<rolling_request>{{"The sky is blue."}});
    CHECK(rolled[0].n_tokens == 5);
    CHECK(rolled[0].logprob == -15.0);
  }
  // A one-word prompt: the token " Hello" starts at 0 and is the continuation.
  openai_client one(fast_options(server.base("/oneword")));
  const auto r = one.loglikelihood(std::vector<loglikelihood_request>{{"", "Hello"}});
  CHECK(r[0].n_tokens == 1);
  CHECK(r[0].logprob == -1.0);
}
