// Vocabulary names, checks and the GGUF loader. The tokenizer.json loader is
// in vocab_hf.cpp (it is the only code here that sees Boost.JSON).
#include "harness/engine/vocab.hpp"

#include <cmath>
#include <string>

#include "common/error.hpp"
#include "harness/engine/gguf.hpp"
#include "harness/engine/gguf_writer.hpp"

namespace huashan::engine {

namespace {

// The pre-split patterns, exactly as the models' tokenizer.json files give
// them (so a tokenizer.json is recognised by string equality). PCRE2 compiles
// them with UTF and UCP, which gives \p{..}, \s and (?i) their Unicode meaning.
constexpr std::string_view gpt2_regex =
    R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)re";
constexpr std::string_view llama3_regex =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
constexpr std::string_view qwen2_regex =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";

constexpr std::string_view supported_pre = "default, gpt2, llama-bpe, llama3, llama-v3, qwen2";

bool is_byte_token_text(std::string_view t) {
  auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f'); };
  return t.size() == 6 && t.starts_with("<0x") && hex(t[3]) && hex(t[4]) && t[5] == '>';
}

// A special-token id key: absent -> `fallback`; the "none" marker
// 0xFFFFFFFF (or -1) -> no_token; otherwise it must name a token.
token_id read_special_id(const gguf_file& f, std::string_view key, token_id fallback, token_id n_tokens) {
  const gguf_value* value = f.find(key);
  if (value == nullptr) return fallback;
  const std::optional<std::int64_t> id = value->as_int();
  if (!id) throw input_error(f.name() + ": " + std::string(key) + " must be an integer, found " + value->to_display());
  if (*id == -1 || *id == 0xFFFFFFFFll) return no_token;
  if (*id < 0 || *id >= n_tokens) {
    throw input_error(f.name() + ": " + std::string(key) + " = " + std::to_string(*id) +
                      " is not a token id (vocabulary has " + std::to_string(n_tokens) + " tokens)");
  }
  return static_cast<token_id>(*id);
}

}  // namespace

std::string_view vocab_model_name(vocab_model m) {
  switch (m) {
    case vocab_model::spm: return "spm";
    case vocab_model::bpe: return "bpe";
  }
  return "unknown";
}

std::string_view pre_rule_name(pre_rule p) {
  switch (p) {
    case pre_rule::gpt2: return "gpt2";
    case pre_rule::llama3: return "llama3";
    case pre_rule::qwen2: return "qwen2";
  }
  return "unknown";
}

pre_rule pre_rule_from_gguf(std::string_view pre, std::string_view file_name) {
  if (pre == "default" || pre == "gpt2") return pre_rule::gpt2;
  if (pre == "llama-bpe" || pre == "llama3" || pre == "llama-v3") return pre_rule::llama3;
  if (pre == "qwen2") return pre_rule::qwen2;
  throw input_error(std::string(file_name) + ": tokenizer.ggml.pre \"" + std::string(pre) +
                    "\" is not supported (supported: " + std::string(supported_pre) + ")");
}

std::string_view pre_rule_regex(pre_rule p) {
  switch (p) {
    case pre_rule::gpt2: return gpt2_regex;
    case pre_rule::llama3: return llama3_regex;
    case pre_rule::qwen2: return qwen2_regex;
  }
  return gpt2_regex;
}

void vocab::validate() const {
  auto fail = [&](const std::string& what) { throw input_error(source + ": tokenizer " + what); };
  if (tokens.empty()) fail("has no tokens");
  if (tokens.size() > static_cast<std::size_t>(INT32_MAX)) fail("has more tokens than an int32 id can name");
  if (scores.size() != tokens.size()) {
    fail("scores has " + std::to_string(scores.size()) + " entries for " + std::to_string(tokens.size()) + " tokens");
  }
  if (types.size() != tokens.size()) {
    fail("token_type has " + std::to_string(types.size()) + " entries for " + std::to_string(tokens.size()) +
         " tokens");
  }
  const auto check_id = [&](token_id id, std::string_view name) {
    if (id != no_token && (id < 0 || id >= size())) {
      fail(std::string(name) + " id " + std::to_string(id) + " is out of range (vocabulary has " +
           std::to_string(size()) + " tokens)");
    }
  };
  check_id(bos_id, "bos");
  check_id(eos_id, "eos");
  check_id(unk_id, "unknown");
  check_id(pad_id, "padding");
  check_id(eot_id, "eot");
  check_id(eom_id, "eom");
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const auto t = static_cast<std::int32_t>(types[i]);
    if (t < 0 || t > static_cast<std::int32_t>(token_type::byte)) {
      fail("token_type of token " + std::to_string(i) + " is " + std::to_string(t) + " (expected 0..6)");
    }
    // A NaN score would break the SPM merge order (it compares neither way).
    if (std::isnan(scores[i])) fail("score of token " + std::to_string(i) + " is NaN");
    if (types[i] == token_type::byte && !is_byte_token_text(tokens[i])) {
      fail("byte token " + std::to_string(i) + " is \"" + tokens[i] + "\", expected the form <0xXX>");
    }
  }
}

