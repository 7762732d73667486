// The OpenAI-compatible routes served by our real HTTP server on loopback,
// over two real local models:
//  - stories260K (tests/data/models/stories260K.gguf: llama, SPM vocab, no
//    chat template): /v1/completions greedy text against the engine's own
//    greedy generation, echo logprobs against the engine's teacher-forced
//    scores of the same token ids (the same bits), text_offset of a
//    SentencePiece prompt, /tokenize and /detokenize against the tokenizer;
//  - a small synthetic qwen3 written here with build_synthetic_model (ChatML
//    template): /v1/chat/completions through our OpenAI client (streaming SSE),
//    compared with local_backend and with the engine directly; text_offset of
//    a byte-level BPE prompt (several characters cut between tokens).
// Plus streaming framing ([DONE], include_usage) and hostile inputs, each of
// which must be a 4xx naming the field.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <cmath>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "arena/http/routes_openai.hpp"
#include "arena/http/server.hpp"
#include "harness/engine/synth_gguf.hpp"
#include "common/utf8.hpp"
#include "harness/engine/unicode.hpp"
#include "harness/local_backend.hpp"
#include "harness/openai_client.hpp"
#include "tests/tiny_models.hpp"

using namespace huashan;
namespace http = huashan::arena::http;
namespace json = boost::json;

namespace {

const char* const stories_path = HUASHAN_TEST_DATA "/models/stories260K.gguf";

engine::engine_config small_config(std::int32_t n_ctx) {
  engine::engine_config c;
  c.n_threads = 1;
  c.n_ctx = n_ctx;
  c.kv.memory_budget_bytes = 8u << 20;
  return c;
}

struct http_reply {
  int status = 0;
  std::string content_type;
  std::string body;  // de-chunked
};

// A minimal HTTP/1.1 client on a blocking socket: one request, Connection:
// close, Content-Length or chunked body. Enough to see exact bytes and statuses.
http_reply http_call(std::uint16_t port, const std::string& method, const std::string& path, const std::string& body) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n";
  req += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  for (std::size_t sent = 0; sent < req.size();) {
    const auto n = ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    REQUIRE(n > 0);
    sent += static_cast<std::size_t>(n);
  }
  std::string raw;
  char buf[8192];
  while (true) {
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    raw.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  http_reply out;
  const auto head_end = raw.find("\r\n\r\n");
  REQUIRE(head_end != std::string::npos);
  std::string head = raw.substr(0, head_end);
  for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  out.status = std::stoi(raw.substr(9, 3));
  if (const auto ct = head.find("content-type: "); ct != std::string::npos)
    out.content_type = head.substr(ct + 14, head.find("\r\n", ct) - ct - 14);
  std::string rest = raw.substr(head_end + 4);
  if (head.find("transfer-encoding: chunked") != std::string::npos) {
    std::size_t at = 0;
    while (at < rest.size()) {
      const auto line_end = rest.find("\r\n", at);
      const auto size = std::stoul(rest.substr(at, line_end - at), nullptr, 16);
      if (size == 0) break;
      out.body += rest.substr(line_end + 2, size);
      at = line_end + 2 + size + 2;
    }
  } else {
    out.body = rest;
  }
  return out;
}

// The payloads of "data: ..." events, in order.
std::vector<std::string> sse_events(const std::string& body) {
  std::vector<std::string> events;
  std::size_t at = 0;
  while (true) {
    const auto end = body.find("\n\n", at);
    if (end == std::string::npos) break;
    const std::string event = body.substr(at, end - at);
    if (event.rfind("data: ", 0) == 0) events.push_back(event.substr(6));
    at = end + 2;
  }
  return events;
}

struct fixture {
  std::vector<std::byte> qwen_file = testing::tiny_model_bytes({.arch = "qwen3", .n_embd = 64, .n_ctx = 512, .seed = 7});
  std::vector<std::byte> llama_spm_file =
      testing::tiny_model_bytes({.arch = "llama", .n_embd = 32, .n_ctx = 256, .seed = 5, .tokenizer_from = stories_path});
  std::shared_ptr<harness::local_model> stories =
      std::make_shared<harness::local_model>("stories", stories_path, small_config(256));
  std::shared_ptr<harness::local_model> qwen =
      std::make_shared<harness::local_model>("qwen-tiny", engine::gguf_file::open_memory(qwen_file, "qwen-tiny.gguf"), small_config(512));
  std::shared_ptr<harness::local_model> llama_spm = std::make_shared<harness::local_model>(
      "llama-spm", engine::gguf_file::open_memory(llama_spm_file, "llama-spm.gguf"), small_config(256));
  std::unique_ptr<http::server> server;
  std::thread thread;

