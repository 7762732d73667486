// Chat prompts for the template families we know, detected from the GGUF's
// tokenizer.chat_template text and rendered exactly as the family's Jinja
// template renders them (checked against Python's jinja2 in the unit tests).
// A general Jinja engine is a later piece of work; until then an unknown
// template is a clear error and callers may fall back to the raw prompt.
//
// The rendered text never starts with the BOS text: tokenize it with
// add_special (the vocab's add_bos adds BOS) and parse_special (so <|im_end|>,
// <|eot_id|>, </s><s> become their control tokens), but only in the template's
// own text: the messages' content is plain text, so a user who types
// "<|im_end|>" gets those characters, not the control token (tokenize_chat
// does this with render_chat_prompt's content ranges).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "harness/engine/tokenizer.hpp"
#include "harness/engine/vocab.hpp"

namespace huashan::engine {

enum class chat_family {
  none,    // no template, or one we do not recognise
  chatml,  // <|im_start|>role\n...<|im_end|>\n (Qwen2/Qwen2.5 and other ChatML models)
  qwen3,   // ChatML plus Qwen3's <think> handling of assistant turns
  llama2,  // <s>[INST] <<SYS>>\n...\n<</SYS>>\n\n... [/INST] ... </s>
  llama3,  // <|start_header_id|>role<|end_header_id|>\n\n...<|eot_id|> (Llama 3.0; 3.1+ is none)
};

struct chat_message {
  std::string role;  // system | user | assistant (| tool for chatml/qwen3)
  std::string content;
};

// What render_chat needs besides the messages.
struct chat_format {
  chat_family family = chat_family::none;
  std::string bos_text;        // text of the BOS token (llama2 writes it between turns)
  std::string eos_text;        // text of the EOS token (llama2 closes assistant turns with it)
  std::string default_system;  // chatml: system prompt the template adds when none is given ("" = none)
};

// "none", "chatml", "qwen3", "llama2", "llama3".
std::string_view chat_family_name(chat_family f);
// The family of a Jinja chat template by its marker strings; none when unknown or empty.
chat_family detect_chat_family(std::string_view template_text);
// The format for a vocab's chat_template and special tokens; input_error naming
// `vocab::source` when the template is absent or of an unknown family.
chat_format chat_format_for(const vocab& v);
// The prompt text for `messages`, ending with the assistant header when
// add_generation_prompt. Throws input_error for an empty list, a role the
// family does not know, or (llama2) roles that do not alternate user/assistant.
std::string render_chat(const chat_format& format, std::span<const chat_message> messages,
                        bool add_generation_prompt);

// A rendered prompt and the byte ranges of `text` that came from the messages
// (content, and roles where the template takes any role), in order.
struct chat_prompt {
  std::string text;
  std::vector<text_range> content;
};
// render_chat's text (same errors) with the content ranges marked.
chat_prompt render_chat_prompt(const chat_format& format, std::span<const chat_message> messages,
                               bool add_generation_prompt);
// The prompt's token ids for a model's vocab: BOS as the vocab says, the
// template's markers as control tokens, message content as plain text (no
// control token from it). input_error as chat_format_for and render_chat.
std::vector<token_id> tokenize_chat(const tokenizer& tok, std::span<const chat_message> messages,
                                    bool add_generation_prompt);

}  // namespace huashan::engine
