// What the arena measures in an answer: LMArena's markdown style counts (for
// style control) and whether the answer names its own model or maker (such
// battles are flagged and left out of the rankings).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace huashan::arena {

struct markdown_counts {
  int headers = 0;     // lines opening with 1-6 '#' then a space
  int list_items = 0;  // lines opening with "- ", "* ", "+ " or "N. " (after indentation)
  int bold = 0;        // **spans** and __spans__
};

// Counts markdown elements outside fenced code blocks (``` ... ```), as
// LMArena's style features do.
markdown_counts count_markdown(std::string_view text);

// An answer's style features as stored with its battle, in LMArena's order:
// answer tokens, headers, list items, bold spans.
using style_vector = std::array<std::int32_t, 4>;

// The style features of one answer: its length in tokens (`completion_tokens`
// when the backend counted them, else bytes / 4) and its markdown counts.
style_vector answer_style(std::string_view text, int completion_tokens);

// The first word of `identity_words` that `answer` contains as a whole word,
// ignoring ASCII case (e.g. "Qwen" in "I am Qwen, made by Alibaba"); nullopt
// when none does. Empty words are ignored.
std::optional<std::string> find_identity_word(std::string_view answer, const std::vector<std::string>& identity_words);

}  // namespace huashan::arena
