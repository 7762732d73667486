// Internal to the tokenizer: the indexes tokenizer.cpp builds and the two
// algorithms (tokenizer_spm.cpp, tokenizer_bpe.cpp) read. Not a public header.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "harness/engine/tokenizer.hpp"

namespace huashan::engine::detail {

// Hash map keyed by std::string that can be probed with a string_view.
struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
// Keys view the vocab's own token strings, which never move once the
// tokenizer is built (the state lives behind the tokenizer's unique_ptr).
using text_index = std::unordered_map<std::string_view, token_id>;

// A compiled PCRE2 pattern (JIT when available); owns the pcre2_code.
class split_regex {
 public:
  // Throws input_error naming the pattern when PCRE2 rejects it.
  explicit split_regex(std::string_view pattern);
  split_regex(const split_regex&) = delete;
  split_regex& operator=(const split_regex&) = delete;
  ~split_regex();

  // Splits `text` into consecutive pieces covering it exactly: each regex
  // match is a piece and so is each stretch the regex does not match (such
  // stretches only arise around invalid UTF-8). Appends byte ranges to `out`.
  void split(std::string_view text, std::vector<std::string_view>& out) const;

 private:
  void* code_ = nullptr;  // pcre2_code_8*
  bool jit_ = false;
  std::string pattern_;
};

// Rank and result of merging the adjacent pair (left, right).
struct bpe_merge {
  std::int32_t rank;
  token_id result;
};

// Words already split by BPE, so repeated words cost one lookup. Bounded:
// cleared when full, which keeps memory flat on adversarial input.
class bpe_cache {
 public:
  static constexpr std::size_t max_entries = 1 << 16;
  static constexpr std::size_t max_word_bytes = 64;

  bool find(std::string_view word, std::vector<token_id>& out) const;
  void insert(std::string_view word, const std::vector<token_id>& ids);

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::vector<token_id>, string_hash, std::equal_to<>> map_;
};

struct tokenizer_state {
  engine::vocab v;
  text_index by_text;                        // every token's stored text -> id (first id wins)
  std::vector<bool> eog;                     // per id: ends generation
  // Tokens matched in raw text before splitting, by first byte, longest first.
  std::array<std::vector<token_id>, 256> specials_by_byte;

  // SPM
  std::array<token_id, 256> byte_tokens{};   // "<0xXX>" ids, no_token when absent

  // BPE
  std::array<token_id, 256> byte_char_tokens{};  // id of byte_to_unicode(b), no_token when absent
  std::unordered_map<std::uint64_t, bpe_merge> merges;  // key: (left << 32) | right
  std::unique_ptr<split_regex> regex;
  std::unique_ptr<bpe_cache> cache;
};

// Builds the SPM / BPE parts of the state (called by the tokenizer constructor).
void init_spm(tokenizer_state& s);
void init_bpe(tokenizer_state& s);

// Appends the ids of one stretch of raw text (no special tokens in it).
// `after_special` is true at the start of the input and right after a special
// token: SPM's leading-space rule applies there.
void encode_spm(const tokenizer_state& s, std::string_view text, bool after_special,
                std::vector<token_id>& out);
void encode_bpe(const tokenizer_state& s, std::string_view text, std::vector<token_id>& out);

}  // namespace huashan::engine::detail