  fixture() {
    http::router routes;
    http::add_openai_routes(routes, {{"stories", stories}, {"qwen-tiny", qwen}, {"llama-spm", llama_spm}});
    http::server_options options;
    options.port = 0;
    options.threads = 2;
    options.handler_threads = 4;
    options.shutdown_grace = std::chrono::seconds(3);
    server = std::make_unique<http::server>(options, std::move(routes));
    server->listen();
    thread = std::thread([this] { server->run(); });
  }
  ~fixture() {
    server->stop();
    thread.join();
  }
  http_reply post(const std::string& path, const std::string& body) { return http_call(server->port(), "POST", path, body); }
  json::object post_json(const std::string& path, const json::object& body) {
    const auto r = post(path, json::serialize(body));
    REQUIRE_MESSAGE(r.status == 200, r.body);
    return json::parse(r.body).as_object();
  }
};

fixture& shared_fixture() {
  static fixture f;
  return f;
}

std::int64_t code_points(std::string_view s) {
  std::int64_t n = 0;
  for (const unsigned char c : s) n += (c & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

// text_offset's definition: the character holding byte `at` of `text` (past
// the end: the number of characters).
std::int64_t character_at(std::string_view text, std::size_t at) {
  if (at >= text.size()) return code_points(text);
  return code_points(text.substr(0, at + 1)) - 1;
}

std::vector<std::int64_t> offsets_of(const json::object& choice) {
  std::vector<std::int64_t> out;
  for (const auto& v : choice.at("logprobs").at("text_offset").as_array()) out.push_back(v.as_int64());
  return out;
}

std::vector<std::int32_t> ids_of(const json::array& a) {
  std::vector<std::int32_t> out;
  for (const auto& v : a) out.push_back(static_cast<std::int32_t>(v.as_int64()));
  return out;
}

}  // namespace

TEST_CASE("GET /v1/models lists the loaded models") {
  auto& f = shared_fixture();
  const auto r = http_call(f.server->port(), "GET", "/v1/models", "");
  REQUIRE(r.status == 200);
  const auto body = json::parse(r.body).as_object();
  CHECK(body.at("object") == "list");
  std::vector<std::string> ids;
  for (const auto& m : body.at("data").as_array()) {
    ids.emplace_back(m.at("id").as_string());
    CHECK(m.at("object") == "model");
    CHECK(m.at("created").as_int64() > 0);
  }
  CHECK(ids == std::vector<std::string>{"llama-spm", "qwen-tiny", "stories"});
}

TEST_CASE("GET /v1/models/{id} retrieves one model; an unknown id is OpenAI's 404 model_not_found") {
  auto& f = shared_fixture();
  const auto r = http_call(f.server->port(), "GET", "/v1/models/qwen-tiny", "");
  REQUIRE(r.status == 200);
  CHECK(r.content_type == "application/json");
  const auto model = json::parse(r.body).as_object();
  CHECK(model.at("id") == "qwen-tiny");
  CHECK(model.at("object") == "model");
  CHECK(model.at("owned_by") == "huashan");
  CHECK(model.at("created").as_int64() == f.qwen->created());
  CHECK(model.at("meta").at("n_ctx").as_int64() == f.qwen->n_ctx());
  // The same object the list carries for this model.
  const auto list = json::parse(http_call(f.server->port(), "GET", "/v1/models", "").body).as_object();
  bool listed = false;
  for (const auto& m : list.at("data").as_array())
    if (m.at("id") == "qwen-tiny") listed = m.as_object() == model;
  CHECK(listed);

  const auto missing = http_call(f.server->port(), "GET", "/v1/models/gpt-4o%2Dmini", "");
  CHECK(missing.status == 404);
  CHECK(missing.content_type == "application/json");
  const auto error = json::parse(missing.body).as_object().at("error").as_object();
  CHECK(error.at("code") == "model_not_found");
  CHECK(error.at("type") == "invalid_request_error");
  CHECK(error.at("param") == "model");
  CHECK(std::string(error.at("message").as_string()).find("'gpt-4o-mini'") != std::string::npos);

  CHECK(http_call(f.server->port(), "POST", "/v1/models/qwen-tiny", "{}").status == 405);
}

TEST_CASE("greedy /v1/completions on stories260K equals the engine's own greedy generation") {
  auto& f = shared_fixture();
  engine::inference_engine direct(stories_path, small_config(256));
  engine::generate_request g;
  g.prompt = direct.tokenizer().tokenize("Once upon a time", {.add_special = true, .parse_special = true});
  g.max_tokens = 24;
  const auto expected = direct.generate({g}).at(0);
  REQUIRE(!expected.tokens.empty());

  const auto body = f.post_json("/v1/completions", {{"model", "stories"}, {"prompt", "Once upon a time"}, {"max_tokens", 24}, {"temperature", 0}});
  CHECK(std::string(body.at("id").as_string()).rfind("cmpl-", 0) == 0);
  CHECK(body.at("object") == "text_completion");
  CHECK(body.at("model") == "stories");
  const auto& choice = body.at("choices").as_array().at(0).as_object();
  CHECK(choice.at("index").as_int64() == 0);
  CHECK(std::string(choice.at("text").as_string()) == expected.text);
  CHECK(choice.at("finish_reason") == (expected.finish == engine::finish_reason::length ? "length" : "stop"));
  CHECK(choice.at("logprobs").is_null());
  const auto& usage = body.at("usage").as_object();
  CHECK(usage.at("prompt_tokens").as_int64() == static_cast<std::int64_t>(g.prompt.size()));
  CHECK(usage.at("completion_tokens").as_int64() == static_cast<std::int64_t>(expected.tokens.size()));
  CHECK(usage.at("total_tokens").as_int64() == static_cast<std::int64_t>(g.prompt.size() + expected.tokens.size()));

  SUBCASE("the same as token ids, and several prompts in one request") {
    json::array ids;
    for (auto id : g.prompt) ids.push_back(id);
    const auto many = f.post_json("/v1/completions", {{"model", "stories"}, {"prompt", json::array{ids, ids}}, {"max_tokens", 24}, {"temperature", 0}});
    REQUIRE(many.at("choices").as_array().size() == 2);
    for (std::size_t i = 0; i < 2; ++i) {
      CHECK(many.at("choices").as_array()[i].at("index").as_int64() == static_cast<std::int64_t>(i));
      CHECK(std::string(many.at("choices").as_array()[i].at("text").as_string()) == expected.text);
    }
  }
}

TEST_CASE("echo with max_tokens 0 returns the prompt's logprobs: the engine's teacher-forced scores, the first null") {
  auto& f = shared_fixture();
  engine::inference_engine direct(stories_path, small_config(256));
  const auto prompt = direct.tokenizer().tokenize("Once upon a time there was a little girl", {.add_special = true});
  REQUIRE(prompt.size() > 3);
  engine::score_request s;
  s.context = {prompt.front()};
  s.continuation.assign(prompt.begin() + 1, prompt.end());
  s.top_n = 1;
  s.continuation_as_prompt = true;  // the echoed prompt is one forward pass
  const auto expected = direct.score({s}).at(0);

  json::array ids;
  for (auto id : prompt) ids.push_back(id);
  // Exactly what lm-evaluation-harness's local-completions sends for loglikelihood.
  const auto body = f.post_json("/v1/completions", {{"model", "stories"}, {"prompt", json::array{json::value(ids)}}, {"logprobs", 1},
                                                     {"echo", true}, {"max_tokens", 0}, {"temperature", 0}});
  const auto& choice = body.at("choices").as_array().at(0).as_object();
  CHECK(std::string(choice.at("text").as_string()) == direct.tokenizer().detokenize(prompt));
  const auto& lp = choice.at("logprobs").as_object();
  const auto& token_logprobs = lp.at("token_logprobs").as_array();
  const auto& top = lp.at("top_logprobs").as_array();
  REQUIRE(token_logprobs.size() == prompt.size());
  REQUIRE(lp.at("tokens").as_array().size() == prompt.size());
  REQUIRE(lp.at("text_offset").as_array().size() == prompt.size());
  CHECK(token_logprobs[0].is_null());
  CHECK(top[0].is_null());
  for (std::size_t i = 1; i < prompt.size(); ++i) {
    const double got = token_logprobs[i].to_number<double>();
    // The same bits as the engine's, but for Boost.JSON's printing of a double (1 ulp).
    CHECK(got == doctest::Approx(expected.tokens[i - 1].logprob).epsilon(1e-12));
    // lm-eval's is_greedy test compares exactly: token_logprob == max(top_logprobs.values()).
    REQUIRE(top[i].as_object().size() == 1);
    const double best = top[i].as_object().begin()->value().to_number<double>();
    CHECK(best >= got);
    CHECK((best == got) == expected.tokens[i - 1].is_argmax);
  }
  CHECK(body.at("usage").at("completion_tokens").as_int64() == 0);

  SUBCASE("max_tokens 1 (lm-eval's current payload) appends the generated token after the prompt") {
    const auto one = f.post_json("/v1/completions", {{"model", "stories"}, {"prompt", ids}, {"logprobs", 1}, {"echo", true},
                                                      {"max_tokens", 1}, {"temperature", 0}});
    const auto& l = one.at("choices").as_array()[0].at("logprobs").as_object();
    REQUIRE(l.at("token_logprobs").as_array().size() == prompt.size() + 1);
    for (std::size_t i = 1; i < prompt.size(); ++i)
      CHECK(l.at("token_logprobs").as_array()[i].to_number<double>() == doctest::Approx(expected.tokens[i - 1].logprob).epsilon(1e-12));
    CHECK(l.at("token_logprobs").as_array().back().to_number<double>() <= 0.0);
  }
}

TEST_CASE("streamed completions: text chunks, a usage chunk when asked, then [DONE]") {
  auto& f = shared_fixture();
  const auto plain = f.post_json("/v1/completions", {{"model", "stories"}, {"prompt", "Once upon a time"}, {"max_tokens", 20}, {"temperature", 0}});
  const auto r = f.post("/v1/completions", json::serialize(json::object{{"model", "stories"}, {"prompt", "Once upon a time"}, {"max_tokens", 20},
                                                                         {"temperature", 0}, {"stream", true},
                                                                         {"stream_options", {{"include_usage", true}}}}));
  REQUIRE(r.status == 200);
  CHECK(r.content_type.rfind("text/event-stream", 0) == 0);
  const auto events = sse_events(r.body);
  REQUIRE(events.size() >= 3);
  CHECK(events.back() == "[DONE]");
  std::string text;
  std::string finish;
  for (std::size_t i = 0; i + 2 < events.size(); ++i) {
    const auto chunk = json::parse(events[i]).as_object();
    CHECK(chunk.at("object") == "text_completion");
    CHECK(chunk.at("usage").is_null());
    const auto& c = chunk.at("choices").as_array().at(0).as_object();
    text += c.at("text").as_string();
    if (c.at("finish_reason").is_string()) finish = c.at("finish_reason").as_string();
  }
  CHECK(text == std::string(plain.at("choices").as_array()[0].at("text").as_string()));
  CHECK(finish == std::string(plain.at("choices").as_array()[0].at("finish_reason").as_string()));
  const auto usage_chunk = json::parse(events[events.size() - 2]).as_object();
  CHECK(usage_chunk.at("choices").as_array().empty());
  CHECK(usage_chunk.at("usage").at("completion_tokens") == plain.at("usage").at("completion_tokens"));

  SUBCASE("with echo and logprobs the prompt comes first and the logprobs with the final chunk") {
    const auto r3 = f.post("/v1/completions", R"({"model":"stories","prompt":[1,403,407],"max_tokens":3,"temperature":0,)"
                                              R"("echo":true,"logprobs":2,"stream":true,"stream_options":{"include_usage":true}})");
    const auto ev = sse_events(r3.body);
    REQUIRE(ev.size() >= 4);
    CHECK(ev.back() == "[DONE]");
    CHECK(json::parse(ev.front()).at("choices").at(0).at("text") ==
          json::value(f.stories->tokenizer().detokenize(std::vector<std::int32_t>{1, 403, 407})));
    const auto last = json::parse(ev[ev.size() - 3]).at("choices").at(0);
    CHECK(last.at("finish_reason").is_string());
    const auto& lp = last.at("logprobs").as_object();
    const auto generated = json::parse(ev[ev.size() - 2]).at("usage").at("completion_tokens").as_int64();
    CHECK(static_cast<std::int64_t>(lp.at("tokens").as_array().size()) == 3 + generated);
    CHECK(lp.at("token_logprobs").as_array()[0].is_null());
    CHECK(lp.at("top_logprobs").as_array()[1].as_object().size() == 2);
  }

  SUBCASE("without include_usage there is no usage chunk") {
    const auto r2 = f.post("/v1/completions", R"({"model":"stories","prompt":"Once","max_tokens":4,"temperature":0,"stream":true})");
    const auto ev = sse_events(r2.body);
    REQUIRE(!ev.empty());
    CHECK(ev.back() == "[DONE]");
    for (std::size_t i = 0; i + 1 < ev.size(); ++i) {
      CHECK(!json::parse(ev[i]).as_object().contains("usage"));
      CHECK(json::parse(ev[i]).at("choices").as_array().size() == 1);
    }
  }
}

// The bytes a logprobs token stands for: "bytes:\\xe4\\xb8" spells raw bytes
// (OpenAI's form for a token that is not UTF-8 by itself), anything else is its text.
std::string token_bytes_of(std::string_view token) {
  if (token.rfind("bytes:", 0) != 0) return std::string(token);
  std::string out;
  for (std::size_t at = 6; at < token.size(); at += 4) {
    REQUIRE(token.substr(at, 2) == "\\x");
    out += static_cast<char>(std::stoi(std::string(token.substr(at + 2, 2)), nullptr, 16));
  }
  return out;
}

TEST_CASE("byte tokens under a Llama-2-style vocabulary: logprobs spell them bytes:\\xNN, every reply and event is UTF-8") {
  auto& f = shared_fixture();
  const std::string prompt = "从前有一个小女孩";
  SUBCASE("a Chinese prompt's byte tokens, echoed with their logprobs") {
    const auto r = f.post("/v1/completions", json::serialize(json::object{{"model", "stories"}, {"prompt", prompt}, {"max_tokens", 2},
                                                                           {"temperature", 0}, {"echo", true}, {"logprobs", 2}}));
    REQUIRE(r.status == 200);
    CHECK(utf8_is_valid(r.body));
    const auto reply = json::parse(r.body);
    const auto& lp = reply.at("choices").at(0).at("logprobs").as_object();
    std::string spelled;
    int byte_tokens = 0;
    for (const auto& t : lp.at("tokens").as_array()) {
      const std::string_view token(t.as_string().data(), t.as_string().size());
      byte_tokens += token.rfind("bytes:", 0) == 0 ? 1 : 0;
      spelled += token_bytes_of(token);
    }
    CHECK(byte_tokens >= 24);  // 8 characters of 3 bytes, one token each
    CHECK(spelled.find(prompt) != std::string::npos);
    for (const auto& top : lp.at("top_logprobs").as_array())
      if (top.is_object())
        for (const auto& [token, value] : top.as_object()) CHECK(!token_bytes_of(std::string_view(token.data(), token.size())).empty());
  }
  SUBCASE("a random model's answers, whole and streamed: text U+FFFD where bytes are not UTF-8, tokens spelled") {
    for (const bool stream : {false, true}) {
      CAPTURE(stream);
      const auto r = f.post("/v1/completions", json::serialize(json::object{{"model", "llama-spm"}, {"prompt", prompt}, {"max_tokens", 16},
                                                                             {"temperature", 1.0}, {"seed", 3}, {"logprobs", 1},
                                                                             {"stream", stream}}));
      REQUIRE(r.status == 200);
      CHECK(utf8_is_valid(r.body));
      std::string text;
      json::array tokens;
      const auto take = [&](const json::value& chunk) {
        const auto& c = chunk.at("choices").at(0).as_object();
        text += c.at("text").as_string();
        if (c.at("logprobs").is_object()) tokens = c.at("logprobs").at("tokens").as_array();
      };
      if (stream) {
        const auto events = sse_events(r.body);
        REQUIRE(events.size() >= 2);
        for (std::size_t i = 0; i + 1 < events.size(); ++i) take(json::parse(events[i]));
      } else {
        take(json::parse(r.body));
      }
      CHECK(text.find("\xEF\xBF\xBD") != std::string::npos);  // the model did produce bytes that are not UTF-8
      int byte_tokens = 0;
      for (const auto& t : tokens) byte_tokens += std::string_view(t.as_string().data(), t.as_string().size()).rfind("bytes:", 0) == 0 ? 1 : 0;
      CHECK(byte_tokens > 0);
    }
  }
}

TEST_CASE("/tokenize and /detokenize use llama.cpp's shapes and the model's tokenizer") {
  auto& f = shared_fixture();
  const auto& tok = f.stories->tokenizer();
  const auto t = f.post_json("/tokenize", {{"model", "stories"}, {"content", "Once upon a time"}});
  const auto ids = ids_of(t.at("tokens").as_array());
  CHECK(ids == tok.tokenize("Once upon a time", {.add_special = false, .parse_special = true}));
  const auto with_bos = f.post_json("/tokenize", {{"model", "stories"}, {"content", "Once"}, {"add_special", true}});
  CHECK(ids_of(with_bos.at("tokens").as_array()).front() == tok.bos());
  json::array arr;
  for (auto id : ids) arr.push_back(id);
  const auto d = f.post_json("/detokenize", {{"model", "stories"}, {"tokens", arr}});
  CHECK(std::string(d.at("content").as_string()) == tok.detokenize(ids));
  const auto pieces = f.post_json("/tokenize", {{"model", "stories"}, {"content", "Once"}, {"with_pieces", true}});
  CHECK(pieces.at("tokens").as_array().at(0).as_object().contains("piece"));
  // Two models are loaded: "model" is needed to choose.
  const auto missing = f.post("/tokenize", R"({"content":"x"})");
  CHECK(missing.status == 400);
  CHECK(missing.content_type == "application/problem+json");
  CHECK(missing.body.find("model") != std::string::npos);
}

TEST_CASE("our OpenAI client streams a chat answer from our server: the same text as local_backend and the engine") {
  auto& f = shared_fixture();
  const std::vector<harness::chat_message> messages = {{"system", "Be brief."}, {"user", "Say hello."}};
  harness::generation_options options;
  options.max_tokens = 24;
  options.temperature = 0.0;

  // The engine directly, on its own copy of the model file.
  engine::inference_engine direct(engine::gguf_file::open_memory(f.qwen_file, "qwen-tiny.gguf"), small_config(512));
  engine::generate_request g;
  g.prompt = f.qwen->chat_prompt(messages);
  g.max_tokens = 24;
  const auto expected = direct.generate({g}).at(0);

  harness::local_backend local(f.qwen);
  std::vector<std::string> local_pieces;
  const auto via_backend = local.chat(messages, options, [&](std::string_view p) {
    local_pieces.emplace_back(p);
    return true;
  });
  CHECK(via_backend.text == expected.text);
  CHECK(via_backend.completion_tokens == static_cast<std::int32_t>(expected.tokens.size()));
  CHECK(via_backend.prompt_tokens == static_cast<std::int32_t>(g.prompt.size()));
  std::string joined;
  for (const auto& p : local_pieces) joined += p;
  CHECK(joined == expected.text);

  harness::openai_client_options co;
  co.base_url = "http://127.0.0.1:" + std::to_string(f.server->port()) + "/v1";
  co.model = "qwen-tiny";
  co.max_attempts = 1;
  harness::openai_client client(co);
  std::vector<std::string> pieces;
  const auto via_http = client.chat(messages, options, [&](std::string_view p) {
    pieces.emplace_back(p);
    return true;
  });
  // JSON carries UTF-8 only: invalid bytes of random-weight output become U+FFFD.
  CHECK(via_http.text == engine::utf8_sanitize(expected.text));
  CHECK(via_http.finish_reason == (expected.finish == engine::finish_reason::length ? "length" : "stop"));
  CHECK(via_http.prompt_tokens == static_cast<std::int32_t>(g.prompt.size()));
  CHECK(via_http.completion_tokens == static_cast<std::int32_t>(expected.tokens.size()));
  CHECK(!pieces.empty());

  SUBCASE("a sink that returns false stops the forwarding") {
    const auto stopped = local.chat(messages, options, [](std::string_view) { return false; });
    CHECK(stopped.text.size() < expected.text.size());
  }
}

TEST_CASE("chat logprobs: one entry per generated token with top_logprobs alternatives") {
  auto& f = shared_fixture();
  const auto body = f.post_json("/v1/chat/completions", {{"model", "qwen-tiny"},
                                                          {"messages", json::array{json::object{{"role", "user"}, {"content", "hi"}}}},
                                                          {"max_tokens", 6}, {"temperature", 0}, {"logprobs", true}, {"top_logprobs", 3}});
  CHECK(std::string(body.at("id").as_string()).rfind("chatcmpl-", 0) == 0);
  CHECK(body.at("object") == "chat.completion");
  const auto& choice = body.at("choices").as_array().at(0).as_object();
  CHECK(choice.at("message").at("role") == "assistant");
  const auto& content = choice.at("logprobs").at("content").as_array();
  CHECK(static_cast<std::int64_t>(content.size()) == body.at("usage").at("completion_tokens").as_int64());
  REQUIRE(!content.empty());
  for (const auto& e : content) {
    const auto& top = e.at("top_logprobs").as_array();
    REQUIRE(top.size() == 3);
    // Greedy: the chosen token is the most likely one.
    CHECK(std::abs(e.at("logprob").to_number<double>() - top[0].at("logprob").to_number<double>()) < 1e-6);
    CHECK(e.at("bytes").is_array());
  }
}

TEST_CASE("streamed chat: role first, content deltas, finish, usage, [DONE]") {
  auto& f = shared_fixture();
  const auto r = f.post("/v1/chat/completions",
                        R"({"model":"qwen-tiny","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],)"
                        R"("max_completion_tokens":5,"temperature":0,"stream":true,"stream_options":{"include_usage":true}})");
  REQUIRE(r.status == 200);
  const auto events = sse_events(r.body);
  REQUIRE(events.size() >= 4);
  CHECK(events.back() == "[DONE]");
  const auto first = json::parse(events.front()).as_object();
  CHECK(first.at("object") == "chat.completion.chunk");
  CHECK(first.at("choices").at(0).at("delta").at("role") == "assistant");
  const auto last_choice = json::parse(events[events.size() - 3]).at("choices").at(0);
  CHECK(last_choice.at("finish_reason").is_string());
  const auto usage = json::parse(events[events.size() - 2]).as_object();
  CHECK(usage.at("usage").at("completion_tokens").as_int64() <= 5);
  CHECK(usage.at("choices").as_array().empty());
}