vocab load_vocab_gguf(const gguf_file& f) {
  vocab v;
  v.source = f.name();
  const std::string_view model = f.require_string("tokenizer.ggml.model");
  if (model == "llama") {
    v.model = vocab_model::spm;
  } else if (model == "gpt2") {
    v.model = vocab_model::bpe;
  } else {
    throw input_error(f.name() + ": tokenizer.ggml.model \"" + std::string(model) +
                      "\" is not supported (supported: llama = SentencePiece-style, gpt2 = byte-level BPE)");
  }

  const gguf_array& tokens = f.require_array("tokenizer.ggml.tokens");
  if (tokens.elem_type != gguf_type::string) {
    throw input_error(f.name() + ": tokenizer.ggml.tokens must be an array of strings, found elements of type " +
                      std::string(gguf_type_name(tokens.elem_type)));
  }
  v.tokens.assign(tokens.strings.begin(), tokens.strings.end());
  const std::size_t n = v.tokens.size();
  if (n == 0 || n > static_cast<std::size_t>(INT32_MAX)) {
    throw input_error(f.name() + ": tokenizer.ggml.tokens has " + std::to_string(n) + " entries");
  }
  const auto n_tokens = static_cast<token_id>(n);

  if (const gguf_array* scores = f.get_array("tokenizer.ggml.scores")) {
    v.scores = scores->to_f32();
    if (v.scores.size() != n) {
      throw input_error(f.name() + ": tokenizer.ggml.scores has " + std::to_string(v.scores.size()) +
                        " entries for " + std::to_string(n) + " tokens");
    }
  } else {
    v.scores.assign(n, 0.0f);
  }

  if (const gguf_array* types = f.get_array("tokenizer.ggml.token_type")) {
    const std::vector<std::int32_t> raw = types->to_i32();
    if (raw.size() != n) {
      throw input_error(f.name() + ": tokenizer.ggml.token_type has " + std::to_string(raw.size()) +
                        " entries for " + std::to_string(n) + " tokens");
    }
    v.types.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      if (raw[i] < 0 || raw[i] > static_cast<std::int32_t>(token_type::byte)) {
        throw input_error(f.name() + ": tokenizer.ggml.token_type[" + std::to_string(i) + "] = " +
                          std::to_string(raw[i]) + " (expected 0..6)");
      }
      v.types[i] = static_cast<token_type>(raw[i]);
    }
  } else {
    v.types.assign(n, token_type::normal);
  }

  if (v.model == vocab_model::bpe) {
    const std::optional<std::string_view> pre = f.get_string("tokenizer.ggml.pre");
    v.pre = pre_rule_from_gguf(pre.value_or("default"), f.name());
    const gguf_array& merges = f.require_array("tokenizer.ggml.merges");
    if (merges.elem_type != gguf_type::string) {
      throw input_error(f.name() + ": tokenizer.ggml.merges must be an array of strings");
    }
    v.merges.reserve(merges.strings.size());
    for (std::size_t i = 0; i < merges.strings.size(); ++i) {
      const std::string_view line = merges.strings[i];
      // "left right"; search from 1 so a left part that is itself a space still splits.
      const std::size_t space = line.find(' ', 1);
      if (space == std::string_view::npos) {
        throw input_error(f.name() + ": tokenizer.ggml.merges[" + std::to_string(i) + "] \"" + std::string(line) +
                          "\" is not two tokens separated by a space");
      }
      v.merges.emplace_back(std::string(line.substr(0, space)), std::string(line.substr(space + 1)));
    }
    v.ignore_merges = v.pre == pre_rule::llama3;
    // Qwen's Hugging Face tokenizer applies NFC first; llama.cpp does not
    // (docs/formats.md, "Tokenizers"): we follow the reference tokenizer.
    v.normalize_nfc = v.pre == pre_rule::qwen2;
    v.add_space_prefix = false;
    v.add_bos = v.pre == pre_rule::llama3;
  } else {
    v.bos_id = n_tokens > 1 ? 1 : no_token;
    v.eos_id = n_tokens > 2 ? 2 : no_token;
    v.unk_id = 0;
    v.add_bos = true;
    v.add_space_prefix = true;
  }

  v.bos_id = read_special_id(f, "tokenizer.ggml.bos_token_id", v.bos_id, n_tokens);
  v.eos_id = read_special_id(f, "tokenizer.ggml.eos_token_id", v.eos_id, n_tokens);
  v.unk_id = read_special_id(f, "tokenizer.ggml.unknown_token_id", v.unk_id, n_tokens);
  v.pad_id = read_special_id(f, "tokenizer.ggml.padding_token_id", v.pad_id, n_tokens);
  v.eot_id = read_special_id(f, "tokenizer.ggml.eot_token_id", v.eot_id, n_tokens);
  v.eom_id = read_special_id(f, "tokenizer.ggml.eom_token_id", v.eom_id, n_tokens);
  v.add_bos = f.get_bool("tokenizer.ggml.add_bos_token").value_or(v.add_bos);
  v.add_eos = f.get_bool("tokenizer.ggml.add_eos_token").value_or(v.add_eos);
  v.add_space_prefix = f.get_bool("tokenizer.ggml.add_space_prefix").value_or(v.add_space_prefix);
  if (const std::optional<std::string_view> t = f.get_string("tokenizer.chat_template")) v.chat_template = *t;

  v.validate();
  return v;
}

