// Vocabulary of a tokenizer: token texts, scores, types, merges, special ids
// and flags, plus the rule that pre-splits text. Plain data, loaded from GGUF
// metadata (tokenizer.ggml.*) or from a Hugging Face tokenizer.json; the
// tokenizer (tokenizer.hpp) builds its indexes from it.
//
// Token texts are stored as the model stores them: SentencePiece pieces with
// "▁" (U+2581) for spaces and "<0xXX>" byte tokens; byte-level BPE pieces in
// GPT-2's bytes-to-unicode alphabet ("Ġ" for a space), except added tokens
// (user_defined/control), which hold their raw text.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace huashan::engine {

class gguf_file;
class gguf_writer;

using token_id = std::int32_t;
inline constexpr token_id no_token = -1;

// Token kinds; the values are GGUF's tokenizer.ggml.token_type ids.
enum class token_type : std::int32_t {
  undefined = 0,
  normal = 1,
  unknown = 2,
  control = 3,       // BOS/EOS/<|im_end|>...: split from text only with parse_special
  user_defined = 4,  // added tokens: always split from text, raw text
  unused = 5,        // padding entries; never produced from text
  byte = 6,          // SentencePiece byte fallback "<0xXX>"
};

// tokenizer.ggml.model: "llama" (SentencePiece-style) or "gpt2" (byte-level BPE).
enum class vocab_model { spm, bpe };

// tokenizer.ggml.pre: how byte-level BPE pre-splits text (unused for SPM).
enum class pre_rule {
  gpt2,    // "default"/"gpt2": 's|'t|... ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
  llama3,  // "llama-bpe"/"llama3": like qwen2 but digits in groups of up to 3
  qwen2,   // "qwen2": single digits, letters may take one leading non-letter
};

// "spm"/"bpe" and "gpt2"/"llama3"/"qwen2", for messages and `model info`.
std::string_view vocab_model_name(vocab_model m);
std::string_view pre_rule_name(pre_rule p);
// The GGUF tokenizer.ggml.pre value mapped to a rule; input_error listing the
// supported values when it is not one we implement.
pre_rule pre_rule_from_gguf(std::string_view pre, std::string_view file_name);
// The PCRE2 pattern (UTF, UCP) that splits text for `p`.
std::string_view pre_rule_regex(pre_rule p);

struct vocab {
  vocab_model model = vocab_model::spm;
  pre_rule pre = pre_rule::gpt2;

  std::vector<std::string> tokens;  // index = token id
  std::vector<float> scores;        // same length as tokens (0 where the source has none)
  std::vector<token_type> types;    // same length as tokens
  std::vector<std::pair<std::string, std::string>> merges;  // BPE only; rank = index

  token_id bos_id = no_token;
  token_id eos_id = no_token;
  token_id unk_id = no_token;
  token_id pad_id = no_token;
  token_id eot_id = no_token;  // end of turn (<|eot_id|>, <|im_end|>); no_token when unknown
  token_id eom_id = no_token;  // end of message (Llama 3.1 <|eom_id|>)
  bool add_bos = false;        // prepend BOS when tokenizing with add_special
  bool add_eos = false;        // append EOS when tokenizing with add_special
  bool add_space_prefix = true;  // SPM: prefix "▁" to text at the start / after a special token
  bool ignore_merges = false;    // BPE: a pre-split word that is itself a token is emitted whole (llama3)
  bool normalize_nfc = false;    // apply Unicode NFC to text before splitting (Qwen's normalizer)

  std::string chat_template;  // tokenizer.chat_template ("" when absent)
  std::string source;         // file name, for error messages

  token_id size() const { return static_cast<token_id>(tokens.size()); }

  // Checks lengths agree, special ids are in range (or no_token), merges are
  // non-empty for BPE; throws input_error naming `source` and the field.
  void validate() const;
};

// Reads tokenizer.ggml.* and tokenizer.chat_template from an open GGUF.
// Missing keys take llama.cpp's defaults (SPM: bos 1, eos 2, unk 0, add_bos;
// BPE llama3: add_bos). Throws input_error naming the file and key when the
// tokenizer is absent, of an unsupported model/pre, or inconsistent.
vocab load_vocab_gguf(const gguf_file& file);

// Writes `v` as tokenizer.ggml.* keys (and tokenizer.chat_template when set),
// the inverse of load_vocab_gguf: model "llama"/"gpt2", pre "gpt2"/"llama-bpe"/
// "qwen2", tokens, scores, token_type, merges as "a b", special ids that are
// set, add_bos/add_eos/add_space_prefix. `model synth` uses it to copy a tokenizer.
void write_vocab_gguf(const vocab& v, gguf_writer& out);

// Reads a Hugging Face tokenizer.json with a byte-level BPE model (vocab,
// merges as "a b" strings or [a, b] pairs, added_tokens: special -> control,
// else user_defined). The Split regex of the pre_tokenizer selects the pre
// rule (input_error when it is none we know); an NFC normalizer sets
// normalize_nfc. If tokenizer_config.json sits beside it, bos/eos/pad tokens,
// add_bos_token/add_eos_token and chat_template are read from it.
// Throws io_error when unreadable, input_error naming the file and field otherwise.
vocab load_vocab_hf(const std::filesystem::path& tokenizer_json);

}  // namespace huashan::engine