TEST_CASE("hostile input is a 4xx in OpenAI's error shape naming the field") {
  auto& f = shared_fixture();
  struct bad_case {
    const char* path;
    std::string body;
    int status;
    const char* param;  // "" -> null
  };
  const std::string msg = R"("messages":[{"role":"user","content":"hi"}])";
  const std::vector<bad_case> cases = {
      {"/v1/completions", "{not json", 400, ""},
      {"/v1/completions", "[1,2]", 400, ""},
      {"/v1/completions", std::string("{\"model\":\"stories\",\"prompt\":\"\xff\xfe\"}"), 400, ""},
      {"/v1/completions", R"({"prompt":"x"})", 400, "model"},
      {"/v1/completions", R"({"model":7,"prompt":"x"})", 400, "model"},
      {"/v1/completions", R"({"model":"gpt-9","prompt":"x"})", 404, "model"},
      {"/v1/completions", R"({"model":"stories"})", 400, "prompt"},
      {"/v1/completions", R"({"model":"stories","prompt":[]})", 400, "prompt"},
      {"/v1/completions", R"({"model":"stories","prompt":{"a":1}})", 400, "prompt"},
      {"/v1/completions", R"({"model":"stories","prompt":[1,99999999]})", 400, "prompt"},
      {"/v1/completions", R"({"model":"stories","prompt":[1,-3]})", 400, "prompt"},
      {"/v1/completions", R"({"model":"stories","prompt":[[1,2],"x",3]})", 400, "prompt"},
      {"/v1/completions", R"({"model":"stories","prompt":"x","max_tokens":1000000})", 400, "max_tokens"},
      {"/v1/completions", R"({"model":"stories","prompt":"x","max_tokens":1e300})", 400, "max_tokens"},
      {"/v1/completions", R"({"model":"stories","prompt":"x","max_tokens":"10"})", 400, "max_tokens"},
      {"/v1/completions", R"({"model":"stories","prompt":"x","max_tokens":-1})", 400, "max_tokens"},
      {"/v1/completions", R"({"model":"stories","prompt":"x","n":2})", 400, "n"},
      {"/v1/completions", R"({"model":"stories","prompt":"x","temperature":3})", 400, "temperature"},
      {"/v1/completions", R"({"model":"stories","prompt":"x","top_p":"a"})", 400, "top_p"},
      {"/v1/completions", R"({"model":"stories","prompt":"x","stop":5})", 400, "stop"},
      {"/v1/completions", R"({"model":"stories","prompt":"x","stop":["a",1]})", 400, "stop"},
      {"/v1/completions", R"({"model":"stories","prompt":"x","logprobs":true})", 400, "logprobs"},
      {"/v1/completions", R"({"model":"stories","prompt":"x","logprobs":99})", 400, "logprobs"},
      {"/v1/completions", R"({"model":"stories","prompt":"x","echo":"yes"})", 400, "echo"},
      {"/v1/completions", R"({"model":"stories","prompt":"x","stream":1})", 400, "stream"},
      {"/v1/completions", R"({"model":"stories","prompt":"x","stream":true,"stream_options":{"include_usage":"y"}})", 400,
       "stream_options.include_usage"},
      {"/v1/chat/completions", R"({"model":"qwen-tiny"})", 400, "messages"},
      {"/v1/chat/completions", R"({"model":"qwen-tiny","messages":[]})", 400, "messages"},
      {"/v1/chat/completions", R"({"model":"qwen-tiny","messages":"hi"})", 400, "messages"},
      {"/v1/chat/completions", R"({"model":"qwen-tiny","messages":[{"content":"hi"}]})", 400, "messages[0].role"},
      {"/v1/chat/completions", R"({"model":"qwen-tiny","messages":[{"role":"wizard","content":"hi"}]})", 400, "messages[0].role"},
      {"/v1/chat/completions", R"({"model":"qwen-tiny","messages":[{"role":"user"}]})", 400, "messages[0].content"},
      {"/v1/chat/completions", R"({"model":"qwen-tiny","messages":[{"role":"user","content":5}]})", 400, "messages[0].content"},
      {"/v1/chat/completions", R"({"model":"qwen-tiny","messages":[{"role":"user","content":[{"type":"image_url"}]}]})", 400,
       "messages[0].content[0]"},
      {"/v1/chat/completions", "{\"model\":\"qwen-tiny\"," + msg + ",\"max_tokens\":100000}", 400, "max_tokens"},
      {"/v1/chat/completions", "{\"model\":\"qwen-tiny\"," + msg + ",\"max_completion_tokens\":100000}", 400, "max_completion_tokens"},
      {"/v1/chat/completions", "{\"model\":\"qwen-tiny\"," + msg + ",\"top_logprobs\":2}", 400, "top_logprobs"},
      {"/v1/chat/completions", "{\"model\":\"qwen-tiny\"," + msg + ",\"logprobs\":true,\"top_logprobs\":21}", 400, "top_logprobs"},
      {"/v1/chat/completions", "{\"model\":\"qwen-tiny\"," + msg + ",\"n\":3}", 400, "n"},
      {"/v1/chat/completions", "{\"model\":\"stories\"," + msg + "}", 400, "model"},
      {"/v1/chat/completions", "{\"model\":\"qwen-tiny\"," + msg + ",\"tools\":[{\"type\":\"function\"}]}", 400, "tools"},
      {"/v1/chat/completions", "{\"model\":\"nope\"," + msg + "}", 404, "model"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.path);
    CAPTURE(c.body);
    const auto r = f.post(c.path, c.body);
    CHECK(r.status == c.status);
    const auto v = json::parse(r.body);
    REQUIRE(v.is_object());
    const auto& e = v.at("error").as_object();
    CHECK(e.at("message").is_string());
    CHECK(!e.at("message").as_string().empty());
    CHECK(e.at("type").is_string());
    if (*c.param == '\0') {
      CHECK(e.at("param").is_null());
    } else {
      CHECK(e.at("param") == c.param);
    }
  }

  SUBCASE("/tokenize and /detokenize answer problem+json naming the field") {
    for (const auto& [path, body, field] : std::vector<std::tuple<std::string, std::string, std::string>>{
             {"/tokenize", R"({"model":"stories"})", "content"},
             {"/tokenize", R"({"model":"stories","content":3})", "content"},
             {"/detokenize", R"({"model":"stories","tokens":"x"})", "tokens"},
             {"/detokenize", R"({"model":"stories","tokens":[1,999999]})", "tokens"},
             {"/detokenize", R"({"model":"zzz","tokens":[1]})", "model"}}) {
      CAPTURE(body);
      const auto r = f.post(path, body);
      CHECK(r.status >= 400);
      CHECK(r.status < 500);
      CHECK(r.content_type == "application/problem+json");
      CHECK(r.body.find(field) != std::string::npos);
    }
  }
}

