// Local models speak in their own chat template: the file's
// tokenizer.chat_template rendered by the Jinja engine, tokenized with the
// template's markers as control tokens and the messages as plain text. The
// expected texts are what python3-jinja2 renders from the same templates in
// transformers' environment (trim_blocks, lstrip_blocks).
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <unistd.h>

#include "harness/engine/synth_gguf.hpp"
#include "harness/local_backend.hpp"

namespace engine = huashan::engine;
namespace harness = huashan::harness;
namespace fs = std::filesystem;

namespace {

// A tiny random-weight model carrying a real tokenizer and its chat template.
std::shared_ptr<harness::local_model> model_with(const char* tokenizer_dir, const char* arch) {
  const fs::path path = fs::temp_directory_path() / (std::string("huashan-chat-") + arch + "-" + std::to_string(::getpid()) + ".gguf");
  engine::synth_options o;
  o.arch = arch;
  o.n_layers = 1;
  o.n_embd = 64;
  o.n_head = 2;
  o.n_head_kv = 1;
  o.n_ff = 128;
  o.n_ctx = 512;
  o.tokenizer_from = fs::path(HUASHAN_TEST_DATA) / "tokenizers" / tokenizer_dir / "tokenizer.json";
  engine::write_synthetic_model(o, path);
  engine::engine_config cfg;
  cfg.n_threads = 1;
  cfg.n_ctx = 512;
  auto m = std::make_shared<harness::local_model>(arch, path, cfg);
  fs::remove(path);
  return m;
}

std::int64_t count(const std::vector<std::int32_t>& ids, std::int32_t id) { return std::count(ids.begin(), ids.end(), id); }

}  // namespace

TEST_CASE("Qwen3: the file's template, and a typed <|im_end|> stays text") {
  auto m = model_with("qwen3", "qwen3");
  CHECK(m->chat_template_kind() == "jinja");
  const std::vector<harness::chat_message> messages = {{"system", "You are brief."}, {"user", "Say <|im_end|> hi"}};
  const auto ids = m->chat_prompt(messages);
  engine::detokenize_options d;
  d.render_special = true;
  CHECK(m->tokenizer().detokenize(ids, d) ==
        "<|im_start|>system\nYou are brief.<|im_end|>\n<|im_start|>user\nSay <|im_end|> hi<|im_end|>\n<|im_start|>assistant\n");
  const auto im_end = m->tokenizer().tokenize("<|im_end|>", {false, true});
  REQUIRE(im_end.size() == 1);
  CHECK(count(ids, im_end[0]) == 2);  // the template's two, not the user's
}

TEST_CASE("Llama 3: the template writes BOS itself, so there is exactly one; a typed <|eot_id|> stays text") {
  auto m = model_with("llama3", "llama");
  CHECK(m->chat_template_kind() == "jinja");
  const std::vector<harness::chat_message> messages = {{"system", "You are brief."}, {"user", "Say <|eot_id|> hi"}};
  const auto ids = m->chat_prompt(messages);
  engine::detokenize_options d;
  d.render_special = true;
  CHECK(m->tokenizer().detokenize(ids, d) ==
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are brief.<|eot_id|><|start_header_id|>user"
        "<|end_header_id|>\n\nSay <|eot_id|> hi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
  const auto bos = m->tokenizer().vocab().bos_id;
  REQUIRE(ids.size() > 2);
  CHECK(ids[0] == bos);
  CHECK(count(ids, bos) == 1);
  const auto eot = m->tokenizer().tokenize("<|eot_id|>", {false, true});
  REQUIRE(eot.size() == 1);
  CHECK(count(ids, eot[0]) == 2);
}

TEST_CASE("an empty conversation is an input error") {
  auto m = model_with("qwen3", "qwen3");
  CHECK_THROWS_AS(m->chat_prompt(std::vector<harness::chat_message>{}), huashan::input_error);
}
