// SentencePiece-style tokenization as llama.cpp does it for "llama" vocabs:
// start from single UTF-8 characters, repeatedly merge the adjacent pair whose
// merged text is a token with the highest score (ties: leftmost pair), then
// emit each final piece's id, or its bytes as <0xXX> tokens when the piece is
// not in the vocabulary (byte fallback; the unknown token when a byte token is
// missing too). Spaces are written "▁" and, with add_space_prefix, one "▁" is
// put in front of the text at the start and after every special token.
#include <cstdio>
#include <queue>
#include <vector>

#include "harness/engine/tokenizer_impl.hpp"
#include "harness/engine/unicode.hpp"

namespace huashan::engine::detail {

namespace {

constexpr std::string_view spm_space = "\xE2\x96\x81";  // U+2581 "▁"

// A piece of the text; pieces form a doubly linked list in text order and a
// merged-away piece keeps len 0.
struct spm_symbol {
  int prev;
  int next;
  std::size_t start;  // byte offset into the escaped text
  std::size_t len;
};

struct spm_bigram {
  int left;
  int right;
  float score;
  std::size_t len;  // bytes of the merged text; a stale entry no longer matches
};

// Max-heap order: higher score first, then the leftmost pair.
struct spm_bigram_order {
  bool operator()(const spm_bigram& a, const spm_bigram& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

}  // namespace

void init_spm(tokenizer_state& s) {
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    const auto it = s.by_text.find(std::string_view(name));
    s.byte_tokens[static_cast<std::size_t>(b)] = it == s.by_text.end() ? no_token : it->second;
  }
}

void encode_spm(const tokenizer_state& s, std::string_view text, bool after_special,
                std::vector<token_id>& out) {
  const vocab& v = s.v;
  std::string str;
  str.reserve(text.size() + 8);
  if (v.add_space_prefix && after_special) str.append(spm_space);
  for (const char c : text) {
    if (c == ' ') {
      str.append(spm_space);
    } else {
      str.push_back(c);
    }
  }

  std::vector<spm_symbol> symbols;
  symbols.reserve(str.size());
  for (std::size_t offset = 0; offset < str.size();) {
    std::size_t len = utf8_valid_prefix(std::string_view(str).substr(offset));
    if (len == 0) len = 1;  // an invalid byte is a piece of its own
    const int index = static_cast<int>(symbols.size());
    symbols.push_back({index - 1, offset + len < str.size() ? index + 1 : -1, offset, len});
    offset += len;
  }

  std::priority_queue<spm_bigram, std::vector<spm_bigram>, spm_bigram_order> queue;
  auto try_add_bigram = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    const spm_symbol& l = symbols[static_cast<std::size_t>(left)];
    const spm_symbol& r = symbols[static_cast<std::size_t>(right)];
    const std::size_t len = l.len + r.len;
    const auto it = s.by_text.find(std::string_view(str).substr(l.start, len));
    if (it == s.by_text.end()) return;
    queue.push({left, right, v.scores[static_cast<std::size_t>(it->second)], len});
  };
  for (std::size_t i = 1; i < symbols.size(); ++i) {
    try_add_bigram(static_cast<int>(i - 1), static_cast<int>(i));
  }

  while (!queue.empty()) {
    const spm_bigram top = queue.top();
    queue.pop();
    spm_symbol& l = symbols[static_cast<std::size_t>(top.left)];
    spm_symbol& r = symbols[static_cast<std::size_t>(top.right)];
    // Skip pairs one of whose sides has changed since the pair was queued.
    if (l.len == 0 || r.len == 0 || l.len + r.len != top.len) continue;
    l.len += r.len;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) symbols[static_cast<std::size_t>(r.next)].prev = top.left;
    try_add_bigram(l.prev, top.left);
    try_add_bigram(top.left, l.next);
  }

  for (int i = symbols.empty() ? -1 : 0; i >= 0; i = symbols[static_cast<std::size_t>(i)].next) {
    const spm_symbol& sym = symbols[static_cast<std::size_t>(i)];
    const std::string_view piece = std::string_view(str).substr(sym.start, sym.len);
    const auto it = s.by_text.find(piece);
    if (it != s.by_text.end()) {
      out.push_back(it->second);
      continue;
    }
    for (const char c : piece) {
      const token_id byte_id = s.byte_tokens[static_cast<unsigned char>(c)];
      if (byte_id != no_token) {
        out.push_back(byte_id);
      } else if (v.unk_id != no_token) {
        out.push_back(v.unk_id);
      }
      // else: a vocab without byte tokens or <unk> cannot represent the byte; it is dropped.
    }
  }
}

}  // namespace huashan::engine::detail
