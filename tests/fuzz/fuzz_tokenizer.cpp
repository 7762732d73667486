// Fuzz target: arbitrary bytes through small tokenizers built here (a
// synthetic byte-level BPE vocab for each pre rule and a tiny SPM vocab with
// full byte fallback; nothing read from disk), then decoded whole and
// streamed, and through the chat renderers. Invariants checked:
// - tokenize never throws and every id is in range;
// - BPE: detokenize(tokenize(x)) == x for any bytes (canonically equivalent
//   to x for the NFC vocab);
// - SPM: detokenize(tokenize(x)) == " " + x (the leading-space rule; a literal
//   "▁" comes back as a space), and strip_leading_space gives x back;
// - stream_decoder: pushes + flush == detokenize, and for valid UTF-8 input
//   every chunk is valid UTF-8;
// - chat rendering only ever throws input_error.
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "harness/engine/chat_template.hpp"
#include "harness/engine/tokenizer.hpp"
#include "harness/engine/unicode.hpp"

using namespace huashan::engine;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_tokenizer invariant broken: %s\n", what);
  __builtin_trap();
}

std::string byte_text(std::string_view raw) {
  std::string s;
  for (const char c : raw) s += byte_to_unicode(static_cast<std::uint8_t>(c));
  return s;
}

// 256 byte tokens, merges of a few frequent English/CJK/number pairs (each
// merge adds its result), then special tokens.
vocab synthetic_bpe(pre_rule pre, bool nfc) {
  vocab v;
  v.source = "fuzz-bpe";
  v.model = vocab_model::bpe;
  v.pre = pre;
  v.normalize_nfc = nfc;
  v.ignore_merges = pre == pre_rule::llama3;
  v.add_space_prefix = false;
  for (int b = 0; b < 256; ++b) v.tokens.emplace_back(byte_to_unicode(static_cast<std::uint8_t>(b)));
  const std::vector<std::pair<std::string, std::string>> merges = {
      {"t", "h"}, {" ", "t"}, {"th", "e"}, {" t", "he"}, {"i", "n"}, {"a", "n"}, {"e", "r"}, {" ", "a"},
      {"o", "n"}, {"in", "g"}, {" ", " "}, {"  ", "  "}, {"\n", "\n"}, {"1", "2"}, {"12", "3"},
      {"\xE4\xBD", "\xA0"}, {"\xE4", "\xBD"}, {"\xE5\xA5", "\xBD"}, {"\xE5", "\xA5"}, {"'", "s"}, {"e", "s"},
  };
  for (const auto& [a, b] : merges) {
    v.merges.emplace_back(byte_text(a), byte_text(b));
    v.tokens.push_back(byte_text(a + b));
  }
  v.types.assign(v.tokens.size(), token_type::normal);
  for (const auto& [text, type] : std::vector<std::pair<std::string, token_type>>{
           {"<|endoftext|>", token_type::control},
           {"<|im_start|>", token_type::control},
           {"<|im_end|>", token_type::control},
           {"<think>", token_type::user_defined},
           {"<|im", token_type::user_defined}}) {
    v.tokens.push_back(text);
    v.types.push_back(type);
  }
  v.scores.assign(v.tokens.size(), 0.0f);
  v.eos_id = static_cast<token_id>(v.tokens.size()) - 3;
  v.bos_id = static_cast<token_id>(v.tokens.size()) - 5;
  v.add_bos = true;
  return v;
}

vocab synthetic_spm() {
  vocab v;
  v.source = "fuzz-spm";
  v.model = vocab_model::spm;
  auto add = [&](std::string text, float score, token_type type) {
    v.tokens.push_back(std::move(text));
    v.scores.push_back(score);
    v.types.push_back(type);
  };
  add("<unk>", 0, token_type::unknown);
  add("<s>", 0, token_type::control);
  add("</s>", 0, token_type::control);
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    add(name, 0, token_type::byte);
  }
  const char* pieces[] = {"\xE2\x96\x81", "\xE2\x96\x81t", "he", "\xE2\x96\x81the", "e", "t", "h", "a", "n",
                          "an", "\xE2\x96\x81\xE2\x96\x81", "\xE4\xBD\xA0", "\xE5\xA5\xBD", "\xE4\xBD\xA0\xE5\xA5\xBD",
                          "1", "2", "12", "s", "es", "<", ">"};
  float score = -1.0f;
  for (const char* p : pieces) add(p, score -= 0.5f, token_type::normal);
  v.unk_id = 0;
  v.bos_id = 1;
  v.eos_id = 2;
  v.add_bos = true;
  return v;
}

