// CSV and JSONL battle readers. The CSV path is the hot one (5M rows): one
// pass over the buffer, fields as string_views into it (a scratch copy only for
// quoted fields with doubled quotes), models interned through a hash map.
#include "ranking/battle_reader.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <deque>
#include <limits>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "common/error.hpp"
#include "common/huge_pages.hpp"

namespace huashan::ranking {

namespace {

constexpr std::size_t max_tags = std::numeric_limits<std::uint16_t>::max();

[[noreturn]] void fail(std::string_view source, std::uint32_t line, std::string_view what) {
  throw input_error(fmt::format("{} line {}: {}", source, line, what));
}

// Parses a non-negative count; accepts "12" and "12.0" (pandas writes floats).
std::optional<std::uint32_t> parse_count(std::string_view s) {
  std::uint32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc{} && p == s.data() + s.size()) return v;
  double d = 0;
  auto [q, ec2] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (ec2 != std::errc{} || q != s.data() + s.size() || !(d >= 0) || d > 4e9 || d != std::floor(d)) return std::nullopt;
  return static_cast<std::uint32_t>(d);
}

std::optional<double> parse_double(std::string_view s) {
  double d = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (ec != std::errc{} || p != s.data() + s.size() || !std::isfinite(d)) return std::nullopt;
  return d;
}

std::uint16_t intern16(name_table& table, std::string_view name, std::string_view source, std::uint32_t line,
                       std::string_view field) {
  const auto id = table.intern(name);
  if (id >= max_tags) fail(source, line, fmt::format("field '{}': more than {} distinct values", field, max_tags));
  return static_cast<std::uint16_t>(id);
}

// Adds '|'-separated tags of one battle; empty tags are skipped.
void add_tags(battle_table& t, std::string_view tags, std::string_view source, std::uint32_t line) {
  while (!tags.empty()) {
    const auto bar = tags.find('|');
    const auto tag = tags.substr(0, bar);
    if (!tag.empty()) t.category_ids.push_back(intern16(t.categories, tag, source, line, "category"));
    if (bar == std::string_view::npos) break;
    tags.remove_prefix(bar + 1);
  }
  t.category_begin.push_back(static_cast<std::uint32_t>(t.category_ids.size()));
}

// Winner spelled either LMArena's way or evalica's (left|right|tie).
std::optional<outcome> parse_winner(std::string_view w, bool evalica) {
  if (evalica) {
    if (w == "left") return outcome::model_a;
    if (w == "right") return outcome::model_b;
    if (w == "tie") return outcome::tie;
    return std::nullopt;
  }
  return parse_outcome(w);
}

// ------------------------------------------------------------------ CSV

// Splits RFC 4180 records. Line numbers are physical lines (1-based) where a
// record starts; quoted fields may span lines.
class csv_records {
 public:
  csv_records(std::string_view text, std::string_view source) : text_(text), source_(source) {
    if (text_.size() >= 3 && text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;  // UTF-8 BOM
  }

  // Fills `fields` with the next record; false at the end. Blank lines are skipped.
  bool next(std::vector<std::string_view>& fields) {
    const char* const data = text_.data();
    const std::size_t n = text_.size();
    while (pos_ < n && (data[pos_] == '\n' || data[pos_] == '\r')) {
      if (data[pos_] == '\n') ++line_;
      ++pos_;
    }
    if (pos_ >= n) return false;
    record_line_ = line_;
    fields.clear();
    std::size_t n_scratch = 0;
    for (;;) {
      if (pos_ < n && data[pos_] == '"') {
        fields.push_back(quoted(n_scratch));
      } else {
        const std::size_t start = pos_;
        while (pos_ < n) {
          const char c = data[pos_];
          if (c == ',' || c == '\n' || c == '\r') break;
          ++pos_;
        }
        fields.emplace_back(data + start, pos_ - start);
      }
      if (pos_ >= n) return true;
      const char c = data[pos_];
      if (c == ',') {
        ++pos_;
        continue;
      }
      if (c == '\r') {
        ++pos_;
        if (pos_ < n && data[pos_] == '\n') ++pos_;
      } else {
        ++pos_;
      }
      ++line_;
      return true;
    }
  }
  std::uint32_t line() const { return record_line_; }
  // Where the next record starts.
  std::size_t position() const { return pos_; }

 private:
  // Reads a quoted field starting at the opening quote; leaves pos_ after the closing one.
  std::string_view quoted(std::size_t& n_scratch) {
    const char* const data = text_.data();
    const std::size_t n = text_.size();
    const std::uint32_t start_line = line_;
    ++pos_;
    const std::size_t start = pos_;
    bool escaped = false;
    for (;;) {
      if (pos_ >= n) fail(source_, start_line, "unterminated quoted field");
      const char c = data[pos_];
      if (c == '"') {
        if (pos_ + 1 < n && data[pos_ + 1] == '"') {
          escaped = true;
          pos_ += 2;
          continue;
        }
        break;
      }
      if (c == '\n') ++line_;
      ++pos_;
    }
    std::string_view raw(data + start, pos_ - start);
    ++pos_;  // closing quote
    if (pos_ < n && data[pos_] != ',' && data[pos_] != '\n' && data[pos_] != '\r')
      fail(source_, start_line, "unexpected character after a closing quote");
    if (!escaped) return raw;
    if (scratch_.size() <= n_scratch) scratch_.emplace_back();
    std::string& out = scratch_[n_scratch++];
    out.clear();
    for (std::size_t i = 0; i < raw.size(); ++i) {
      out.push_back(raw[i]);
      if (raw[i] == '"') ++i;  // skip the second quote of a pair
    }
    return out;
  }

  std::string_view text_;
  std::string_view source_;
  std::size_t pos_ = 0;
  std::uint32_t line_ = 1;
  std::uint32_t record_line_ = 1;
  std::deque<std::string> scratch_;  // deque: growth never moves earlier strings
};

constexpr std::array<std::string_view, 8> style_columns = {"len_a",  "len_b",  "header_a", "header_b",
                                                           "list_a", "list_b", "bold_a",   "bold_b"};

void require_battles(const battle_table& t, std::string_view source) {
  if (t.size() == 0) throw input_error(fmt::format("{}: no battles (the file is empty or has only a header)", source));
}

}  // namespace

namespace {

constexpr std::size_t absent_column = std::numeric_limits<std::size_t>::max();

// Where each known column sits, from the header record.
struct csv_layout {
  std::size_t n_cols = 0;
  std::size_t a = absent_column, b = absent_column, winner = absent_column, tstamp = absent_column,
              language = absent_column, category = absent_column, prompt = absent_column, voter = absent_column,
              probability = absent_column;
  std::array<std::size_t, 8> style;
  std::size_t n_style = 0;
  bool evalica = false;  // left,right,winner columns
  bool detect = false;   // language detected from the prompt
};

csv_layout read_header(const std::vector<std::string_view>& fields, std::string_view source) {
  csv_layout l;
  l.style.fill(absent_column);
  for (std::size_t k = 0; k < fields.size(); ++k) {
    const auto h = fields[k];
    if (h == "model_a") l.a = k;
    else if (h == "model_b") l.b = k;
    else if (h == "winner") l.winner = k;
    else if (h == "tstamp") l.tstamp = k;
    else if (h == "language") l.language = k;
    else if (h == "category" || h == "categories") l.category = k;
    else if (h == "prompt") l.prompt = k;
    else if (h == "judge" || h == "voter") l.voter = k;
    else if (h == "sampling_probability") l.probability = k;
    for (std::size_t s = 0; s < style_columns.size(); ++s)
      if (h == style_columns[s]) l.style[s] = k;
  }
  if (l.a == absent_column && l.b == absent_column) {
    for (std::size_t k = 0; k < fields.size(); ++k) {
      if (fields[k] == "left") l.a = k;
      if (fields[k] == "right") l.b = k;
    }
    l.evalica = l.a != absent_column && l.b != absent_column;
  }
  for (auto [col, name] : {std::pair{l.a, "model_a"}, std::pair{l.b, "model_b"}, std::pair{l.winner, "winner"}})
    if (col == absent_column) fail(source, 1, fmt::format("missing required column '{}'", name));
  for (auto c : l.style) l.n_style += c != absent_column;
  if (l.n_style != 0 && l.n_style != l.style.size())
    fail(source, 1, "style columns need all of len_a,len_b,header_a,header_b,list_a,list_b,bold_a,bold_b");
  l.n_cols = fields.size();
  l.detect = l.language == absent_column && l.prompt != absent_column;
  return l;
}

// Reads every remaining record into t, whose columns are reserved for ~`rows`.
void read_rows(csv_records& records, const csv_layout& l, std::string_view source, std::size_t rows,
               battle_table& t) {
  t.model_a.reserve(rows);
  t.model_b.reserve(rows);
  t.winner.reserve(rows);
  t.line.reserve(rows);
  if (l.tstamp != absent_column) t.tstamp.reserve(rows);
  if (l.language != absent_column || l.detect) t.language.reserve(rows);
  if (l.category != absent_column) {
    t.category_begin.reserve(rows + 1);
    t.category_ids.reserve(rows);
    t.category_begin.push_back(0);
  }
  if (l.voter != absent_column) t.voter.reserve(rows);
  if (l.probability != absent_column) t.sampling_probability.reserve(rows);
  if (l.n_style != 0) t.style.reserve(rows);
  advise_huge_pages_for(t.model_a);
  advise_huge_pages_for(t.model_b);
  advise_huge_pages_for(t.winner);
  advise_huge_pages_for(t.line);
  advise_huge_pages_for(t.tstamp);
  advise_huge_pages_for(t.language);
  advise_huge_pages_for(t.category_begin);
  advise_huge_pages_for(t.category_ids);
  advise_huge_pages_for(t.voter);
  advise_huge_pages_for(t.sampling_probability);
  advise_huge_pages_for(t.style);
  std::vector<std::string_view> fields;
  fields.reserve(32);
  while (records.next(fields)) {
    const auto line = records.line();
    if (fields.size() != l.n_cols)
      fail(source, line, fmt::format("{} fields, the header has {}", fields.size(), l.n_cols));
    const auto w = parse_winner(fields[l.winner], l.evalica);
    if (!w)
      fail(source, line,
           fmt::format("field 'winner': expected {}, got '{}'",
                       l.evalica ? "left|right|tie" : "model_a|model_b|tie|tie (bothbad)", fields[l.winner]));
    if (fields[l.a].empty()) fail(source, line, l.evalica ? "field 'left' is empty" : "field 'model_a' is empty");
    if (fields[l.b].empty()) fail(source, line, l.evalica ? "field 'right' is empty" : "field 'model_b' is empty");
    if (fields[l.a] == fields[l.b])
      fail(source, line, fmt::format("model_a and model_b are the same model '{}'", fields[l.a]));
    t.add(fields[l.a], fields[l.b], *w, line);
    if (l.tstamp != absent_column) {
      const auto ts = parse_double(fields[l.tstamp]);
      if (!ts) fail(source, line, fmt::format("field 'tstamp': expected a number, got '{}'", fields[l.tstamp]));
      t.tstamp.push_back(*ts);
    }
    if (l.language != absent_column)
      t.language.push_back(intern16(t.languages, fields[l.language], source, line, "language"));
    if (l.detect)
      t.language.push_back(
          intern16(t.languages, language_name(detect_language(fields[l.prompt])), source, line, "prompt"));
    if (l.category != absent_column) add_tags(t, fields[l.category], source, line);
    if (l.voter != absent_column) t.voter.push_back(t.voters.intern(fields[l.voter]));
    if (l.probability != absent_column) {
      const auto p = parse_double(fields[l.probability]);
      if (!p || !(*p > 0 && *p <= 1))
        fail(source, line,
             fmt::format("field 'sampling_probability': expected a number in (0, 1], got '{}'", fields[l.probability]));
      t.sampling_probability.push_back(*p);
    }
    if (l.n_style != 0) {
      style_counts sc;
      for (std::size_t s = 0; s < style_columns.size(); ++s) {
        const auto v = parse_count(fields[l.style[s]]);
        if (!v)
          fail(source, line,
               fmt::format("field '{}': expected a non-negative integer, got '{}'", style_columns[s], fields[l.style[s]]));
        (s % 2 == 0 ? sc.a : sc.b)[s / 2] = *v;
      }
      t.style.push_back(sc);
    }
  }
}

}  // namespace

battle_table read_battles_csv(std::string_view text, std::string_view source) {
  csv_records records(text, source);
  std::vector<std::string_view> fields;
  if (!records.next(fields)) throw input_error(fmt::format("{}: empty file (expected a header line)", source));
  const csv_layout layout = read_header(fields, source);
  // A row estimate from the header's length: the header names every field
  // once, and a row holds about as many bytes (LMArena's files run ~1–2×).
  const std::size_t header_bytes = std::max<std::size_t>(records.position(), 24);
  battle_table t;
  read_rows(records, layout, source, (text.size() - records.position()) / header_bytes * 3 / 2 + 16, t);
  require_battles(t, source);
  return t;
}

// ------------------------------------------------------------------ JSONL

namespace {

namespace json = boost::json;

std::string_view string_field(const json::object& o, std::string_view key, std::string_view source,
                              std::uint32_t line, bool required) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) {
    if (required) fail(source, line, fmt::format("missing field '{}'", key));
    return {};
  }
  if (!v->is_string()) fail(source, line, fmt::format("field '{}': expected a string", key));
  return v->get_string();
}

