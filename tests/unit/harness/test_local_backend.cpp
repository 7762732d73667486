// local_backend's lm-evaluation-harness requests over stories260K against
// the engine itself: loglikelihood against inference_engine::score on the
// same tokens, batched against one at a time, rolling against
// inference_engine::loglikelihood_rolling, generate_until's stop strings, and
// the model fingerprint.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "common/utf8.hpp"
#include "harness/local_backend.hpp"
#include "tests/tiny_models.hpp"

using namespace huashan;

namespace {

const char* const stories_path = HUASHAN_TEST_DATA "/models/stories260K.gguf";

engine::engine_config small_config(std::int32_t n_ctx, bool reuse = true) {
  engine::engine_config c;
  c.n_threads = 1;
  c.n_ctx = n_ctx;
  c.kv.memory_budget_bytes = 8u << 20;
  c.kv.prefix_reuse = reuse;
  return c;
}

std::vector<std::byte> file_bytes(const char* path) {
  std::ifstream in(path, std::ios::binary);
  const std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> out(chars.size());
  for (std::size_t i = 0; i < chars.size(); ++i) out[i] = static_cast<std::byte>(chars[i]);
  return out;
}

const std::vector<harness::loglikelihood_request> pairs = {
    {"Once upon a time", " there was a little girl"},
    {"Once upon a time", " there"},
    {"Once upon a time there was a", " dog"},
    {"The cat sat on the", " mat."},
    {"Lily wanted to play", " with her ball in the park"},
    {"", "Once upon a time"},
    {"Tom was happy", "."},
    {"She said, \"", "Hello!\""},
};

}  // namespace

TEST_CASE("loglikelihood splits as lm-evaluation-harness and equals the engine's score of the same tokens") {
  auto model = std::make_shared<harness::local_model>("stories", stories_path, small_config(256));
  harness::local_backend backend(model);
  const auto& tok = model->tokenizer();

  // The split: context tokens (with BOS) then the whole's remaining tokens.
  const auto split = model->loglikelihood_tokens("Once upon a time", " there was");
  const auto context = tok.tokenize("Once upon a time", {.add_special = true, .parse_special = true});
  const auto whole = tok.tokenize("Once upon a time there was", {.add_special = true, .parse_special = true});
  CHECK(split.context == context);
  CHECK(split.continuation == std::vector<std::int32_t>(whole.begin() + static_cast<std::ptrdiff_t>(context.size()), whole.end()));
  CHECK(split.continuation.size() >= 2);
  const auto empty = model->loglikelihood_tokens("", "Once");
  CHECK(empty.context == std::vector<std::int32_t>{tok.bos()});

  engine::inference_engine direct(stories_path, small_config(256, false));
  const auto results = backend.loglikelihood(pairs);
  REQUIRE(results.size() == pairs.size());
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    CAPTURE(i);
    const auto request = model->loglikelihood_tokens(pairs[i].context, pairs[i].continuation);
    const auto expected = direct.score({request}).front();
    CHECK(std::abs(results[i].logprob - expected.logprob) < 1e-5);
    CHECK(results[i].is_greedy == expected.is_greedy);
    CHECK(results[i].n_tokens == static_cast<std::int32_t>(request.continuation.size()));
    CHECK(results[i].logprob < 0.0);
  }

  SUBCASE("batched equals one at a time") {
    for (std::size_t i = 0; i < pairs.size(); ++i) {
      const auto alone = backend.loglikelihood(std::span(&pairs[i], 1)).front();
      CHECK(std::abs(alone.logprob - results[i].logprob) < 1e-5);
      CHECK(alone.is_greedy == results[i].is_greedy);
    }
  }
  SUBCASE("an empty continuation is log 1 with no tokens") {
    const harness::loglikelihood_request none{"Once upon a time", ""};
    const auto r = backend.loglikelihood(std::span(&none, 1)).front();
    CHECK(r.logprob == 0.0);
    CHECK(r.n_tokens == 0);
  }
}

TEST_CASE("requests sharing a context submitted together compute it once (prefix reuse) and score the same") {
  std::string shots;
  for (int i = 0; i < 6; ++i) shots += "Once upon a time there was a little girl named Lily. She liked to play. ";
  std::vector<harness::loglikelihood_request> requests;
  for (const char* q : {"Tom had a red ball.", "The sun was warm."})
    for (const char* choice : {" Yes", " No", " Maybe", " Never"}) requests.push_back({shots + q + " Answer:", choice});

  auto with_reuse = std::make_shared<harness::local_model>("stories", stories_path, small_config(512, true));
  auto without = std::make_shared<harness::local_model>("stories", stories_path, small_config(512, false));
  const auto a = harness::local_backend(with_reuse).loglikelihood(requests);
  const auto b = harness::local_backend(without).loglikelihood(requests);
  for (std::size_t i = 0; i < requests.size(); ++i) CHECK(std::abs(a[i].logprob - b[i].logprob) < 1e-5);
  const auto context_tokens = with_reuse->loglikelihood_tokens(requests[0].context, requests[0].continuation).context.size();
  REQUIRE(context_tokens > 100);
  // All but the first request reuse (nearly) all of their context's blocks.
  const auto block = with_reuse->engine().config().kv.block_tokens;
  CHECK(with_reuse->engine().stats().kv.prefix_hit_tokens >= static_cast<std::int64_t>(requests.size() - 2) * static_cast<std::int64_t>(context_tokens - 2 * static_cast<std::size_t>(block)));
  CHECK(without->engine().stats().kv.prefix_hit_tokens == 0);
  CHECK(with_reuse->engine().stats().prompt_tokens * 3 < without->engine().stats().prompt_tokens);
}

