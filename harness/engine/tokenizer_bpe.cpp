// Byte-level BPE (GPT-2 family): NFC when the vocab asks for it, split the
// text with the pre rule's regex (PCRE2, UTF + UCP, JIT), map each word's
// bytes to GPT-2's printable alphabet, then merge adjacent pieces by rank
// (lowest rank first, leftmost first among equals) until no merge applies.
// With ignore_merges (Llama 3) a word that is itself a token is emitted whole.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <queue>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "harness/engine/tokenizer_impl.hpp"
#include "harness/engine/unicode.hpp"

namespace huashan::engine::detail {

namespace {

pcre2_code* as_code(void* p) { return static_cast<pcre2_code*>(p); }

std::uint64_t pair_key(token_id left, token_id right) {
  return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(left)) << 32) |
         static_cast<std::uint32_t>(right);
}

// JIT stack for matches whose backtracking outgrows PCRE2's 32 KiB default
// (long runs of whitespace under \s+(?!\S)); created only when needed.
constexpr PCRE2_SIZE jit_stack_max = 8u << 20;

}  // namespace

split_regex::split_regex(std::string_view pattern) : pattern_(pattern) {
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  // MATCH_INVALID_UTF: arbitrary bytes are searched safely; invalid
  // sequences never match and end up in the gaps between matches.
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &error_code,
                                   &error_offset, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error_code, message, sizeof message);
    throw input_error("tokenizer pre-split regex /" + pattern_ + "/ does not compile at offset " +
                      std::to_string(error_offset) + ": " + reinterpret_cast<const char*>(message));
  }
  code_ = code;
  jit_ = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
}

split_regex::~split_regex() { pcre2_code_free(as_code(code_)); }

void split_regex::split(std::string_view text, std::vector<std::string_view>& out) const {
  pcre2_code* code = as_code(code_);
  pcre2_match_data* match = pcre2_match_data_create_from_pattern(code, nullptr);
  if (match == nullptr) throw std::bad_alloc();
  pcre2_match_context* context = nullptr;
  pcre2_jit_stack* stack = nullptr;
  auto release = [&] {
    pcre2_match_data_free(match);
    pcre2_match_context_free(context);
    pcre2_jit_stack_free(stack);
  };

  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  std::size_t gap_start = 0;
  std::size_t offset = 0;
  while (offset < text.size()) {
    int rc = pcre2_match(code, subject, text.size(), offset, 0, match, context);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT && stack == nullptr) {
      context = pcre2_match_context_create(nullptr);
      stack = pcre2_jit_stack_create(32u << 10, jit_stack_max, nullptr);
      if (context == nullptr || stack == nullptr) {
        release();
        throw std::bad_alloc();
      }
      pcre2_jit_stack_assign(context, nullptr, stack);
      rc = pcre2_match(code, subject, text.size(), offset, 0, match, context);
    }
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      release();
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(rc, message, sizeof message);
      throw input_error("tokenizer pre-split regex /" + pattern_ + "/ failed on the input: " +
                        reinterpret_cast<const char*>(message));
    }
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match);
    const std::size_t begin = ovector[0];
    std::size_t end = ovector[1];
    if (begin > gap_start) out.push_back(text.substr(gap_start, begin - gap_start));
    if (end == begin) {
      // An empty match cannot happen with the rules' patterns (every branch
      // consumes); step over one byte so a foreign pattern cannot loop.
      end = begin + 1;
      out.push_back(text.substr(begin, 1));
    } else {
      out.push_back(text.substr(begin, end - begin));
    }
    gap_start = end;
    offset = end;
  }
  if (gap_start < text.size()) out.push_back(text.substr(gap_start));
  release();
}

bool bpe_cache::find(std::string_view word, std::vector<token_id>& out) const {
  const std::lock_guard lock(mutex_);
  const auto it = map_.find(word);
  if (it == map_.end()) return false;
  out.insert(out.end(), it->second.begin(), it->second.end());
  return true;
}

void bpe_cache::insert(std::string_view word, const std::vector<token_id>& ids) {
  const std::lock_guard lock(mutex_);
  if (map_.size() >= max_entries) map_.clear();
  map_.emplace(std::string(word), ids);
}

