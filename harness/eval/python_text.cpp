#include "harness/eval/python_text.hpp"

#include <boost/json/parse.hpp>
#include <fmt/format.h>
#include <utf8proc.h>

#include <charconv>
#include <cstdint>
#include <cmath>
#include <cstdio>

#include "common/error.hpp"
#include "common/utf8.hpp"

namespace huashan::harness::eval {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

class literal_parser {
 public:
  explicit literal_parser(std::string_view text) : s_(text) {}

  std::optional<boost::json::array> parse_list(std::string& why) {
    skip_space();
    if (at_end() || (s_[pos_] != '[' && s_[pos_] != '(')) {
      why = "not a list literal (expected '[' at the start)";
      return std::nullopt;
    }
    const char close = s_[pos_] == '[' ? ']' : ')';
    ++pos_;
    boost::json::array items;
    for (;;) {
      skip_space();
      if (at_end()) {
        why = fmt::format("unterminated list (expected '{}')", close);
        return std::nullopt;
      }
      if (s_[pos_] == close) {
        ++pos_;
        break;
      }
      auto item = parse_item(why);
      if (!item) return std::nullopt;
      items.push_back(std::move(*item));
      skip_space();
      if (!at_end() && s_[pos_] == ',') {
        ++pos_;
      } else if (at_end() || s_[pos_] != close) {
        why = fmt::format("expected ',' or '{}' at offset {}", close, pos_);
        return std::nullopt;
      }
    }
    skip_space();
    if (!at_end()) {
      why = fmt::format("unexpected text after the list at offset {}", pos_);
      return std::nullopt;
    }
    return items;
  }

 private:
  bool at_end() const { return pos_ >= s_.size(); }
  void skip_space() {
    while (!at_end() && is_space(s_[pos_])) ++pos_;
  }

  std::optional<boost::json::value> parse_item(std::string& why) {
    const char c = s_[pos_];
    if (c == '\'' || c == '"') {
      // Adjacent literals concatenate, as in Python source.
      std::string out;
      while (!at_end() && (s_[pos_] == '\'' || s_[pos_] == '"')) {
        if (!parse_string(out, why)) return std::nullopt;
        skip_space();
      }
      return boost::json::value(out);
    }
    const std::size_t start = pos_;
    while (!at_end() && !is_space(s_[pos_]) && s_[pos_] != ',' && s_[pos_] != ']' && s_[pos_] != ')') ++pos_;
    const std::string_view word = s_.substr(start, pos_ - start);
    if (word == "True") return boost::json::value(true);
    if (word == "False") return boost::json::value(false);
    if (word == "None") return boost::json::value(nullptr);
    return parse_number(word, why);
  }

  static std::optional<boost::json::value> parse_number(std::string_view word, std::string& why) {
    std::string_view body = word;
    bool negative = false;
    if (!body.empty() && (body[0] == '-' || body[0] == '+')) {
      negative = body[0] == '-';
      body.remove_prefix(1);
    }
    std::string digits;
    for (char ch : body) {
      if (ch != '_') digits.push_back(ch);
    }
    if (digits.empty()) {
      why = fmt::format("'{}' is not a string or number literal", word);
      return std::nullopt;
    }
    const bool integral = digits.find_first_not_of("0123456789") == std::string::npos;
    if (integral) {
      std::int64_t value = 0;
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
      if (ec != std::errc() || end != digits.data() + digits.size()) {
        why = fmt::format("integer '{}' is out of range", word);
        return std::nullopt;
      }
      return boost::json::value(negative ? -value : value);
    }
    double value = 0.0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc() || end != digits.data() + digits.size()) {
      why = fmt::format("'{}' is not a string or number literal", word);
      return std::nullopt;
    }
    return boost::json::value(negative ? -value : value);
  }

  bool parse_string(std::string& out, std::string& why) {
    const char quote = s_[pos_];
    const bool triple = s_.substr(pos_, 3) == std::string(3, quote);
    pos_ += triple ? 3 : 1;
    for (;;) {
      if (at_end()) {
        why = "unterminated string literal";
        return false;
      }
      const char c = s_[pos_];
      if (c == quote) {
        if (!triple) {
          ++pos_;
          return true;
        }
        if (s_.substr(pos_, 3) == std::string(3, quote)) {
          pos_ += 3;
          return true;
        }
      }
      if (c == '\n' && !triple) {
        why = "newline inside a string literal";
        return false;
      }
      if (c != '\\') {
        out.push_back(c);
        ++pos_;
        continue;
      }
      if (pos_ + 1 >= s_.size()) {
        why = "unterminated string literal";
        return false;
      }
      if (!parse_escape(out, why)) return false;
    }
  }

