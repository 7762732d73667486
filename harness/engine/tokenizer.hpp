// Text <-> token ids for a vocabulary: SentencePiece-style (score-driven
// merges, byte fallback, leading-space rule) and byte-level BPE (PCRE2
// pre-split by the model's rule, rank-driven merges), special-token splitting,
// decoding to pieces and streaming decoding that never cuts a UTF-8 sequence.
// The algorithms live in tokenizer_spm.cpp and tokenizer_bpe.cpp.
//
// A tokenizer is immutable after construction and safe to use from many
// threads at once (the BPE word cache is internally locked).
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "harness/engine/vocab.hpp"

namespace huashan::engine {

// A byte range [begin, end) of a text.
struct text_range {
  std::size_t begin = 0;
  std::size_t end = 0;
};

// Prompts for generation are tokenized with both on, as llama.cpp's server
// does (the stories260K goldens were made that way); text that must not turn
// into control tokens (user content in an arena) with parse_special off, or
// marked in plain_ranges when it sits inside a chat template's markup.
struct tokenize_options {
  bool add_special = true;     // BOS/EOS as the vocab's add_bos/add_eos say
  bool parse_special = false;  // control-token texts in the input become those tokens
  // With parse_special: ranges (sorted, not overlapping) where control-token
  // texts stay plain text; a match overlapping one is not taken.
  std::span<const text_range> plain_ranges = {};
};

struct detokenize_options {
  bool render_special = false;       // control tokens render their text (else nothing)
  bool strip_leading_space = false;  // SPM: drop the space the leading-space rule added
};

class tokenizer {
 public:
  // Builds the indexes (text -> id, merge ranks, special-token table) and
  // compiles the pre-split regex. Throws input_error when the vocab is
  // inconsistent (vocab::validate). A BPE merge naming a text the vocab lacks
  // can never fire and is skipped.
  explicit tokenizer(engine::vocab v);
  // load_vocab_gguf / load_vocab_hf, then the constructor; same errors.
  static tokenizer from_gguf(const gguf_file& file);
  static tokenizer from_hf(const std::filesystem::path& tokenizer_json);

  tokenizer(tokenizer&&) noexcept;
  tokenizer& operator=(tokenizer&&) noexcept;
  tokenizer(const tokenizer&) = delete;
  tokenizer& operator=(const tokenizer&) = delete;
  ~tokenizer();

  const engine::vocab& vocab() const;
  token_id n_tokens() const;
  token_id bos() const;  // no_token when the vocab has none
  token_id eos() const;
  // True for ids that end generation: eos, eot, eom and control tokens named
  // <|eot_id|>, <|eom_id|>, <|im_end|>, <|endoftext|>, <|end_of_text|>, <end_of_turn>.
  bool is_eog(token_id id) const;
  // True for control tokens (rendered only with render_special); false when out of range.
  bool is_control(token_id id) const;
  // The id whose stored text is exactly `text`, or no_token.
  token_id find(std::string_view text) const;

  // Token ids for `text` (any bytes; invalid UTF-8 is split byte-wise, never
  // rejected). With add_special, BOS/EOS per the vocab; with parse_special,
  // control-token texts are matched (leftmost, longest) before splitting;
  // user_defined tokens are always matched. Never throws on input content.
  std::vector<token_id> tokenize(std::string_view text, const tokenize_options& options = {}) const;

  // The bytes token `id` stands for: SPM "▁" -> " ", "<0xXX>" -> that byte;
  // BPE pieces through the inverse byte map; user_defined tokens raw; control
  // tokens their text with render_special, else "". May be a partial UTF-8
  // sequence. Throws input_error when `id` is out of range.
  std::string token_to_piece(token_id id, bool render_special = false) const;
  // Concatenated pieces (with strip_leading_space, one leading space of the
  // first piece is removed). Throws input_error for an out-of-range id.
  std::string detokenize(std::span<const token_id> ids, const detokenize_options& options = {}) const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// Turns a stream of token ids into text in complete UTF-8 sequences: bytes of
// a sequence that is still incomplete at the end are held back until a later
// token completes it. Invalid bytes are passed through unchanged, so the
// concatenation of every push() and the final flush() equals
// tokenizer::detokenize of all ids. Keeps a reference to the tokenizer.
class stream_decoder {
 public:
  explicit stream_decoder(const tokenizer& tok, detokenize_options options = {});

  // Text completed by `id` (possibly empty). Throws input_error for an out-of-range id.
  std::string push(token_id id);
  // The held-back bytes (an incomplete sequence), as they are; resets the decoder.
  std::string flush();
  // Bytes currently held back (0..3).
  std::size_t pending_bytes() const { return pending_.size(); }

 private:
  const tokenizer* tok_;
  detokenize_options options_;
  std::string pending_;
  bool first_ = true;
};

}  // namespace huashan::engine