TEST_CASE("concurrent requests share one engine: each gets its own greedy text; a client that leaves mid-stream harms none") {
  auto& f = shared_fixture();
  const std::vector<std::string> prompts = {"Once upon a time", "The cat", "Lily wanted", "One day, a little"};
  engine::inference_engine direct(stories_path, small_config(256));
  std::vector<engine::generate_request> requests;
  for (const auto& p : prompts) {
    engine::generate_request g;
    g.prompt = direct.tokenizer().tokenize(p, {.add_special = true, .parse_special = true});
    g.max_tokens = 32;
    requests.push_back(std::move(g));
  }
  const auto expected = direct.generate(requests);

  // A streaming client that reads the response head and hangs up.
  {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(f.server->port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    const std::string body = R"({"model":"stories","prompt":"Once","max_tokens":200,"temperature":0.8,"seed":3,"stream":true})";
    const std::string req = "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
                            std::to_string(body.size()) + "\r\n\r\n" + body;
    REQUIRE(::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size()));
    char buf[256];
    CHECK(::recv(fd, buf, sizeof buf, 0) > 0);
    ::close(fd);
  }

  std::vector<std::string> texts(prompts.size());
  std::vector<std::thread> clients;
  for (std::size_t i = 0; i < prompts.size(); ++i)
    clients.emplace_back([&, i] {
      texts[i] = f.post("/v1/completions", json::serialize(json::object{{"model", "stories"}, {"prompt", prompts[i]},
                                                                         {"max_tokens", 32}, {"temperature", 0}}))
                     .body;
    });
  for (auto& t : clients) t.join();
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    CAPTURE(prompts[i]);
    const auto v = json::parse(texts[i]);
    CHECK(std::string(v.at("choices").at(0).at("text").as_string()) == expected[i].text);
  }
}

