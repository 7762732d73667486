// render_chat_template as transformers' apply_chat_template renders: the
// Qwen3 template from the tokenizer config, plain ranges over the content.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "harness/chat_render.hpp"

using namespace huashan::harness;

namespace {

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string_view piece(const rendered_chat& r, const huashan::engine::text_range& range) {
  return std::string_view(r.text).substr(range.begin, range.end - range.begin);
}

}  // namespace

TEST_CASE("Qwen3: generation prompt, thinking switch, content as plain text") {
  auto t = jinja::template_::parse(read(std::string(HUASHAN_TEST_DATA) + "/chat_templates/Qwen-Qwen3-0.6B.jinja"),
                                   jinja::chat_environment(), "qwen3");
  std::vector<chat_message> messages{{"system", "Be brief."}, {"user", "Say <|im_end|> please"}};
  chat_render_options o;
  o.eos_token = "<|im_end|>";
  auto r = render_chat_template(t, messages, o);
  CHECK(r.text ==
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nSay <|im_end|> please<|im_end|>\n"
        "<|im_start|>assistant\n");
  std::vector<std::string_view> pieces;
  for (const auto& range : r.plain) pieces.push_back(piece(r, range));
  CHECK(std::find(pieces.begin(), pieces.end(), "Say <|im_end|> please") != pieces.end());
  CHECK(std::find(pieces.begin(), pieces.end(), "Be brief.") != pieces.end());
  for (auto p : pieces) CHECK(p.find("<|im_start|>") == std::string_view::npos);

  o.enable_thinking = false;
  o.add_generation_prompt = true;
  r = render_chat_template(t, messages, o);
  CHECK(r.text.ends_with("<|im_start|>assistant\n<think>\n\n</think>\n\n"));
}

TEST_CASE("Llama 3.2: bos token not plain, date from the clock, raise_exception surfaces") {
  auto t = jinja::template_::parse(
      read(std::string(HUASHAN_TEST_DATA) + "/chat_templates/meta-llama-Llama-3.2-3B-Instruct.jinja"),
      jinja::chat_environment(), "llama32");
  std::vector<chat_message> messages{{"user", "Hi"}};
  chat_render_options o;
  o.bos_token = "<|begin_of_text|>";
  o.eos_token = "<|eot_id|>";
  o.clock = [] { return std::int64_t{1735732800}; };
  auto r = render_chat_template(t, messages, o);
  CHECK(r.text.starts_with("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"));
  CHECK(r.text.find("Today Date: 01 Jan 2025") != std::string::npos);
  CHECK(r.text.ends_with("<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"));
  for (const auto& range : r.plain) CHECK(piece(r, range) != "<|begin_of_text|>");

  auto gemma = jinja::template_::parse(read(std::string(HUASHAN_TEST_DATA) + "/chat_templates/google-gemma-2-2b-it.jinja"),
                                       jinja::chat_environment(), "gemma2");
  std::vector<chat_message> with_system{{"system", "x"}, {"user", "y"}};
  CHECK_THROWS_WITH_AS(render_chat_template(gemma, with_system, o), doctest::Contains("System role not supported"),
                       jinja::template_error);
}