struct tokenizers {
  tokenizer gpt2{synthetic_bpe(pre_rule::gpt2, false)};
  tokenizer llama3{synthetic_bpe(pre_rule::llama3, false)};
  tokenizer qwen2{synthetic_bpe(pre_rule::qwen2, true)};
  tokenizer spm{synthetic_spm()};
};

const tokenizers& all() {
  static const tokenizers t;
  return t;
}

void check_ids(const tokenizer& t, const std::vector<token_id>& ids) {
  for (const token_id id : ids) {
    if (id < 0 || id >= t.n_tokens()) fail("id out of range");
  }
}

void check_stream(const tokenizer& t, const std::vector<token_id>& ids, const detokenize_options& options,
                  bool valid_input) {
  stream_decoder d(t, options);
  std::string streamed;
  for (const token_id id : ids) {
    const std::string chunk = d.push(id);
    if (valid_input && !utf8_is_valid(chunk)) fail("stream chunk of valid input is not valid UTF-8");
    if (d.pending_bytes() > 3) fail("stream holds more than 3 bytes");
    streamed += chunk;
  }
  streamed += d.flush();
  if (streamed != t.detokenize(ids, options)) fail("stream != detokenize");
}

void check_bpe(const tokenizer& t, std::string_view text, bool parse_special, bool nfc_applied) {
  const std::vector<token_id> ids = t.tokenize(text, {.add_special = false, .parse_special = parse_special});
  check_ids(t, ids);
  // Control tokens render their text, so every input byte comes back.
  const detokenize_options options{.render_special = true};
  const std::string back = t.detokenize(ids, options);
  if (nfc_applied) {
    // NFC is applied to each stretch between special tokens ("<think>" +
    // U+0338 stays apart, NFC of the whole would make ">" + U+0338 one char),
    // so compare canonical equivalence: NFC(back) == NFC(input).
    if (nfc(back) != nfc(text)) fail("bpe round trip not canonically equivalent to input");
  } else if (back != text) {
    fail("bpe round trip != input");
  }
  check_stream(t, ids, options, utf8_is_valid(text));
}

void check_spm(const tokenizer& t, std::string_view text) {
  const std::vector<token_id> ids = t.tokenize(text, {.add_special = true, .parse_special = false});
  check_ids(t, ids);
  if (ids.empty() || ids[0] != 1) fail("spm without BOS");
  // Every byte has a byte token, so nothing is lost; the rule adds one space.
  // A literal "▁" in the input is SentencePiece's space symbol and comes back
  // as a space (as in SentencePiece and llama.cpp).
  std::string expected;
  for (std::size_t i = 0; i < text.size();) {
    if (text.substr(i).starts_with("\xE2\x96\x81")) {
      expected.push_back(' ');
      i += 3;
    } else {
      expected.push_back(text[i++]);
    }
  }
  const std::string back = t.detokenize(ids);
  if (!text.empty() && back != " " + expected) fail("spm round trip != ' ' + input");
  if (t.detokenize(ids, {.strip_leading_space = true}) != expected) fail("spm stripped round trip != input");
  check_stream(t, ids, {}, utf8_is_valid(text));
  check_stream(t, ids, {.strip_leading_space = true}, utf8_is_valid(text));
  // With special parsing the result differs only where control texts occur; it must stay in range.
  check_ids(t, t.tokenize(text, {.add_special = true, .parse_special = true}));
}

void check_chat(std::string_view text) {
  // Messages from the input split at NUL bytes; roles cycle through a list
  // that includes roles some families reject.
  static const char* roles[] = {"system", "user", "assistant", "tool", "user", "narrator"};
  std::vector<chat_message> messages;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size() && messages.size() < 8; ++i) {
    if (i == text.size() || text[i] == '\0') {
      messages.push_back({roles[messages.size() % 6], std::string(text.substr(start, i - start))});
      start = i + 1;
    }
  }
  for (const chat_family f : {chat_family::chatml, chat_family::qwen3, chat_family::llama2, chat_family::llama3}) {
    const chat_format format{f, "<s>", "</s>", f == chat_family::chatml ? "You are a helpful assistant." : ""};
    try {
      (void)render_chat(format, messages, true);
    } catch (const huashan::input_error&) {
      // bad role or order: an expected refusal
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 4096) return 0;  // long inputs add time, not coverage
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const tokenizers& t = all();
  for (const bool parse_special : {false, true}) {
    check_bpe(t.gpt2, text, parse_special, false);
    check_bpe(t.llama3, text, parse_special, false);
    check_bpe(t.qwen2, text, parse_special, true);
  }
  check_spm(t.spm, text);
  check_chat(text);
  if (!utf8_is_valid(utf8_sanitize(text))) fail("sanitize left invalid UTF-8");
  return 0;
}