// stories260K in F32, where a product's order depends on whether its row is a
// prompt row: the local backend scores context + continuation and the server
// scores its echoed prompt both as one forward pass
// (score_request::continuation_as_prompt), so the split does not matter.
TEST_CASE("our OpenAI client's loglikelihood over /v1/completions equals the local backend's (F32 stories260K)") {
  auto& f = shared_fixture();
  harness::local_backend local(f.stories);
  harness::openai_client_options co;
  co.base_url = "http://127.0.0.1:" + std::to_string(f.server->port()) + "/v1";
  co.model = "stories";
  co.max_attempts = 1;
  co.max_concurrent_requests = 3;
  harness::openai_client client(co);
  const std::vector<harness::loglikelihood_request> pairs = {
      {"Once upon a time", " there was a little girl"},  // leading space, several tokens
      {"Once upon a time", " there"},
      {"Once upon a time there was a", " dog"},
      {"The cat sat on the", " mat."},
      {"Lily wanted to play", " with her ball in the park"},
      {"Tom was happy", "."},
      {"She said, \"", "Hello!\""},
      {"One day, a little", " boy named Tim went outside"},
      {"The sun", " was shining and the birds were singing"},
      {"Mom", " smiled"},
  };
  const auto local_results = local.loglikelihood(pairs);
  const auto remote_results = client.loglikelihood(pairs);
  REQUIRE(remote_results.size() == pairs.size());
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    CAPTURE(i);
    CHECK(std::abs(remote_results[i].logprob - local_results[i].logprob) < 1e-5);
    CHECK(remote_results[i].n_tokens == local_results[i].n_tokens);
    CHECK(remote_results[i].is_greedy == local_results[i].is_greedy);
  }

  SUBCASE("rolling log-likelihood of texts shorter than the context agrees too") {
    const std::vector<harness::rolling_request> texts = {{"Once upon a time there was a little girl."},
                                                         {"Tom and Lily played with a ball in the park."}};
    const auto l = local.loglikelihood_rolling(texts);
    const auto r = client.loglikelihood_rolling(texts);
    for (std::size_t i = 0; i < texts.size(); ++i) {
      CHECK(std::abs(l[i].logprob - r[i].logprob) < 1e-5);
      CHECK(l[i].n_tokens == r[i].n_tokens);
    }
  }
  SUBCASE("generate_until: the same greedy text, cut at the stop string") {
    const std::vector<harness::generate_until_request> requests = {{"Once upon a time", {"."}, 30, 0.0, 1.0, 0},
                                                                   {"Lily went to", {}, 12, 0.0, 1.0, 0}};
    const auto l = local.generate_until(requests);
    const auto r = client.generate_until(requests);
    for (std::size_t i = 0; i < requests.size(); ++i) {
      CHECK(r[i].text == l[i].text);
      CHECK(r[i].finish_reason == l[i].finish_reason);
    }
    CHECK(l[0].text.find('.') == std::string::npos);
  }
  SUBCASE("fingerprints") {
    const auto fp = client.fingerprint();
    CHECK(fp.kind == "openai");
    CHECK(fp.fields.at("endpoint") == co.base_url);
    CHECK(fp.fields.at("model") == "stories");
  }
}