TEST_CASE("loglikelihood_rolling equals inference_engine::loglikelihood_rolling, windows included") {
  auto model = std::make_shared<harness::local_model>("stories", stories_path, small_config(32));
  harness::local_backend backend(model);
  engine::inference_engine direct(stories_path, small_config(32, false));
  const std::vector<harness::rolling_request> texts = {
      {"Once upon a time there was a little girl."},
      {"Lily and Tom went to the park. They played with a big red ball all day, and then they went home to eat soup "
       "with their mom, who was happy to see them."},
      {""}};
  const auto results = backend.loglikelihood_rolling(texts);
  for (std::size_t i = 0; i < texts.size(); ++i) {
    CAPTURE(i);
    const auto tokens = model->tokenizer().tokenize(texts[i].text, {.add_special = false, .parse_special = true});
    CHECK(results[i].n_tokens == static_cast<std::int32_t>(tokens.size()));
    const double expected = tokens.empty() ? 0.0 : direct.loglikelihood_rolling(tokens);
    CHECK(std::abs(results[i].logprob - expected) < 1e-5);
  }
  CHECK(results[1].n_tokens > 32);  // several windows
}

TEST_CASE("generate_until: greedy text cut before the stop string; the same as without batching") {
  auto model = std::make_shared<harness::local_model>("stories", stories_path, small_config(256));
  harness::local_backend backend(model);
  harness::generate_until_request free_run{"Once upon a time", {}, 40, 0.0, 1.0, 0};
  const auto reference = backend.generate_until(std::span(&free_run, 1)).front();
  REQUIRE(reference.text.size() > 20);
  CHECK(reference.finish_reason == "length");
  const std::string stop = reference.text.substr(10, 3);
  const std::string expected = reference.text.substr(0, reference.text.find(stop));

  std::vector<harness::generate_until_request> batch = {
      {"Once upon a time", {"\n\n", stop}, 40, 0.0, 1.0, 0},
      {"Lily went to", {}, 8, 0.0, 1.0, 0},
      {"Once upon a time", {}, 40, 0.8, 1.0, 42},
      {"Once upon a time", {}, 40, 0.8, 1.0, 42},
  };
  const auto out = backend.generate_until(batch);
  CHECK(out[0].text == expected);
  CHECK(out[0].finish_reason == "stop");
  CHECK(out[1].completion_tokens <= 8);
  CHECK(out[2].text == out[3].text);  // the same seed samples the same text
}

TEST_CASE("generate_until text is UTF-8 even where the model's bytes are not (a Chinese prompt, SentencePiece byte tokens)") {
  // A random-weight llama with stories260K's vocabulary, Llama 2's kind: 512
  // pieces, half of them one byte each. Chinese text is all byte tokens, and
  // the random model's answers are full of bytes no character holds. The
  // backend's answers (the samples file, the worker's answers, both JSON)
  // must be UTF-8, each invalid byte U+FFFD.
  const auto bytes =
      testing::tiny_model_bytes({.arch = "llama", .n_embd = 32, .n_ctx = 128, .seed = 5, .tokenizer_from = stories_path});
  auto model = std::make_shared<harness::local_model>("llama-spm", engine::gguf_file::open_memory(bytes, "llama-spm.gguf"),
                                                      small_config(128));
  harness::local_backend backend(model);
  std::vector<harness::generate_until_request> batch;
  for (const char* prompt : {"从前有一个小女孩，她叫", "中文："})
    for (std::uint64_t seed = 1; seed <= 4; ++seed) batch.push_back({prompt, {}, 8, 1.0, 1.0, seed});
  int replaced = 0;
  for (const auto& answer : backend.generate_until(batch)) {
    CHECK(utf8_is_valid(answer.text));
    if (answer.text.find("\xEF\xBF\xBD") != std::string::npos) ++replaced;
  }
  // The case this test is for occurred: some answers held bytes that are not UTF-8.
  CHECK(replaced > 0);
}

TEST_CASE("fingerprint: the file's sha256 and facts, stable, and changed by a changed file") {
  const auto bytes = file_bytes(stories_path);
  REQUIRE(!bytes.empty());
  auto from_path = std::make_shared<harness::local_model>("stories", stories_path, small_config(256));
  auto from_memory = std::make_shared<harness::local_model>("stories", engine::gguf_file::open_memory(bytes, "stories260K.gguf"), small_config(256));
  const auto a = harness::local_backend(from_path).fingerprint();
  const auto b = harness::local_backend(from_path).fingerprint();
  const auto c = from_memory->fingerprint();
  CHECK(a.kind == "gguf");
  CHECK(a.fields == b.fields);
  CHECK(a.fields.at("gguf_sha256") == c.fields.at("gguf_sha256"));
  CHECK(a.fields.at("gguf_sha256").size() == 64);
  CHECK(a.fields.at("file") == "stories260K.gguf");
  CHECK(a.fields.at("architecture") == "llama");
  CHECK(a.fields.at("tensor_types").find("F32:") != std::string::npos);
  CHECK(a.fields.at("chat_template_sha256") == "none");
  CHECK(a.fields.at("n_ctx") == "256");
  CHECK(!a.fields.at("engine_version").empty());

  auto changed = bytes;
  changed.back() ^= std::byte{1};  // inside the last tensor's data: still a valid file
  auto other = std::make_shared<harness::local_model>("stories", engine::gguf_file::open_memory(changed, "stories260K.gguf"), small_config(256));
  CHECK(other->fingerprint().fields.at("gguf_sha256") != a.fields.at("gguf_sha256"));
}