  bool parse_hex(std::size_t digits, char32_t& cp, std::string& why) {
    if (pos_ + digits > s_.size()) {
      why = "truncated escape in a string literal";
      return false;
    }
    cp = 0;
    for (std::size_t i = 0; i < digits; ++i) {
      const char h = s_[pos_ + i];
      int v = 0;
      if (h >= '0' && h <= '9') v = h - '0';
      else if (h >= 'a' && h <= 'f') v = h - 'a' + 10;
      else if (h >= 'A' && h <= 'F') v = h - 'A' + 10;
      else {
        why = "bad hexadecimal escape in a string literal";
        return false;
      }
      cp = cp * 16 + static_cast<char32_t>(v);
    }
    pos_ += digits;
    return true;
  }

  bool append_code_point(std::string& out, char32_t cp, std::string& why) {
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      why = "escape names no Unicode scalar value";
      return false;
    }
    utf8_append(out, cp);
    return true;
  }

  bool parse_escape(std::string& out, std::string& why) {
    const char e = s_[pos_ + 1];
    pos_ += 2;
    switch (e) {
      case '\n': return true;  // line continuation
      case '\\': out.push_back('\\'); return true;
      case '\'': out.push_back('\''); return true;
      case '"': out.push_back('"'); return true;
      case 'a': out.push_back('\a'); return true;
      case 'b': out.push_back('\b'); return true;
      case 'f': out.push_back('\f'); return true;
      case 'n': out.push_back('\n'); return true;
      case 'r': out.push_back('\r'); return true;
      case 't': out.push_back('\t'); return true;
      case 'v': out.push_back('\v'); return true;
      case 'x': {
        char32_t cp = 0;
        return parse_hex(2, cp, why) && append_code_point(out, cp, why);
      }
      case 'u': {
        char32_t cp = 0;
        return parse_hex(4, cp, why) && append_code_point(out, cp, why);
      }
      case 'U': {
        char32_t cp = 0;
        return parse_hex(8, cp, why) && append_code_point(out, cp, why);
      }
      default:
        break;
    }
    if (e >= '0' && e <= '7') {
      char32_t cp = static_cast<char32_t>(e - '0');
      for (int i = 0; i < 2 && !at_end() && s_[pos_] >= '0' && s_[pos_] <= '7'; ++i) {
        cp = cp * 8 + static_cast<char32_t>(s_[pos_++] - '0');
      }
      return append_code_point(out, cp, why);
    }
    // Python keeps an unknown escape as written.
    out.push_back('\\');
    out.push_back(e);
    return true;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

bool python_printable(char32_t cp) {
  if (cp == ' ') return true;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
    case UTF8PROC_CATEGORY_ZS:
      return false;
    default:
      return true;
  }
}

void append_python_repr(std::string& out, const boost::json::value& v);

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

void append_json_dump(std::string& out, const boost::json::value& v, int indent, int level) {
  // indent < 0: json.dumps' one-line form, items separated by ", ".
  const auto newline_indent = [&out, indent](int depth) {
    if (indent < 0) return;
    out.push_back('\n');
    out.append(static_cast<std::size_t>(depth * indent), ' ');
  };
  const char* item_separator = indent < 0 ? ", " : ",";
  switch (v.kind()) {
    case boost::json::kind::null: out += "null"; return;
    case boost::json::kind::bool_: out += v.get_bool() ? "true" : "false"; return;
    case boost::json::kind::int64: out += std::to_string(v.get_int64()); return;
    case boost::json::kind::uint64: out += std::to_string(v.get_uint64()); return;
    case boost::json::kind::double_: {
      const double d = v.get_double();
      if (std::isnan(d)) out += "NaN";
      else if (std::isinf(d)) out += d > 0 ? "Infinity" : "-Infinity";
      else out += python_float_repr(d);
      return;
    }
    case boost::json::kind::string: append_json_string(out, v.get_string()); return;
    case boost::json::kind::array: {
      const auto& a = v.get_array();
      if (a.empty()) {
        out += "[]";
        return;
      }
      out.push_back('[');
      bool first = true;
      for (const auto& item : a) {
        if (!first) out += item_separator;
        first = false;
        newline_indent(level + 1);
        append_json_dump(out, item, indent, level + 1);
      }
      newline_indent(level);
      out.push_back(']');
      return;
    }
    case boost::json::kind::object: {
      const auto& o = v.get_object();
      if (o.empty()) {
        out += "{}";
        return;
      }
      out.push_back('{');
      bool first = true;
      for (const auto& [key, item] : o) {
        if (!first) out += item_separator;
        first = false;
        newline_indent(level + 1);
        append_json_string(out, key);
        out += ": ";
        append_json_dump(out, item, indent, level + 1);
      }
      newline_indent(level);
      out.push_back('}');
      return;
    }
  }
}