TEST_CASE("text_offset of a SentencePiece prompt indexes the echoed text: the added leading space takes no room") {
  auto& f = shared_fixture();
  const auto& tok = f.stories->tokenizer();
  const std::string prompt = "Once upon a time, there was";
  const auto ids = tok.tokenize(prompt, {.add_special = true, .parse_special = true});
  REQUIRE(tok.token_to_piece(ids.at(1)) == " Once");  // the leading-space rule
  const auto body = f.post_json("/v1/completions", {{"model", "stories"}, {"prompt", prompt}, {"echo", true}, {"logprobs", 0},
                                                     {"max_tokens", 0}});
  const auto& choice = body.at("choices").as_array().at(0).as_object();
  CHECK(std::string(choice.at("text").as_string()) == prompt);
  const auto offsets = offsets_of(choice);
  REQUIRE(offsets.size() == ids.size());
  // Where the tokenizer's own decoding of the tokens before each one ends.
  for (std::size_t i = 0; i < ids.size(); ++i) {
    CAPTURE(i);
    const std::vector<std::int32_t> before(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(i));
    CHECK(offsets[i] == code_points(tok.detokenize(before, {.strip_leading_space = true})));
  }
  // BOS and "Once" at 0, " upon" right after "Once".
  CHECK(offsets[0] == 0);
  CHECK(offsets[1] == 0);
  CHECK(offsets[2] == 4);
  CHECK(prompt.substr(static_cast<std::size_t>(offsets.back())) == std::string_view(tok.token_to_piece(ids.back())));

  SUBCASE("generated tokens continue from the prompt's end; without echo from 0") {
    const auto more = f.post_json("/v1/completions", {{"model", "stories"}, {"prompt", prompt}, {"echo", true}, {"logprobs", 0},
                                                       {"max_tokens", 6}, {"temperature", 0}});
    const auto& c = more.at("choices").as_array().at(0).as_object();
    const std::string text(c.at("text").as_string());
    REQUIRE(text.starts_with(prompt));
    const auto all = offsets_of(c);
    const auto& tokens = c.at("logprobs").at("tokens").as_array();
    REQUIRE(all.size() == ids.size() + 6);
    CHECK(all[ids.size()] == code_points(prompt));
    for (std::size_t i = ids.size(); i < all.size(); ++i)
      CHECK(text.substr(static_cast<std::size_t>(all[i])).starts_with(std::string_view(tokens[i].as_string())));

    const auto plain = f.post_json("/v1/completions", {{"model", "stories"}, {"prompt", prompt}, {"logprobs", 0}, {"max_tokens", 6},
                                                        {"temperature", 0}});
    const auto generated = offsets_of(plain.at("choices").as_array().at(0).as_object());
    REQUIRE(generated.size() == 6);
    for (std::size_t i = 0; i < generated.size(); ++i) CHECK(generated[i] == all[ids.size() + i] - code_points(prompt));
  }
}

