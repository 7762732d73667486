// Chat template families (see chat_template.hpp). Each renderer follows its
// family's reference Jinja template step by step; the comments quote the
// template expression a branch reproduces.
#include "harness/engine/chat_template.hpp"

#include <algorithm>
#include <string>

#include "common/error.hpp"
#include "harness/engine/unicode.hpp"

namespace huashan::engine {

namespace {

// Python's str.isspace() for one code point (what Jinja's trim and str.strip() remove).
bool py_space(char32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
         cp == 0x3000;
}

// Python's s.strip() (all Unicode whitespace) on UTF-8; invalid bytes are not space.
std::string py_strip(std::string_view s) {
  std::size_t begin = 0;
  while (begin < s.size()) {
    char32_t cp = 0;
    const std::size_t n = utf8_decode(s.substr(begin), cp);
    if (n == 0 || !py_space(cp)) break;
    begin += n;
  }
  std::size_t end = s.size();
  while (end > begin) {
    // Step back to the start of the last code point.
    std::size_t start = end - 1;
    while (start > begin && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80 && end - start < 4) --start;
    char32_t cp = 0;
    const std::size_t n = utf8_decode(s.substr(start, end - start), cp);
    if (n != end - start || !py_space(cp)) break;
    end = start;
  }
  return std::string(s.substr(begin, end - begin));
}

// Python's s.lstrip(c) / s.rstrip(c) / s.strip(c) for one ASCII character.
std::string_view lstrip_char(std::string_view s, char c) {
  while (!s.empty() && s.front() == c) s.remove_prefix(1);
  return s;
}
std::string_view rstrip_char(std::string_view s, char c) {
  while (!s.empty() && s.back() == c) s.remove_suffix(1);
  return s;
}

[[noreturn]] void bad_role(chat_family f, std::size_t index, std::string_view role) {
  throw input_error("chat message " + std::to_string(index) + ": role \"" + std::string(role) +
                    "\" is not supported by the " + std::string(chat_family_name(f)) + " chat template");
}

// The prompt being written: the template's own text (markup) and the messages'
// text (content), whose byte ranges are recorded so the tokenizer can keep
// control-token texts inside them plain.
struct prompt_builder {
  chat_prompt prompt;
  prompt_builder& markup(std::string_view s) {
    prompt.text += s;
    return *this;
  }
  prompt_builder& content(std::string_view s) {
    if (s.empty()) return *this;
    const std::size_t begin = prompt.text.size();
    prompt.text += s;
    if (!prompt.content.empty() && prompt.content.back().end == begin) {
      prompt.content.back().end = prompt.text.size();  // adjacent content: one range
    } else {
      prompt.content.push_back({begin, prompt.text.size()});
    }
    return *this;
  }
};

chat_prompt render_chatml(const chat_format& format, std::span<const chat_message> messages,
                          bool add_generation_prompt) {
  prompt_builder out;
  std::size_t first = 0;
  if (messages[0].role == "system") {
    out.markup("<|im_start|>system\n").content(messages[0].content).markup("<|im_end|>\n");
    first = 1;
  } else if (!format.default_system.empty()) {
    out.markup("<|im_start|>system\n" + format.default_system + "<|im_end|>\n");
  }
  for (std::size_t i = first; i < messages.size(); ++i) {
    const chat_message& m = messages[i];
    if (m.role == "system" || m.role == "user" || m.role == "assistant") {
      out.markup("<|im_start|>" + m.role + "\n").content(m.content).markup("<|im_end|>\n");
    } else if (m.role == "tool") {
      // Consecutive tool results share one user turn.
      if (i == 0 || messages[i - 1].role != "tool") out.markup("<|im_start|>user");
      out.markup("\n<tool_response>\n").content(m.content).markup("\n</tool_response>");
      if (i + 1 == messages.size() || messages[i + 1].role != "tool") out.markup("<|im_end|>\n");
    } else {
      bad_role(format.family, i, m.role);
    }
  }
  if (add_generation_prompt) out.markup("<|im_start|>assistant\n");
  return std::move(out.prompt);
}

// Qwen3: ChatML, but assistant turns before the last real user query lose
// their <think> block, and later ones keep it in a normalised form.
chat_prompt render_qwen3(std::span<const chat_message> messages, bool add_generation_prompt) {
  auto is_tool_response = [](const chat_message& m) {
    return m.content.starts_with("<tool_response>") && m.content.ends_with("</tool_response>");
  };
  // ns.last_query_index: the last user message that is not a tool response.
  std::size_t last_query = messages.size() - 1;
  for (std::size_t k = messages.size(); k-- > 0;) {
    if (messages[k].role == "user" && !is_tool_response(messages[k])) {
      last_query = k;
      break;
    }
  }

  prompt_builder out;
  if (messages[0].role == "system") out.markup("<|im_start|>system\n").content(messages[0].content).markup("<|im_end|>\n");
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const chat_message& m = messages[i];
    const bool last = i + 1 == messages.size();
    if (m.role == "user" || (m.role == "system" && i != 0)) {
      out.markup("<|im_start|>" + m.role + "\n").content(m.content).markup("<|im_end|>\n");
    } else if (m.role == "system") {
      continue;  // the first system message was written above
    } else if (m.role == "assistant") {
      std::string content = m.content;
      std::string reasoning;
      const std::size_t close = m.content.find("</think>");
      if (close != std::string::npos) {
        // content.split('</think>')[-1].lstrip('\n')
        const std::size_t last_close = m.content.rfind("</think>");
        content = std::string(lstrip_char(std::string_view(m.content).substr(last_close + 8), '\n'));
        // content.split('</think>')[0].rstrip('\n').split('<think>')[-1].lstrip('\n')
        std::string_view before = rstrip_char(std::string_view(m.content).substr(0, close), '\n');
        const std::size_t open = before.rfind("<think>");
        if (open != std::string_view::npos) before = before.substr(open + 7);
        reasoning = std::string(lstrip_char(before, '\n'));
      }
      if (i > last_query && (last || !reasoning.empty())) {
        out.markup("<|im_start|>assistant\n<think>\n")
            .content(rstrip_char(lstrip_char(reasoning, '\n'), '\n'))
            .markup("\n</think>\n\n")
            .content(lstrip_char(content, '\n'));
      } else {
        out.markup("<|im_start|>assistant\n").content(content);
      }
      out.markup("<|im_end|>\n");
    } else if (m.role == "tool") {
      if (i == 0 || messages[i - 1].role != "tool") out.markup("<|im_start|>user");
      out.markup("\n<tool_response>\n").content(m.content).markup("\n</tool_response>");
      if (last || messages[i + 1].role != "tool") out.markup("<|im_end|>\n");
    } else {
      bad_role(chat_family::qwen3, i, m.role);
    }
  }
  if (add_generation_prompt) out.markup("<|im_start|>assistant\n");
  return std::move(out.prompt);
}

// Meta's Llama 2 chat template; the first BOS is the tokenizer's.
chat_prompt render_llama2(const chat_format& format, std::span<const chat_message> messages) {
  std::string system;
  bool has_system = false;
  std::size_t first = 0;
  if (messages[0].role == "system") {
    system = messages[0].content;
    has_system = true;
    first = 1;
  }
  prompt_builder out;
  for (std::size_t i = first; i < messages.size(); ++i) {
    const chat_message& m = messages[i];
    const std::size_t turn = i - first;
    if (m.role != "user" && m.role != "assistant") bad_role(chat_family::llama2, i, m.role);
    // raise_exception('Conversation roles must alternate user/assistant/user/assistant/...')
    if ((m.role == "user") != (turn % 2 == 0)) {
      throw input_error("chat message " + std::to_string(i) +
                        ": the llama2 chat template needs roles alternating user/assistant/user/... "
                        "(after an optional first system message)");
    }
    // The system text joins the first message and strip() acts on the joined
    // text, which then starts with "<<SYS>>" (nothing stripped in front).
    const bool with_system = turn == 0 && has_system;
    const std::string stripped =
        py_strip(with_system ? "<<SYS>>\n" + system + "\n<</SYS>>\n\n" + m.content : m.content);
    if (m.role == "user") {
      // bos_token + '[INST] ' + content.strip() + ' [/INST]'
      if (turn != 0) out.markup(format.bos_text);
      out.markup("[INST] ");
    } else {
      // ' ' + content.strip() + ' ' + eos_token
      out.markup(" ");
    }
    if (with_system) {
      // "<<SYS>>\n" and "\n<</SYS>>\n\n" are the template's; the system text and
      // the message are content. Cut at the joined text's offsets, clipped to
      // what strip() left.
      const std::string_view text = stripped;
      const auto part = [&](std::size_t begin, std::size_t end) {
        begin = std::min(begin, text.size());
        return text.substr(begin, std::min(end, text.size()) - begin);
      };
      const std::size_t sys_begin = 8, sys_close = sys_begin + system.size(), sys_end = sys_close + 11;
      out.markup(part(0, sys_begin)).content(part(sys_begin, sys_close)).markup(part(sys_close, sys_end));
      out.content(part(sys_end, text.size()));
    } else {
      out.content(stripped);
    }
    out.markup(m.role == "user" ? " [/INST]" : " " + format.eos_text);
  }
  return std::move(out.prompt);
}

// Meta's Llama 3 instruct template; the leading BOS is the tokenizer's.
chat_prompt render_llama3(std::span<const chat_message> messages, bool add_generation_prompt) {
  prompt_builder out;
  for (const chat_message& m : messages) {
    // '<|start_header_id|>' + role + '<|end_header_id|>\n\n' + content | trim + '<|eot_id|>'
    // (the template takes any role: it is the caller's text, so content too)
    out.markup("<|start_header_id|>").content(m.role).markup("<|end_header_id|>\n\n");
    out.content(py_strip(m.content)).markup("<|eot_id|>");
  }
  if (add_generation_prompt) out.markup("<|start_header_id|>assistant<|end_header_id|>\n\n");
  return std::move(out.prompt);
}

// A ChatML template's built-in system prompt: the literal text between
// '<|im_start|>system\n' and '<|im_end|>' in a branch that adds no content
// expression (Qwen2/Qwen2.5 write "You are ... a helpful assistant." there).
std::string chatml_default_system(std::string_view text) {
  constexpr std::string_view open = "<|im_start|>system\\n";
  for (std::size_t pos = text.find(open); pos != std::string_view::npos; pos = text.find(open, pos + 1)) {
    const std::size_t start = pos + open.size();
    const std::size_t end = text.find("<|im_end|>", start);
    if (end == std::string_view::npos) break;
    const std::string_view literal = text.substr(start, end - start);
    if (!literal.empty() && literal.find_first_of("'\"+{}\\") == std::string_view::npos) return std::string(literal);
  }
  return {};
}

}  // namespace