std::optional<double> number_of(const json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  if (v.is_double()) return v.get_double();
  return std::nullopt;
}

// A count: a number, or an object whose numeric values are summed (LMArena's
// header_count_a = {h1: .., h2: ..}).
std::optional<std::uint32_t> count_of(const json::value& v) {
  double total = 0;
  if (auto d = number_of(v)) {
    total = *d;
  } else if (v.is_object()) {
    for (const auto& kv : v.get_object()) {
      auto d2 = number_of(kv.value());
      if (!d2) return std::nullopt;
      total += *d2;
    }
  } else {
    return std::nullopt;
  }
  if (!(total >= 0) || total > 4e9 || total != std::floor(total)) return std::nullopt;
  return static_cast<std::uint32_t>(total);
}

// Style counts from flat keys (len_a, ...) or conv_metadata; nullopt when absent.
std::optional<style_counts> style_of(const json::object& o, std::string_view source, std::uint32_t line) {
  static constexpr std::array<std::string_view, 8> meta_keys = {
      "sum_assistant_a_tokens", "sum_assistant_b_tokens", "header_count_a", "header_count_b",
      "list_count_a",           "list_count_b",           "bold_count_a",   "bold_count_b"};
  const json::object* holder = &o;
  const auto* keys = &style_columns;
  if (const auto* meta = o.if_contains("conv_metadata"); meta != nullptr && meta->is_object()) {
    holder = &meta->get_object();
    keys = &meta_keys;
  } else if (!o.contains("len_a")) {
    return std::nullopt;
  }
  style_counts sc;
  for (std::size_t s = 0; s < keys->size(); ++s) {
    const auto* v = holder->if_contains((*keys)[s]);
    if (v == nullptr) fail(source, line, fmt::format("missing style field '{}'", (*keys)[s]));
    const auto c = count_of(*v);
    if (!c) fail(source, line, fmt::format("field '{}': expected a non-negative integer count", (*keys)[s]));
    (s % 2 == 0 ? sc.a : sc.b)[s / 2] = *c;
  }
  return sc;
}

