// A model's chat template rendered for a conversation the way transformers'
// apply_chat_template renders it: messages as [{"role", "content"}], tools
// (None when there are none), the special tokens, add_generation_prompt and
// enable_thinking as the template's variables.
#pragma once

#include <boost/json/array.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "harness/engine/tokenizer.hpp"
#include "harness/jinja/jinja.hpp"
#include "harness/model_backend.hpp"

namespace huashan::harness {

struct chat_render_options {
  std::string bos_token;  // "" = the tokenizer has none (the variable is then undefined)
  std::string eos_token;
  bool add_generation_prompt = true;
  std::optional<bool> enable_thinking;
  boost::json::array tools;  // tool definitions (JSON schema objects); empty = none
  std::function<std::int64_t()> clock;  // Unix seconds for strftime_now; unset = the system clock
};

// The prompt text and the byte ranges of it that came from the messages'
// content (tokenize those as plain text, the rest with control tokens).
struct rendered_chat {
  std::string text;
  std::vector<engine::text_range> plain;
};

// Throws jinja::template_error when the template fails (raise_exception in
// it, e.g. for roles it does not accept).
rendered_chat render_chat_template(const jinja::template_& t, std::span<const chat_message> messages,
                                   const chat_render_options& o);

}  // namespace huashan::harness