void init_bpe(tokenizer_state& s) {
  const vocab& v = s.v;
  for (int b = 0; b < 256; ++b) {
    const auto it = s.by_text.find(byte_to_unicode(static_cast<std::uint8_t>(b)));
    s.byte_char_tokens[static_cast<std::size_t>(b)] = it == s.by_text.end() ? no_token : it->second;
  }
  s.merges.reserve(v.merges.size());
  std::string joined;
  for (std::size_t rank = 0; rank < v.merges.size(); ++rank) {
    const auto& [left_text, right_text] = v.merges[rank];
    const auto left = s.by_text.find(left_text);
    const auto right = s.by_text.find(right_text);
    joined.assign(left_text).append(right_text);
    const auto result = s.by_text.find(joined);
    // A merge naming a text the vocabulary lacks can never fire (its pieces
    // never appear); converters occasionally leave such lines, so skip them.
    if (left == s.by_text.end() || right == s.by_text.end() || result == s.by_text.end()) continue;
    // The first (lowest-rank) occurrence of a pair is the one that counts.
    s.merges.emplace(pair_key(left->second, right->second),
                     bpe_merge{static_cast<std::int32_t>(rank), result->second});
  }
  s.regex = std::make_unique<split_regex>(pre_rule_regex(v.pre));
  s.cache = std::make_unique<bpe_cache>();
}

namespace {

// BPE of one pre-split word (raw bytes); appends its ids.
void merge_word(const tokenizer_state& s, std::string_view word, std::vector<token_id>& out) {
  const vocab& v = s.v;
  if (v.ignore_merges) {
    std::string mapped;
    for (const char c : word) mapped.append(byte_to_unicode(static_cast<std::uint8_t>(c)));
    const auto it = s.by_text.find(mapped);
    if (it != s.by_text.end() && v.types[static_cast<std::size_t>(it->second)] == token_type::normal) {
      out.push_back(it->second);
      return;
    }
  }

  // One symbol per byte, in a linked list; merged-away symbols get id no_token.
  struct symbol {
    token_id id;
    int prev;
    int next;
  };
  std::vector<symbol> symbols(word.size());
  for (std::size_t i = 0; i < word.size(); ++i) {
    symbols[i] = {s.byte_char_tokens[static_cast<unsigned char>(word[i])], static_cast<int>(i) - 1,
                  i + 1 < word.size() ? static_cast<int>(i) + 1 : -1};
  }

  struct candidate {
    std::int32_t rank;
    int left;
    token_id left_id;
    token_id right_id;
    token_id result;
  };
  // Min-heap on (rank, position).
  auto later = [](const candidate& a, const candidate& b) {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  };
  std::priority_queue<candidate, std::vector<candidate>, decltype(later)> queue(later);
  auto consider = [&](int left) {
    if (left < 0) return;
    const symbol& l = symbols[static_cast<std::size_t>(left)];
    if (l.next < 0 || l.id == no_token) return;
    const symbol& r = symbols[static_cast<std::size_t>(l.next)];
    if (r.id == no_token) return;
    const auto it = s.merges.find(pair_key(l.id, r.id));
    if (it == s.merges.end()) return;
    queue.push({it->second.rank, left, l.id, r.id, it->second.result});
  };
  for (std::size_t i = 0; i + 1 < symbols.size(); ++i) consider(static_cast<int>(i));

  while (!queue.empty()) {
    const candidate c = queue.top();
    queue.pop();
    symbol& l = symbols[static_cast<std::size_t>(c.left)];
    // Stale when either side has been merged since the candidate was queued.
    if (l.id != c.left_id || l.next < 0) continue;
    symbol& r = symbols[static_cast<std::size_t>(l.next)];
    if (r.id != c.right_id) continue;
    l.id = c.result;
    r.id = no_token;
    l.next = r.next;
    if (r.next >= 0) symbols[static_cast<std::size_t>(r.next)].prev = c.left;
    consider(l.prev);
    consider(c.left);
  }

  for (int i = symbols.empty() ? -1 : 0; i >= 0; i = symbols[static_cast<std::size_t>(i)].next) {
    const token_id id = symbols[static_cast<std::size_t>(i)].id;
    if (id != no_token) {
      out.push_back(id);
    } else if (v.unk_id != no_token) {
      out.push_back(v.unk_id);  // a byte the vocabulary has no character for
    }
  }
}

}  // namespace

void encode_bpe(const tokenizer_state& s, std::string_view text, std::vector<token_id>& out) {
  std::string normalized;
  if (s.v.normalize_nfc) {
    normalized = nfc(text);
    text = normalized;
  }
  std::vector<std::string_view> words;
  s.regex->split(text, words);
  std::vector<token_id> ids;
  for (const std::string_view word : words) {
    const bool cacheable = word.size() <= bpe_cache::max_word_bytes;
    if (cacheable && s.cache->find(word, out)) continue;
    ids.clear();
    merge_word(s, word, ids);
    if (cacheable) s.cache->insert(word, ids);
    out.insert(out.end(), ids.begin(), ids.end());
  }
}

}  // namespace huashan::engine::detail
