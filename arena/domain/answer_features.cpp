#include "arena/domain/answer_features.hpp"

#include <cctype>

namespace huashan::arena {
namespace {

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

std::string_view trim_left(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

bool is_header(std::string_view line) {
  std::size_t hashes = 0;
  while (hashes < line.size() && line[hashes] == '#') ++hashes;
  return hashes >= 1 && hashes <= 6 && hashes < line.size() && (line[hashes] == ' ' || line[hashes] == '\t');
}

bool is_list_item(std::string_view line) {
  line = trim_left(line);
  if (line.size() >= 2 && (line[0] == '-' || line[0] == '*' || line[0] == '+') && line[1] == ' ') return true;
  std::size_t digits = 0;
  while (digits < line.size() && std::isdigit(static_cast<unsigned char>(line[digits]))) ++digits;
  return digits > 0 && digits + 1 < line.size() && line[digits] == '.' && line[digits + 1] == ' ';
}

// Non-empty spans delimited by `marker` on both sides.
int count_spans(std::string_view line, std::string_view marker) {
  int spans = 0;
  std::size_t pos = 0;
  while (true) {
    const auto open = line.find(marker, pos);
    if (open == std::string_view::npos) break;
    const auto close = line.find(marker, open + marker.size());
    if (close == std::string_view::npos) break;
    if (close > open + marker.size()) ++spans;
    pos = close + marker.size();
  }
  return spans;
}

bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

}  // namespace

markdown_counts count_markdown(std::string_view text) {
  markdown_counts counts;
  bool in_code = false;
  while (!text.empty()) {
    const auto newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    if (starts_with(trim_left(line), "```")) {
      in_code = !in_code;
      continue;
    }
    if (in_code) continue;
    if (is_header(line)) ++counts.headers;
    if (is_list_item(line)) ++counts.list_items;
    counts.bold += count_spans(line, "**") + count_spans(line, "__");
  }
  return counts;
}

style_vector answer_style(std::string_view text, int completion_tokens) {
  const auto md = count_markdown(text);
  const int tokens = completion_tokens > 0 ? completion_tokens : static_cast<int>(text.size() / 4);
  return {tokens, md.headers, md.list_items, md.bold};
}

std::optional<std::string> find_identity_word(std::string_view answer, const std::vector<std::string>& identity_words) {
  std::string lower(answer);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& word : identity_words) {
    if (word.empty()) continue;
    std::string needle(word);
    for (auto& c : needle) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (auto pos = lower.find(needle); pos != std::string::npos; pos = lower.find(needle, pos + 1)) {
      const bool left_ok = pos == 0 || !word_char(lower[pos - 1]) || !word_char(needle.front());
      const auto end = pos + needle.size();
      const bool right_ok = end == lower.size() || !word_char(lower[end]) || !word_char(needle.back());
      if (left_ok && right_ok) return word;
    }
  }
  return std::nullopt;
}

}  // namespace huashan::arena
