// Fuzzes the JSON bodies the API takes. The first byte picks the consumer,
// the rest is the body:
//   0-3  POST /v1/chat/completions, /v1/completions, /tokenize, /detokenize,
//        through the real routes on two tiny models: a synthetic qwen3 (byte-
//        level BPE, ChatML) and stories260K (a Llama-2-style SentencePiece
//        vocabulary whose text outside its 512 pieces is byte tokens);
//   4    an eval run request (POST /api/eval-runs: run_spec_from_json);
//   5    a shard's answers and records (POST /api/eval-shards/{id}/items and
//        /complete: answers_from_json, merge_shard_records).
// Invariants: the routes never throw and never answer 5xx; every JSON reply,
// and every `data:` event of a stream, is valid JSON and so valid UTF-8
// (Boost.JSON refuses invalid UTF-8), whatever bytes the models produce; the
// eval parsers give a value or raise input_error, and what they give writes
// back to the same value.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <string_view>

#include "arena/http/routes_openai.hpp"
#include "arena/http/server.hpp"
#include "common/error.hpp"
#include "harness/eval/response_json.hpp"
#include "harness/eval/run_spec.hpp"
#include "harness/local_backend.hpp"
#include "tests/tiny_models.hpp"

namespace {

namespace http = huashan::arena::http;
namespace engine = huashan::engine;
namespace ev = huashan::harness::eval;
namespace harness = huashan::harness;
namespace json = boost::json;

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz_json_bodies invariant broken: %s\n", what.c_str());
  __builtin_trap();
}

engine::engine_config tiny_config() {
  engine::engine_config c;
  c.n_threads = 1;
  c.n_ctx = 48;  // bounds each generation: prompt + max_tokens must fit
  c.kv.memory_budget_bytes = 4u << 20;
  return c;
}

struct models {
  std::vector<std::byte> qwen_bytes = huashan::testing::tiny_model_bytes({.arch = "qwen3", .n_embd = 32, .n_ctx = 48, .seed = 11});
  http::router routes;

  models() {
    harness::local_model_registry registry;
    registry.emplace("qwen", std::make_shared<harness::local_model>(
                                 "qwen", engine::gguf_file::open_memory(qwen_bytes, "qwen.gguf"), tiny_config()));
    registry.emplace("stories", std::make_shared<harness::local_model>(
                                    "stories", HUASHAN_TEST_DATA "/models/stories260K.gguf", tiny_config()));
    http::add_openai_routes(routes, std::move(registry));
  }
};

void expect_json(std::string_view text, const std::string& where) {
  json::error_code ec;
  json::parse(text, ec);
  if (ec) fail(where + " is not valid JSON (" + ec.message() + "): " + std::string(text.substr(0, 200)));
}

class collecting_writer : public http::chunk_writer {
 public:
  bool write(std::string_view chunk) override {
    text_.append(chunk);
    return true;
  }
  // Every "data: " payload but [DONE] must be a JSON document.
  void check(const std::string& route) const {
    std::size_t at = 0;
    while ((at = text_.find("data: ", at)) != std::string::npos) {
      const auto end = text_.find("\n\n", at);
      if (end == std::string::npos) fail(route + " stream event without its blank line");
      const std::string_view payload(text_.data() + at + 6, end - at - 6);
      if (payload != "[DONE]") expect_json(payload, route + " stream event");
      at = end;
    }
  }

 private:
  std::string text_;
};

void route(const models& m, const char* path, std::string body) {
  http::request req;
  req.method = "POST";
  req.target = path;
  req.path = path;
  req.headers["content-type"] = "application/json";
  req.body = std::move(body);
  req.remote_address = "127.0.0.1";
  http::response res;
  try {
    res = m.routes.dispatch(req);
  } catch (const std::exception& e) {
    fail(std::string(path) + " threw (the server would answer 500): " + e.what());
  }
  if (res.status >= 500) fail(std::string(path) + " answered " + std::to_string(res.status) + ": " + res.body);
  if (res.stream) {
    collecting_writer w;
    res.stream(w);
    w.check(path);
  } else if (res.content_type.find("json") != std::string::npos) {
    expect_json(res.body, std::string(path) + " reply");
  }
}

template <typename Fn>
void input_error_or_value(Fn fn) {
  try {
    fn();
  } catch (const huashan::input_error&) {
  }
}

void eval_run_request(std::string_view body) {
  json::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object()) return;
  input_error_or_value([&] {
    const auto spec = ev::run_spec_from_json(v.as_object());
    const auto written = ev::run_spec_json(spec);
    if (json::serialize(ev::run_spec_json(ev::run_spec_from_json(written))) != json::serialize(written))
      fail("a run spec does not read back as itself: " + json::serialize(written));
  });
}

void shard_answers(std::string_view body) {
  json::error_code ec;
  auto v = json::parse(body, ec);
  if (ec) return;
  if (v.is_array()) {
    input_error_or_value([&] {
      const auto text = ev::answers_text(ev::answers_from_json(v.as_array()));
      const auto again = json::parse(text);
      if (!again.is_array() || ev::answers_text(ev::answers_from_json(again.as_array())) != text)
        fail("answers do not read back as themselves: " + text);
    });
  } else if (v.is_object()) {
    input_error_or_value([&] {
      ev::eval_outcome outcome;
      ev::merge_shard_records(outcome, v.as_object());
    });
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const models m;
  if (size == 0) return 0;
  const std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 6) {
    case 0: route(m, "/v1/chat/completions", body); break;
    case 1: route(m, "/v1/completions", body); break;
    case 2: route(m, "/tokenize", body); break;
    case 3: route(m, "/detokenize", body); break;
    case 4: eval_run_request(body); break;
    default: shard_answers(body); break;
  }
  return 0;
}
