#include "ranking/battle.hpp"

#include <algorithm>
#include <numeric>

#include <fmt/format.h>

#include "common/error.hpp"

namespace huashan::ranking {

std::optional<outcome> parse_outcome(std::string_view winner) {
  if (winner == "model_a") return outcome::model_a;
  if (winner == "model_b") return outcome::model_b;
  if (winner == "tie") return outcome::tie;
  if (winner == "tie (bothbad)") return outcome::tie_bothbad;
  return std::nullopt;
}

std::string_view outcome_name(outcome o) {
  switch (o) {
    case outcome::model_a: return "model_a";
    case outcome::model_b: return "model_b";
    case outcome::tie: return "tie";
    case outcome::tie_bothbad: return "tie (bothbad)";
  }
  return "?";
}

double score_a(outcome o) {
  switch (o) {
    case outcome::model_a: return 1.0;
    case outcome::model_b: return 0.0;
    case outcome::tie:
    case outcome::tie_bothbad: return 0.5;
  }
  return 0.5;
}

outcome swapped(outcome o) {
  if (o == outcome::model_a) return outcome::model_b;
  if (o == outcome::model_b) return outcome::model_a;
  return o;
}

std::uint32_t name_table::intern(std::string_view name) {
  if (auto it = index_.find(name); it != index_.end()) return it->second;
  const auto id = static_cast<std::uint32_t>(names_.size());
  names_.emplace_back(name);
  index_.emplace(std::string(name), id);
  return id;
}

std::optional<std::uint32_t> name_table::find(std::string_view name) const {
  if (auto it = index_.find(name); it != index_.end()) return it->second;
  return std::nullopt;
}

namespace {

// Decodes one UTF-8 code point at s[i], advancing i; returns 0xFFFD on a bad byte.
char32_t next_code_point(std::string_view s, std::size_t& i) {
  const auto c0 = static_cast<unsigned char>(s[i++]);
  if (c0 < 0x80) return c0;
  int extra = c0 >= 0xF0 ? 3 : c0 >= 0xE0 ? 2 : c0 >= 0xC0 ? 1 : -1;
  if (extra < 0) return 0xFFFD;
  char32_t cp = c0 & (0x3F >> extra);
  for (int k = 0; k < extra; ++k) {
    if (i >= s.size()) return 0xFFFD;
    const auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80) return 0xFFFD;
    cp = (cp << 6) | (c & 0x3F);
    ++i;
  }
  return cp;
}

bool is_han(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0xF900 && c <= 0xFAFF) ||
         (c >= 0x20000 && c <= 0x2FFFF);
}

// Letters of any script, roughly: ASCII letters, and non-ASCII code points
// outside the symbol / punctuation / space blocks.
bool is_letter(char32_t c) {
  if (c < 0x80) return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
  if (c == 0xFFFD || c < 0xC0) return false;
  if (c >= 0x2000 && c <= 0x2BFF) return false;  // punctuation, arrows, math, box drawing
  if (c >= 0x3000 && c <= 0x303F) return false;  // CJK punctuation
  if (c >= 0xFF00 && c <= 0xFF0F) return false;  // fullwidth punctuation
  if (c >= 0x1F000) return c >= 0x20000 && c <= 0x3FFFF;  // emoji out, Han extensions in
  return true;
}

}  // namespace

script_language detect_language(std::string_view text) {
  std::size_t letters = 0, han = 0, latin = 0;
  for (std::size_t i = 0; i < text.size();) {
    const char32_t c = next_code_point(text, i);
    if (!is_letter(c)) continue;
    ++letters;
    if (is_han(c)) ++han;
    else if (c < 0x80) ++latin;
  }
  if (letters == 0) return script_language::other;
  if (han * 5 >= letters) return script_language::chinese;
  if (latin * 5 >= letters * 4) return script_language::english;
  return script_language::other;
}

std::string_view language_name(script_language lang) {
  switch (lang) {
    case script_language::chinese: return "Chinese";
    case script_language::english: return "English";
    case script_language::other: return "other";
  }
  return "other";
}

void battle_table::add(std::string_view a, std::string_view b, outcome w, std::uint32_t source_line) {
  if (a == b)
    throw input_error(fmt::format("line {}: model_a and model_b are the same model '{}'", source_line, a));
  model_a.push_back(models.intern(a));
  model_b.push_back(models.intern(b));
  winner.push_back(w);
  line.push_back(source_line);
}

std::vector<std::uint64_t> battle_table::votes_per_model() const {
  std::vector<std::uint64_t> votes(n_models(), 0);
  for (std::size_t i = 0; i < size(); ++i) {
    ++votes[model_a[i]];
    ++votes[model_b[i]];
  }
  return votes;
}

namespace {

// Copies battles in the order `order` gives; with compact_models the model
// dictionary is rebuilt in first-seen order, else kept as is.
battle_table gather(const battle_table& t, const std::vector<std::size_t>& order, bool compact_models) {
  battle_table out;
  if (!compact_models) out.models = t.models;
  out.languages = t.languages;
  out.categories = t.categories;
  out.voters = t.voters;
  const std::size_t n = order.size();
  out.model_a.reserve(n);
  out.model_b.reserve(n);
  out.winner.reserve(n);
  out.line.reserve(n);
  std::vector<std::int64_t> remap(t.n_models(), -1);
  auto map_model = [&](std::uint32_t m) {
    if (remap[m] < 0) remap[m] = compact_models ? out.models.intern(t.models.name(m)) : m;
    return static_cast<std::uint32_t>(remap[m]);
  };
  if (t.has_categories()) out.category_begin.push_back(0);
  for (const std::size_t i : order) {
    out.model_a.push_back(map_model(t.model_a[i]));
    out.model_b.push_back(map_model(t.model_b[i]));
    out.winner.push_back(t.winner[i]);
    out.line.push_back(t.line[i]);
    if (!t.tstamp.empty()) out.tstamp.push_back(t.tstamp[i]);
    if (t.has_language()) out.language.push_back(t.language[i]);
    if (!t.voter.empty()) out.voter.push_back(t.voter[i]);
    if (t.has_style()) out.style.push_back(t.style[i]);
    if (t.has_sampling_probability()) out.sampling_probability.push_back(t.sampling_probability[i]);
    if (t.has_categories()) {
      for (auto k = t.category_begin[i]; k < t.category_begin[i + 1]; ++k) out.category_ids.push_back(t.category_ids[k]);
      out.category_begin.push_back(static_cast<std::uint32_t>(out.category_ids.size()));
    }
  }
  return out;
}

}  // namespace

battle_table battle_table::subset(const std::vector<bool>& keep) const {
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < size(); ++i)
    if (keep[i]) order.push_back(i);
  return gather(*this, order, true);
}

battle_table battle_table::chronological() const {
  std::vector<std::size_t> order(size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  if (!tstamp.empty())
    std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return tstamp[x] < tstamp[y]; });
  return gather(*this, order, false);
}

}  // namespace huashan::ranking