void append_python_str(std::string& out, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null: out += "None"; return;
    case boost::json::kind::bool_: out += v.get_bool() ? "True" : "False"; return;
    case boost::json::kind::int64: out += std::to_string(v.get_int64()); return;
    case boost::json::kind::uint64: out += std::to_string(v.get_uint64()); return;
    case boost::json::kind::double_: out += python_float_repr(v.get_double()); return;
    case boost::json::kind::string: out += v.get_string(); return;
    case boost::json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& item : v.get_array()) {
        if (!first) out += ", ";
        first = false;
        append_python_repr(out, item);
      }
      out.push_back(']');
      return;
    }
    case boost::json::kind::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& [key, item] : v.get_object()) {
        if (!first) out += ", ";
        first = false;
        out += python_str_repr(key);
        out += ": ";
        append_python_repr(out, item);
      }
      out.push_back('}');
      return;
    }
  }
}

void append_python_repr(std::string& out, const boost::json::value& v) {
  if (v.is_string()) {
    out += python_str_repr(v.get_string());
  } else {
    append_python_str(out, v);
  }
}

}  // namespace

std::optional<boost::json::array> parse_python_list(std::string_view text, std::string& why) {
  return literal_parser(text).parse_list(why);
}

std::string python_str_repr(std::string_view s) {
  const bool has_single = s.find('\'') != std::string_view::npos;
  const bool has_double = s.find('"') != std::string_view::npos;
  const char quote = has_single && !has_double ? '"' : '\'';
  std::string out(1, quote);
  std::size_t pos = 0;
  while (pos < s.size()) {
    char32_t cp = 0;
    std::size_t n = utf8_decode(s.substr(pos), cp);
    if (n == 0) {
      // Not UTF-8: Python would never hold such a str; show the byte.
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(s[pos]));
      ++pos;
      continue;
    }
    if (cp == static_cast<char32_t>(quote) || cp == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(cp));
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (!python_printable(cp)) {
      const auto u = static_cast<std::uint32_t>(cp);
      if (u < 0x100) out += fmt::format("\\x{:02x}", u);
      else if (u < 0x10000) out += fmt::format("\\u{:04x}", u);
      else out += fmt::format("\\U{:08x}", u);
    } else {
      out.append(s.substr(pos, n));
    }
    pos += n;
  }
  out.push_back(quote);
  return out;
}

std::string python_str(const boost::json::value& v) {
  std::string out;
  append_python_str(out, v);
  return out;
}

std::string python_json_dumps(const boost::json::value& v, int indent) {
  std::string out;
  append_json_dump(out, v, indent, 0);
  return out;
}

namespace {

std::string map_code_points(std::string_view s, utf8proc_int32_t (*map)(utf8proc_int32_t)) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t pos = 0; pos < s.size();) {
    char32_t cp = 0;
    const std::size_t n = utf8_decode(s.substr(pos), cp);
    if (n == 0) {
      out.push_back(s[pos++]);
      continue;
    }
    utf8_append(out, static_cast<char32_t>(map(static_cast<utf8proc_int32_t>(cp))));
    pos += n;
  }
  return out;
}

}  // namespace

std::string python_lower(std::string_view s) { return map_code_points(s, utf8proc_tolower); }
std::string python_upper(std::string_view s) { return map_code_points(s, utf8proc_toupper); }

std::size_t python_len(std::string_view s) {
  std::size_t count = 0;
  for (std::size_t pos = 0; pos < s.size();) {
    char32_t cp = 0;
    const std::size_t n = utf8_decode(s.substr(pos), cp);
    pos += n == 0 ? 1 : n;
    ++count;
  }
  return count;
}

boost::json::value parse_python_json(std::string_view text, std::string_view what) {
  std::string strict;
  strict.reserve(text.size());
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      strict += c;
      if (c == '\\' && i + 1 < text.size()) strict += text[++i];
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    const auto rest = text.substr(i);
    if (rest.starts_with("NaN")) {
      strict += "null";
      i += 2;
    } else if (rest.starts_with("-Infinity")) {
      strict += "null";
      i += 8;
    } else if (rest.starts_with("Infinity")) {
      strict += "null";
      i += 7;
    } else {
      strict += c;
    }
  }
  boost::system::error_code ec;
  auto v = boost::json::parse(strict, ec);
  if (ec) throw input_error(fmt::format("{} is not JSON: {}", what, ec.message()));
  return v;
}

}  // namespace huashan::harness::eval