// First user turn: `prompt`, else conversation_a[0].content.
std::string_view prompt_of(const json::object& o) {
  if (const auto* p = o.if_contains("prompt"); p != nullptr && p->is_string()) return p->get_string();
  if (const auto* c = o.if_contains("conversation_a"); c != nullptr && c->is_array() && !c->get_array().empty()) {
    const auto& turn = c->get_array().front();
    if (turn.is_object())
      if (const auto* content = turn.get_object().if_contains("content"); content != nullptr && content->is_string())
        return content->get_string();
  }
  return {};
}

}  // namespace

battle_table read_battles_jsonl(std::string_view text, std::string_view source) {
  battle_table t;
  std::uint32_t line_no = 0;
  // Column presence is decided by the first battle; later battles must agree.
  bool first = true, has_ts = false, has_lang = false, has_cat = false, has_voter = false, has_style = false,
       has_prob = false, detect = false;
  json::monotonic_resource mr;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    auto line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    boost::system::error_code ec;
    mr.release();
    const json::value v = json::parse(line, ec, &mr);
    if (ec) fail(source, line_no, fmt::format("invalid JSON: {}", ec.message()));
    if (!v.is_object()) fail(source, line_no, "expected a JSON object");
    const auto& o = v.get_object();
    const auto a = string_field(o, "model_a", source, line_no, true);
    const auto b = string_field(o, "model_b", source, line_no, true);
    const auto wtext = string_field(o, "winner", source, line_no, true);
    const auto w = parse_outcome(wtext);
    if (!w) fail(source, line_no, fmt::format("field 'winner': expected model_a|model_b|tie|tie (bothbad), got '{}'", wtext));
    if (a.empty()) fail(source, line_no, "field 'model_a' is empty");
    if (b.empty()) fail(source, line_no, "field 'model_b' is empty");
    if (a == b) fail(source, line_no, fmt::format("model_a and model_b are the same model '{}'", a));
    const auto style = style_of(o, source, line_no);
    if (first) {
      has_ts = o.contains("tstamp");
      has_lang = o.contains("language");
      has_cat = o.contains("category") || o.contains("categories");
      has_voter = o.contains("judge") || o.contains("voter");
      has_prob = o.contains("sampling_probability");
      has_style = style.has_value();
      detect = !has_lang && !prompt_of(o).empty();
      if (has_cat) t.category_begin.push_back(0);
      first = false;
    }
    t.add(a, b, *w, line_no);
    if (has_ts) {
      const auto* ts = o.if_contains("tstamp");
      const auto d = ts ? number_of(*ts) : std::nullopt;
      if (!d) fail(source, line_no, "field 'tstamp': expected a number");
      t.tstamp.push_back(*d);
    }
    if (has_prob) {
      const auto* p = o.if_contains("sampling_probability");
      const auto d = p ? number_of(*p) : std::nullopt;
      if (!d || !(*d > 0 && *d <= 1)) fail(source, line_no, "field 'sampling_probability': expected a number in (0, 1]");
      t.sampling_probability.push_back(*d);
    }
    if (has_lang) t.language.push_back(intern16(t.languages, string_field(o, "language", source, line_no, true), source, line_no, "language"));
    if (detect) t.language.push_back(intern16(t.languages, language_name(detect_language(prompt_of(o))), source, line_no, "prompt"));
    if (has_cat) {
      const auto* c = o.if_contains("categories");
      if (c == nullptr) c = o.if_contains("category");
      if (c == nullptr || c->is_null()) {
        add_tags(t, {}, source, line_no);
      } else if (c->is_string()) {
        add_tags(t, c->get_string(), source, line_no);
      } else if (c->is_array()) {
        for (const auto& tag : c->get_array()) {
          if (!tag.is_string()) fail(source, line_no, "field 'categories': expected strings");
          t.category_ids.push_back(intern16(t.categories, tag.get_string(), source, line_no, "categories"));
        }
        t.category_begin.push_back(static_cast<std::uint32_t>(t.category_ids.size()));
      } else {
        fail(source, line_no, "field 'categories': expected a string or an array of strings");
      }
    }
    if (has_voter) {
      auto voter = string_field(o, "judge", source, line_no, false);
      if (voter.empty()) voter = string_field(o, "voter", source, line_no, false);
      t.voter.push_back(t.voters.intern(voter));
    }
    if (has_style) {
      if (!style) fail(source, line_no, "missing style fields (earlier battles have them)");
      t.style.push_back(*style);
    }
  }
  require_battles(t, source);
  return t;
}

battle_table read_battles(std::string_view text, std::string_view source) {
  const auto ends_with = [&](std::string_view suffix) {
    return source.size() >= suffix.size() && source.substr(source.size() - suffix.size()) == suffix;
  };
  if (ends_with(".jsonl") || ends_with(".json") || ends_with(".ndjson")) return read_battles_jsonl(text, source);
  return read_battles_csv(text, source);
}

}  // namespace huashan::ranking