void write_vocab_gguf(const vocab& v, gguf_writer& out) {
  out.set_string("tokenizer.ggml.model", v.model == vocab_model::spm ? "llama" : "gpt2");
  if (v.model == vocab_model::bpe) {
    // The first GGUF name of each rule (pre_rule_from_gguf reads them all).
    constexpr std::string_view gguf_pre[] = {"gpt2", "llama-bpe", "qwen2"};
    out.set_string("tokenizer.ggml.pre", std::string(gguf_pre[static_cast<int>(v.pre)]));
  }
  out.set_string_array("tokenizer.ggml.tokens", v.tokens);
  out.set_f32_array("tokenizer.ggml.scores", v.scores);
  std::vector<std::int32_t> types(v.types.size());
  for (std::size_t i = 0; i < types.size(); ++i) types[i] = static_cast<std::int32_t>(v.types[i]);
  out.set_i32_array("tokenizer.ggml.token_type", std::move(types));
  if (v.model == vocab_model::bpe) {
    std::vector<std::string> merges;
    merges.reserve(v.merges.size());
    for (const auto& [left, right] : v.merges) merges.push_back(left + " " + right);
    out.set_string_array("tokenizer.ggml.merges", std::move(merges));
  }
  const std::pair<const char*, token_id> ids[] = {
      {"tokenizer.ggml.bos_token_id", v.bos_id},     {"tokenizer.ggml.eos_token_id", v.eos_id},
      {"tokenizer.ggml.unknown_token_id", v.unk_id}, {"tokenizer.ggml.padding_token_id", v.pad_id},
      {"tokenizer.ggml.eot_token_id", v.eot_id},     {"tokenizer.ggml.eom_token_id", v.eom_id},
  };
  for (std::size_t k = 0; k < std::size(ids); ++k) {
    const auto& [key, id] = ids[k];
    if (id != no_token) {
      out.set_u32(key, static_cast<std::uint32_t>(id));
    } else if (v.model == vocab_model::spm && k < 3) {
      // SPM readers default bos/eos/unk to 1/2/0; the none marker keeps "none".
      out.set_u32(key, 0xFFFFFFFFu);
    }
  }
  out.set_bool("tokenizer.ggml.add_bos_token", v.add_bos);
  out.set_bool("tokenizer.ggml.add_eos_token", v.add_eos);
  if (v.model == vocab_model::spm) out.set_bool("tokenizer.ggml.add_space_prefix", v.add_space_prefix);
  if (!v.chat_template.empty()) out.set_string("tokenizer.chat_template", v.chat_template);
}

}  // namespace huashan::engine