TEST_CASE("text_offset of a byte-level BPE prompt: control tokens the text spells, characters cut between tokens") {
  auto& f = shared_fixture();
  const auto& tok = f.qwen->tokenizer();
  const std::string prompt = "<|im_start|>user\nna\xC3\xAFve caf\xC3\xA9, \xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E ok";
  const auto ids = tok.tokenize(prompt, {.add_special = true, .parse_special = true});
  const auto body = f.post_json("/v1/completions", {{"model", "qwen-tiny"}, {"prompt", prompt}, {"echo", true}, {"logprobs", 0},
                                                     {"max_tokens", 0}});
  const auto& choice = body.at("choices").as_array().at(0).as_object();
  CHECK(std::string(choice.at("text").as_string()) == prompt);
  const auto offsets = offsets_of(choice);
  REQUIRE(offsets.size() == ids.size());
  // Byte-level BPE adds no text: token i starts at the byte where the pieces
  // before it end, and text_offset names the character holding that byte.
  std::size_t at = 0;
  bool cut_inside_a_character = false;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    CAPTURE(i);
    const std::string piece = tok.token_to_piece(ids[i], true);
    CHECK(offsets[i] == character_at(prompt, at));
    CHECK(prompt.substr(at, piece.size()) == piece);
    cut_inside_a_character = cut_inside_a_character || (at < prompt.size() && (static_cast<unsigned char>(prompt[at]) & 0xC0) == 0x80);
    at += piece.size();
  }
  CHECK(at == prompt.size());
  CHECK(cut_inside_a_character);  // the rule for a token that starts inside a character was exercised
  CHECK(offsets[0] == 0);
  CHECK(offsets[1] == 12);  // "user" after "<|im_start|>"
}
