#include "harness/jinja/lexer.hpp"

#include <algorithm>
#include <cctype>

#include "harness/jinja/text.hpp"

namespace huashan::harness::jinja {

std::string normalize_source(std::string_view source, const environment_options& env) {
  std::string out;
  out.reserve(source.size());
  for (std::size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out += source[i];
    }
  }
  if (!env.keep_trailing_newline && !out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

source_positions::source_positions(std::string_view normalized) {
  line_starts_.push_back(0);
  for (std::size_t i = 0; i < normalized.size(); ++i)
    if (normalized[i] == '\n') line_starts_.push_back(i + 1);
}

std::pair<std::int32_t, std::int32_t> source_positions::at(std::size_t offset) const {
  auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
  auto line = static_cast<std::size_t>(it - line_starts_.begin());
  return {static_cast<std::int32_t>(line), static_cast<std::int32_t>(offset - line_starts_[line - 1] + 1)};
}

namespace {

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Python's "unicode-escape" decoding of a string literal's body.
std::string unescape(std::string_view body) {
  std::string out;
  for (std::size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c != '\\' || i + 1 >= body.size()) {
      out += c;
      continue;
    }
    char e = body[++i];
    switch (e) {
      case '\n': break;
      case '\\': out += '\\'; break;
      case '\'': out += '\''; break;
      case '"': out += '"'; break;
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case 'x':
      case 'u':
      case 'U': {
        std::size_t digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        std::uint32_t cp = 0;
        bool ok = i + digits < body.size();
        for (std::size_t k = 1; ok && k <= digits; ++k) {
          int d = hex_digit(body[i + k]);
          if (d < 0) ok = false;
          else cp = cp * 16 + static_cast<std::uint32_t>(d);
        }
        if (!ok || cp > 0x10ffff) {
          out += '\\';
          out += e;
          break;
        }
        append_utf8(out, cp);
        i += digits;
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          std::uint32_t cp = static_cast<std::uint32_t>(e - '0');
          for (int k = 0; k < 2 && i + 1 < body.size() && body[i + 1] >= '0' && body[i + 1] <= '7'; ++k)
            cp = cp * 8 + static_cast<std::uint32_t>(body[++i] - '0');
          append_utf8(out, cp);
        } else {
          out += '\\';
          out += e;
        }
    }
  }
  return out;
}

class lexer {
 public:
  lexer(std::string_view src, const environment_options& env, const std::string& name, const source_positions& where)
      : src_(src), env_(env), name_(name), where_(where) {}

  std::vector<token> run() {
    bool line_starting = true;
    while (pos_ < src_.size()) {
      std::size_t tag = find_tag(pos_);
      if (tag == std::string_view::npos) {
        emit(token_kind::text, pos_, std::string(src_.substr(pos_)));
        pos_ = src_.size();
        break;
      }
      char kind = src_[tag + 1];
      std::size_t after = tag + 2;
      char sign = after < src_.size() && (src_[after] == '-' || src_[after] == '+') ? src_[after] : 0;
      std::string_view text = src_.substr(pos_, tag - pos_);
      std::size_t raw_body = kind == '%' ? match_raw_begin(tag) : 0;
      if (sign == '-') {
        text = strip_right(text);
      } else if (sign != '+' && env_.lstrip_blocks && kind != '{') {
        auto nl = text.rfind('\n');
        std::size_t l_pos = nl == std::string_view::npos ? 0 : nl + 1;
        if (l_pos > 0 || line_starting) {
          auto rest = text.substr(l_pos);
          if (rest.find_first_not_of(" \t") == std::string_view::npos) text = text.substr(0, l_pos);
        }
      }
      if (!text.empty()) emit(token_kind::text, pos_, std::string(text));
      if (raw_body) {
        lex_raw(raw_body);
      } else if (kind == '#') {
        lex_comment(tag, after + (sign ? 1 : 0));
      } else {
        lex_tag(tag, kind, after + (sign ? 1 : 0));
      }
      line_starting = pos_ > 0 && src_[pos_ - 1] == '\n';
    }
    emit(token_kind::end_of_input, src_.size(), "");
    return std::move(tokens_);
  }

 private:
  [[noreturn]] void fail(std::size_t offset, const std::string& what) const {
    auto [line, column] = where_.at(offset);
    throw template_error(name_, line, column, what);
  }

  void emit(token_kind k, std::size_t offset, std::string text) { tokens_.push_back({k, offset, std::move(text)}); }

  std::size_t find_tag(std::size_t from) const {
    for (std::size_t i = src_.find('{', from); i != std::string_view::npos; i = src_.find('{', i + 1)) {
      if (i + 1 < src_.size() && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
    }
    return std::string_view::npos;
  }

  std::size_t skip_spaces(std::size_t i) const {
    while (std::size_t n = space_at(src_, i)) i += n;
    return i;
  }

  // "{% raw %}" (or with -/+): the offset just past it, else 0.
  std::size_t match_raw_begin(std::size_t tag) const {
    std::size_t i = tag + 2;
    if (i < src_.size() && (src_[i] == '-' || src_[i] == '+')) ++i;
    i = skip_spaces(i);
    if (src_.compare(i, 3, "raw") != 0) return 0;
    i = skip_spaces(i + 3);
    if (src_.compare(i, 3, "-%}") == 0) return skip_spaces(i + 3);
    if (src_.compare(i, 2, "%}") == 0) return i + 2;
    return 0;
  }

  void lex_raw(std::size_t body) {
    for (std::size_t i = src_.find("{%", body); i != std::string_view::npos; i = src_.find("{%", i + 1)) {
      std::size_t j = i + 2;
      char sign = j < src_.size() && (src_[j] == '-' || src_[j] == '+') ? src_[j] : 0;
      if (sign) ++j;
      j = skip_spaces(j);
      if (src_.compare(j, 6, "endraw") != 0) continue;
      j = skip_spaces(j + 6);
      std::size_t end;
      if (src_.compare(j, 3, "+%}") == 0) end = j + 3;
      else if (src_.compare(j, 3, "-%}") == 0) end = skip_spaces(j + 3);
      else if (src_.compare(j, 2, "%}") == 0) end = trim_newline(j + 2);
      else continue;
      std::string_view text = src_.substr(body, i - body);
      if (sign == '-') {
        text = strip_right(text);
      } else if (sign != '+' && env_.lstrip_blocks) {
        auto nl = text.rfind('\n');
        std::size_t l_pos = nl == std::string_view::npos ? 0 : nl + 1;
        if (l_pos > 0 && text.substr(l_pos).find_first_not_of(" \t") == std::string_view::npos)
          text = text.substr(0, l_pos);
      }
      if (!text.empty()) emit(token_kind::text, body, std::string(text));
      pos_ = end;
      return;
    }
    fail(body, "Missing end of raw directive");
  }

  std::size_t trim_newline(std::size_t i) const {
    if (env_.trim_blocks && i < src_.size() && src_[i] == '\n') return i + 1;
    return i;
  }

  void lex_comment(std::size_t tag, std::size_t from) {
    auto close = src_.find("#}", from);
    if (close == std::string_view::npos) fail(tag, "Missing end of comment tag");
    if (close > from && src_[close - 1] == '-') pos_ = skip_spaces(close + 2);
    else if (close > from && src_[close - 1] == '+') pos_ = close + 2;
    else pos_ = trim_newline(close + 2);
  }

  void lex_tag(std::size_t tag, char kind, std::size_t from) {
    bool block = kind == '%';
    emit(block ? token_kind::block_begin : token_kind::variable_begin, tag, "");
    std::size_t i = from;
    std::vector<char> brackets;
    while (true) {
      i = skip_spaces(i);
      if (i >= src_.size()) fail(tag, block ? "unexpected end of template, expected end of block tag ('%}')"
                                            : "unexpected end of template, expected end of print statement ('}}')");
      if (brackets.empty()) {
        if (block) {
          if (src_.compare(i, 3, "-%}") == 0) {
            emit(token_kind::block_end, i, "");
            pos_ = skip_spaces(i + 3);
            return;
          }
          if (src_.compare(i, 3, "+%}") == 0) {
            emit(token_kind::block_end, i, "");
            pos_ = i + 3;
            return;
          }
          if (src_.compare(i, 2, "%}") == 0) {
            emit(token_kind::block_end, i, "");
            pos_ = trim_newline(i + 2);
            return;
          }
        } else {
          if (src_.compare(i, 3, "-}}") == 0) {
            emit(token_kind::variable_end, i, "");
            pos_ = skip_spaces(i + 3);
            return;
          }
          if (src_.compare(i, 2, "}}") == 0) {
            emit(token_kind::variable_end, i, "");
            pos_ = i + 2;
            return;
          }
        }
      }
      i = lex_one(i, brackets);
    }
  }

  static bool digit(char c) { return c >= '0' && c <= '9'; }

  // Digits with single underscores between them; returns the end, or `i` if none.
  std::size_t digits_at(std::size_t i) const {
    if (i >= src_.size() || !digit(src_[i])) return i;
    std::size_t j = i;
    while (j < src_.size()) {
      if (digit(src_[j])) ++j;
      else if (src_[j] == '_' && j + 1 < src_.size() && digit(src_[j + 1]) && j > i) ++j;
      else break;
    }
    return j;
  }

  std::size_t lex_one(std::size_t i, std::vector<char>& brackets) {
    char c = src_[i];
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      std::size_t j = i;
      while (j < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[j])) || src_[j] == '_')) ++j;
      emit(token_kind::name, i, std::string(src_.substr(i, j - i)));
      return j;
    }
    if (digit(c)) {
      std::size_t j = digits_at(i);
      bool is_float = false;
      bool preceded_by_dot = i > 0 && src_[i - 1] == '.';
      if (!preceded_by_dot) {
        std::size_t k = j;
        if (k < src_.size() && src_[k] == '.' && digits_at(k + 1) > k + 1) {
          k = digits_at(k + 1);
          is_float = true;
        }
        if (k < src_.size() && (src_[k] == 'e' || src_[k] == 'E')) {
          std::size_t e = k + 1;
          if (e < src_.size() && (src_[e] == '+' || src_[e] == '-')) ++e;
          if (digits_at(e) > e) {
            k = digits_at(e);
            is_float = true;
          }
        }
        if (is_float) j = k;
      }
      std::string text;
      for (std::size_t k = i; k < j; ++k)
        if (src_[k] != '_') text += src_[k];
      emit(is_float ? token_kind::floating : token_kind::integer, i, std::move(text));
      return j;
    }
    if (c == '\'' || c == '"') {
      std::size_t j = i + 1;
      while (j < src_.size() && src_[j] != c) j += src_[j] == '\\' ? 2 : 1;
      if (j >= src_.size()) fail(i, "unexpected end of string");
      emit(token_kind::string, i, unescape(src_.substr(i + 1, j - i - 1)));
      return j + 1;
    }
    static constexpr std::string_view two[] = {"//", "**", "==", "!=", "<=", ">="};
    for (auto op : two) {
      if (src_.compare(i, 2, op) == 0) {
        emit(token_kind::op, i, std::string(op));
        return i + 2;
      }
    }
    static constexpr std::string_view one = "+-/*%~[](){},.:|=<>;";
    if (one.find(c) == std::string_view::npos) fail(i, std::string("unexpected char '") + c + "'");
    if (c == '(' || c == '[' || c == '{') {
      brackets.push_back(c);
    } else if (c == ')' || c == ']' || c == '}') {
      char open = c == ')' ? '(' : c == ']' ? '[' : '{';
      if (brackets.empty()) fail(i, std::string("unexpected '") + c + "'");
      if (brackets.back() != open)
        fail(i, std::string("unexpected '") + c + "', expected '" +
                    (brackets.back() == '(' ? ")" : brackets.back() == '[' ? "]" : "}") + "'");
      brackets.pop_back();
    }
    emit(token_kind::op, i, std::string(1, c));
    return i + 1;
  }

  std::string_view src_;
  const environment_options& env_;
  const std::string& name_;
  const source_positions& where_;
  std::size_t pos_ = 0;
  std::vector<token> tokens_;
};

}  // namespace

std::vector<token> tokenize(std::string_view normalized, const environment_options& env, const std::string& name,
                            const source_positions& where) {
  return lexer(normalized, env, name, where).run();
}

}  // namespace huashan::harness::jinja