std::string_view chat_family_name(chat_family f) {
  switch (f) {
    case chat_family::none: return "none";
    case chat_family::chatml: return "chatml";
    case chat_family::qwen3: return "qwen3";
    case chat_family::llama2: return "llama2";
    case chat_family::llama3: return "llama3";
  }
  return "none";
}

chat_family detect_chat_family(std::string_view t) {
  if (t.find("<|start_header_id|>") != std::string_view::npos && t.find("<|eot_id|>") != std::string_view::npos) {
    // Llama 3.1+ templates add a dated system block and tool sections that
    // render_llama3 does not reproduce; better an error than a near miss.
    if (t.find("Cutting Knowledge Date") != std::string_view::npos) return chat_family::none;
    return chat_family::llama3;
  }
  if (t.find("<|im_start|>") != std::string_view::npos) {
    return t.find("<think>") != std::string_view::npos ? chat_family::qwen3 : chat_family::chatml;
  }
  if (t.find("[INST]") != std::string_view::npos && t.find("<<SYS>>") != std::string_view::npos) {
    return chat_family::llama2;
  }
  return chat_family::none;
}

chat_format chat_format_for(const vocab& v) {
  if (v.chat_template.empty()) {
    throw input_error(v.source + ": the model has no chat template (tokenizer.chat_template); use a raw prompt");
  }
  chat_format f;
  f.family = detect_chat_family(v.chat_template);
  if (f.family == chat_family::none) {
    throw input_error(v.source + ": the model's chat template is not one of the known families "
                      "(chatml/qwen, qwen3, llama2, llama3); use a raw prompt");
  }
  auto text_of = [&](token_id id) { return id == no_token ? std::string() : v.tokens[static_cast<std::size_t>(id)]; };
  f.bos_text = text_of(v.bos_id);
  f.eos_text = text_of(v.eos_id);
  if (f.family == chat_family::llama2 && (f.bos_text.empty() || f.eos_text.empty())) {
    throw input_error(v.source + ": the llama2 chat template needs BOS and EOS tokens, and the vocabulary lacks one");
  }
  if (f.family == chat_family::chatml) f.default_system = chatml_default_system(v.chat_template);
  return f;
}

std::string render_chat(const chat_format& format, std::span<const chat_message> messages,
                        bool add_generation_prompt) {
  return render_chat_prompt(format, messages, add_generation_prompt).text;
}

std::vector<token_id> tokenize_chat(const tokenizer& tok, std::span<const chat_message> messages,
                                    bool add_generation_prompt) {
  const chat_prompt prompt = render_chat_prompt(chat_format_for(tok.vocab()), messages, add_generation_prompt);
  return tok.tokenize(prompt.text, {.add_special = true, .parse_special = true, .plain_ranges = prompt.content});
}

chat_prompt render_chat_prompt(const chat_format& format, std::span<const chat_message> messages,
                               bool add_generation_prompt) {
  if (messages.empty()) throw input_error("chat: no messages to render");
  switch (format.family) {
    case chat_family::chatml: return render_chatml(format, messages, add_generation_prompt);
    case chat_family::qwen3: return render_qwen3(messages, add_generation_prompt);
    case chat_family::llama2: return render_llama2(format, messages);
    case chat_family::llama3: return render_llama3(messages, add_generation_prompt);
    case chat_family::none: break;
  }
  throw input_error("chat: no known chat template to render with (family none); use a raw prompt");
}

}  // namespace huashan::engine
