#include "harness/jinja/python_str.hpp"

#include <utf8proc.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "harness/jinja/evaluator.hpp"
#include "harness/jinja/operators.hpp"
#include "harness/jinja/text.hpp"

namespace huashan::harness::jinja {

namespace {

std::int32_t code_point(std::string_view ch) {
  utf8proc_int32_t cp = 0;
  if (utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(ch.data()), static_cast<utf8proc_ssize_t>(ch.size()),
                       &cp) <= 0)
    return static_cast<unsigned char>(ch[0]);
  return cp;
}

void append_cp(std::string& out, std::int32_t cp) {
  utf8proc_uint8_t buf[4];
  auto n = utf8proc_encode_char(cp, buf);
  out.append(reinterpret_cast<char*>(buf), static_cast<std::size_t>(n));
}

template <typename Fn>
std::string map_chars(std::string_view s, Fn fn) {
  std::string out;
  out.reserve(s.size());
  for (auto ch : utf8_chars(s)) {
    auto cp = code_point(ch);
    if (cp < 0x80 || utf8proc_codepoint_valid(cp)) append_cp(out, fn(cp));
    else out.append(ch);
  }
  return out;
}

bool is_cased(std::int32_t cp) {
  auto cat = utf8proc_category(cp);
  return cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LT;
}

std::string_view arg_text(const value& v, std::string_view what) {
  if (!v.is_string()) throw eval_failure(std::string(what) + " arg must be None or str, not " + type_name(v));
  return v.text;
}

std::int64_t int_value(const value& v) {
  if (!v.is_integral()) throw eval_failure("'" + type_name(v) + "' object cannot be interpreted as an integer");
  return v.as_int();
}

std::size_t char_index(std::string_view s, std::size_t byte_pos) { return utf8_length(s.substr(0, byte_pos)); }

std::vector<value> split_whitespace(const std::string& s, std::int64_t maxsplit, bool flag) {
  std::vector<value> out;
  std::size_t i = 0;
  std::string_view sv = s;
  while (true) {
    while (std::size_t n = space_at(sv, i)) i += n;
    if (i >= sv.size()) break;
    if (maxsplit >= 0 && static_cast<std::int64_t>(out.size()) >= maxsplit) {
      out.push_back(value::string(std::string(strip_right(sv.substr(i))), flag));
      break;
    }
    std::size_t start = i;
    while (i < sv.size() && !space_at(sv, i)) ++i;
    out.push_back(value::string(s.substr(start, i - start), flag));
  }
  return out;
}

std::vector<value> rsplit_whitespace(const std::string& s, std::int64_t maxsplit, bool flag) {
  std::vector<value> out;
  std::string_view sv = s;
  std::size_t end = sv.size();
  while (true) {
    while (std::size_t n = space_before(sv, end)) end -= n;
    if (end == 0) break;
    if (maxsplit >= 0 && static_cast<std::int64_t>(out.size()) >= maxsplit) {
      out.push_back(value::string(std::string(strip_left(sv.substr(0, end))), flag));
      break;
    }
    std::size_t start = end;
    while (start > 0 && !space_before(sv, start)) --start;
    out.push_back(value::string(s.substr(start, end - start), flag));
    end = start;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<value> split_on(const std::string& s, const std::string& sep, std::int64_t maxsplit, bool flag) {
  if (sep.empty()) throw eval_failure("empty separator");
  std::vector<value> out;
  std::size_t start = 0;
  while (maxsplit < 0 || static_cast<std::int64_t>(out.size()) < maxsplit) {
    auto pos = s.find(sep, start);
    if (pos == std::string::npos) break;
    out.push_back(value::string(s.substr(start, pos - start), flag));
    start = pos + sep.size();
  }
  out.push_back(value::string(s.substr(start), flag));
  return out;
}

std::vector<value> rsplit_on(const std::string& s, const std::string& sep, std::int64_t maxsplit, bool flag) {
  if (sep.empty()) throw eval_failure("empty separator");
  std::vector<value> out;
  std::size_t end = s.size();
  while (maxsplit < 0 || static_cast<std::int64_t>(out.size()) < maxsplit) {
    if (end < sep.size()) break;
    auto pos = s.rfind(sep, end - sep.size());
    if (pos == std::string::npos) break;
    out.push_back(value::string(s.substr(pos + sep.size(), end - pos - sep.size()), flag));
    end = pos;
  }
  out.push_back(value::string(s.substr(0, end), flag));
  std::reverse(out.begin(), out.end());
  return out;
}

std::string pad_to(const std::string& s, std::int64_t width, char align, std::string_view fill) {
  auto len = static_cast<std::int64_t>(utf8_length(s));
  if (width <= len) return s;
  if (width > static_cast<std::int64_t>(max_string_bytes)) throw eval_failure("result too large");
  std::int64_t pad = width - len;
  std::int64_t left = align == '<' ? 0 : align == '>' ? pad : pad / 2 + (pad & width & 1);
  std::string out;
  for (std::int64_t i = 0; i < left; ++i) out += fill;
  out += s;
  for (std::int64_t i = 0; i < pad - left; ++i) out += fill;
  return out;
}

// One {field:spec} of str.format: fill, align, sign, width, precision, type.
std::string format_field(evaluator& ev, const value& v, const std::string& spec, char conversion) {
  std::string text;
  if (conversion == 'r') text = repr(v);
  else if (conversion == 's') text = ev.str(v);
  std::size_t i = 0;
  std::string fill = " ";
  char align = 0;
  auto chars = utf8_chars(spec);
  if (chars.size() >= 2 && std::string_view("<>^=").find(chars[1]) != std::string_view::npos && chars[1].size() == 1) {
    fill = std::string(chars[0]);
    align = chars[1][0];
    i = chars[0].size() + 1;
  } else if (!spec.empty() && std::string_view("<>^=").find(spec[0]) != std::string_view::npos) {
    align = spec[0];
    i = 1;
  }
  char sign = 0;
  if (i < spec.size() && (spec[i] == '+' || spec[i] == '-' || spec[i] == ' ')) sign = spec[i++];
  if (i < spec.size() && spec[i] == '0' && !align) {
    fill = "0";
    align = '=';
    ++i;
  }
  std::int64_t width = 0;
  while (i < spec.size() && std::isdigit(static_cast<unsigned char>(spec[i])) && width < 100000) width = width * 10 + (spec[i++] - '0');
  int precision = -1;
  if (i < spec.size() && spec[i] == '.') {
    ++i;
    precision = 0;
    while (i < spec.size() && std::isdigit(static_cast<unsigned char>(spec[i])) && precision < 1000) precision = precision * 10 + (spec[i++] - '0');
  }
  char type = i < spec.size() ? spec[i++] : 0;
  if (i != spec.size()) throw eval_failure("Invalid format specifier '" + spec + "'");
  if (conversion || (v.is_string() && (type == 0 || type == 's'))) {
    if (!conversion) text = v.text;
    if (precision >= 0) {
      auto cs = utf8_chars(text);
      if (cs.size() > static_cast<std::size_t>(precision)) {
        std::string cut;
        for (int k = 0; k < precision; ++k) cut += cs[static_cast<std::size_t>(k)];
        text = cut;
      }
    }
    return pad_to(text, width, align ? align : '<', fill);
  }
  if (v.is_number() && v.kind != value_kind::boolean) {
    char buf[512];
    std::string flags = sign && sign != '-' ? std::string(1, sign) : "";
    if (type == 0 && v.kind == value_kind::floating && precision < 0) {
      text = python_float_repr(v.floating);
      if (sign == '+' && v.floating >= 0) text = "+" + text;
    } else if (type == 0 || type == 'd' || type == 'n') {
      if (!v.is_integral()) throw eval_failure("Unknown format code 'd' for object of type 'float'");
      std::snprintf(buf, sizeof buf, ("%" + flags + "lld").c_str(), static_cast<long long>(v.as_int()));
      text = buf;
    } else if (type == 'f' || type == 'F' || type == 'e' || type == 'E' || type == 'g' || type == 'G' || type == '%') {
      double d = v.as_float() * (type == '%' ? 100.0 : 1.0);
      std::string f = "%" + flags + "." + std::to_string(precision < 0 ? 6 : precision) + (type == '%' ? 'f' : type);
      std::snprintf(buf, sizeof buf, f.c_str(), d);
      text = buf;
      if (type == '%') text += '%';
    } else if (type == 'x' || type == 'X' || type == 'o' || type == 'b') {
      if (!v.is_integral()) throw eval_failure("Unknown format code for float");
      if (type == 'b') {
        std::uint64_t n = static_cast<std::uint64_t>(std::llabs(v.as_int()));
        std::string bits;
        do {
          bits.insert(bits.begin(), static_cast<char>('0' + (n & 1)));
          n >>= 1;
        } while (n);
        text = (v.as_int() < 0 ? "-" : "") + bits;
      } else {
        std::snprintf(buf, sizeof buf, (std::string("%ll") + type).c_str(), static_cast<long long>(v.as_int()));
        text = buf;
      }
    } else {
      throw eval_failure(std::string("Unknown format code '") + type + "'");
    }
    if (align == '=' && !text.empty() && (text[0] == '-' || text[0] == '+')) {
      return text.substr(0, 1) + pad_to(text.substr(1), width - 1, '>', fill);
    }
    return pad_to(text, width, align == '=' ? '>' : (align ? align : '>'), fill);
  }
  if (type != 0 && type != 's') throw eval_failure(std::string("Unknown format code '") + type + "' for object of type '" + type_name(v) + "'");
  return pad_to(ev.str(v), width, align ? align : '<', fill);
}

std::string str_format(evaluator& ev, const std::string& format, call_args& args) {
  std::string out;
  std::size_t auto_index = 0;
  for (std::size_t i = 0; i < format.size(); ++i) {
    char c = format[i];
    if (c == '{') {
      if (i + 1 < format.size() && format[i + 1] == '{') {
        out += '{';
        ++i;
        continue;
      }
      auto close = format.find('}', i);
      if (close == std::string::npos) throw eval_failure("Single '{' encountered in format string");
      std::string field = format.substr(i + 1, close - i - 1);
      i = close;
      std::string spec;
      char conversion = 0;
      if (auto colon = field.find(':'); colon != std::string::npos) {
        spec = field.substr(colon + 1);
        field.erase(colon);
      }
      if (auto bang = field.find('!'); bang != std::string::npos) {
        if (bang + 2 != field.size()) throw eval_failure("expected ':' after conversion specifier");
        conversion = field[bang + 1];
        if (conversion != 'r' && conversion != 's' && conversion != 'a') throw eval_failure("Unknown conversion specifier");
        if (conversion == 'a') conversion = 'r';
        field.erase(bang);
      }
      // name or index, then .attr / [key] parts
      std::size_t end = field.find_first_of(".[");
      std::string head = field.substr(0, end);
      value v;
      if (head.empty()) {
        if (auto_index >= args.positional.size()) throw eval_failure("Replacement index " + std::to_string(auto_index) + " out of range for positional args tuple");
        v = args.positional[auto_index++];
      } else if (std::all_of(head.begin(), head.end(), [](char d) { return std::isdigit(static_cast<unsigned char>(d)); })) {
        std::size_t k = head.size() < 9 ? static_cast<std::size_t>(std::atoi(head.c_str())) : SIZE_MAX;
        if (k >= args.positional.size()) throw eval_failure("Replacement index out of range for positional args tuple");
        v = args.positional[k];
      } else {
        bool found = false;
        for (auto& [k, item] : args.keywords)
          if (k == head) {
            v = item;
            found = true;
          }
        if (!found) throw eval_failure("KeyError: '" + head + "'");
      }
      while (end != std::string::npos && end < field.size()) {
        if (field[end] == '.') {
          auto next = field.find_first_of(".[", end + 1);
          v = ev.getattr(v, field.substr(end + 1, next == std::string::npos ? std::string::npos : next - end - 1));
          end = next;
        } else {
          auto close_bracket = field.find(']', end);
          if (close_bracket == std::string::npos) throw eval_failure("Missing ']' in format string");
          std::string key = field.substr(end + 1, close_bracket - end - 1);
          bool digits = !key.empty() && key.size() < 18 &&
                        std::all_of(key.begin(), key.end(), [](char d) { return std::isdigit(static_cast<unsigned char>(d)); });
          v = ev.getitem(v, digits ? value::int_(std::atoll(key.c_str())) : value::string(key));
          end = close_bracket + 1;
        }
      }
      if (v.is_undefined()) fail_undefined(v);
      out += format_field(ev, v, spec, conversion);
      if (out.size() > max_string_bytes) throw eval_failure("result too large");
    } else if (c == '}') {
      if (i + 1 < format.size() && format[i + 1] == '}') {
        out += '}';
        ++i;
        continue;
      }
      throw eval_failure("Single '}' encountered in format string");
    } else {
      out += c;
    }
  }
  return out;
}

bool all_chars(std::string_view s, bool (*pred)(std::int32_t)) {
  if (s.empty()) return false;
  for (auto ch : utf8_chars(s))
    if (!pred(code_point(ch))) return false;
  return true;
}

bool is_digit_cp(std::int32_t cp) { return utf8proc_category(cp) == UTF8PROC_CATEGORY_ND || (cp >= '0' && cp <= '9'); }
bool is_alpha_cp(std::int32_t cp) {
  auto cat = utf8proc_category(cp);
  return cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LT ||
         cat == UTF8PROC_CATEGORY_LM || cat == UTF8PROC_CATEGORY_LO;
}
bool is_alnum_cp(std::int32_t cp) {
  auto cat = utf8proc_category(cp);
  return is_alpha_cp(cp) || cat == UTF8PROC_CATEGORY_ND || cat == UTF8PROC_CATEGORY_NL || cat == UTF8PROC_CATEGORY_NO;
}
bool is_space_cp(std::int32_t cp) {
  std::string s;
  append_cp(s, cp);
  return space_at(s, 0) == s.size();
}

}  // namespace

value python_strip(const std::string& s, const value& chars, bool left, bool right, bool from_variables) {
  std::string_view sv = s;
  if (chars.is_none() || chars.is_undefined()) {
    if (left) sv = strip_left(sv);
    if (right) sv = strip_right(sv);
    return value::string(std::string(sv), from_variables);
  }
  auto set = utf8_chars(arg_text(chars, "strip"));
  auto in_set = [&set](std::string_view ch) { return std::find(set.begin(), set.end(), ch) != set.end(); };
  auto cs = utf8_chars(sv);
  std::size_t b = 0, e = cs.size();
  if (left)
    while (b < e && in_set(cs[b])) ++b;
  if (right)
    while (e > b && in_set(cs[e - 1])) --e;
  if (b == e) return value::string("", from_variables);
  return value::string(std::string(cs[b].data(), cs[e - 1].data() + cs[e - 1].size()), from_variables);
}

namespace {

// Python's str.upper()/lower() use Unicode's full (one-to-many) mappings
// where utf8proc has only the simple ones; these are the common cases.
const char* special_upper(std::int32_t cp) {
  switch (cp) {
    case 0xdf: return "SS";
    case 0xfb00: return "FF";
    case 0xfb01: return "FI";
    case 0xfb02: return "FL";
    case 0xfb03: return "FFI";
    case 0xfb04: return "FFL";
    case 0xfb05:
    case 0xfb06: return "ST";
    case 0x149: return "\xca\xbcN";
    default: return nullptr;
  }
}

std::string map_case(std::string_view s, bool upper) {
  std::string out;
  out.reserve(s.size());
  for (auto ch : utf8_chars(s)) {
    auto cp = code_point(ch);
    if (cp >= 0x80 && !utf8proc_codepoint_valid(cp)) {
      out.append(ch);
    } else if (upper && special_upper(cp)) {
      out += special_upper(cp);
    } else if (!upper && cp == 0x130) {
      out += "i\xcc\x87";
    } else {
      append_cp(out, upper ? utf8proc_toupper(cp) : utf8proc_tolower(cp));
    }
  }
  return out;
}

}  // namespace

std::string python_upper(std::string_view s) { return map_case(s, true); }
std::string python_lower(std::string_view s) { return map_case(s, false); }

std::string python_capitalize(std::string_view s) {
  bool first = true;
  return map_chars(s, [&first](std::int32_t cp) {
    bool was_first = first;
    first = false;
    return was_first ? utf8proc_totitle(cp) : utf8proc_tolower(cp);
  });
}

std::string python_title(std::string_view s) {
  bool previous_cased = false;
  return map_chars(s, [&previous_cased](std::int32_t cp) {
    std::int32_t r = previous_cased ? utf8proc_tolower(cp) : utf8proc_totitle(cp);
    previous_cased = is_cased(cp);
    return r;
  });
}

std::string jinja_title(std::string_view s) {
  // re.split(r"([-\s({\[<]+)") keeps the separators; each piece: first char upper, rest lower
  std::string out;
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t start = i;
    auto is_sep = [&s](std::size_t k) -> std::size_t {
      if (std::string_view("-({[<").find(s[k]) != std::string_view::npos) return 1;
      return space_at(s, k);
    };
    if (is_sep(i)) {
      while (i < s.size() && is_sep(i)) i += is_sep(i);
    } else {
      while (i < s.size() && !is_sep(i)) ++i;
    }
    auto piece = s.substr(start, i - start);
    auto cs = utf8_chars(piece);
    if (cs.empty()) continue;
    out += python_upper(cs[0]);
    out += python_lower(piece.substr(cs[0].size()));
  }
  return out;
}

std::string python_replace(const std::string& s, const std::string& old_text, const std::string& new_text,
                           std::int64_t count) {
  std::string out;
  if (old_text.empty()) {
    auto cs = utf8_chars(s);
    std::int64_t done = 0;
    for (std::size_t i = 0; i <= cs.size(); ++i) {
      if (count < 0 || done < count) {
        out += new_text;
        ++done;
      }
      if (i < cs.size()) out += cs[i];
      if (out.size() > max_string_bytes) throw eval_failure("result too large");
    }
    return out;
  }
  std::size_t start = 0;
  std::int64_t done = 0;
  while (count < 0 || done < count) {
    auto pos = s.find(old_text, start);
    if (pos == std::string::npos) break;
    out.append(s, start, pos - start);
    out += new_text;
    if (out.size() > max_string_bytes) throw eval_failure("result too large");
    start = pos + old_text.size();
    ++done;
  }
  out.append(s, start, std::string::npos);
  return out;
}

std::string python_center(const std::string& s, std::int64_t width, std::string_view fill) {
  return pad_to(s, width, '^', fill);
}

bool python_islower(std::string_view s) {
  bool any = false;
  for (auto ch : utf8_chars(s)) {
    auto cp = code_point(ch);
    auto cat = utf8proc_category(cp);
    if (cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LT) return false;
    if (cat == UTF8PROC_CATEGORY_LL) any = true;
  }
  return any;
}

bool python_isupper(std::string_view s) {
  bool any = false;
  for (auto ch : utf8_chars(s)) {
    auto cp = code_point(ch);
    auto cat = utf8proc_category(cp);
    if (cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LT) return false;
    if (cat == UTF8PROC_CATEGORY_LU) any = true;
  }
  return any;
}

std::optional<std::int64_t> parse_python_int(std::string_view s, std::int64_t base) {
  s = strip_right(strip_left(s));
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (base == 0 || base == 16 || base == 8 || base == 2) {
    if (s.size() > 2 && s[0] == '0') {
      char p = static_cast<char>(std::tolower(static_cast<unsigned char>(s[1])));
      std::int64_t prefixed = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 0;
      if (prefixed && (base == 0 || base == prefixed)) {
        base = prefixed;
        s.remove_prefix(2);
        if (!s.empty() && s[0] == '_') s.remove_prefix(1);
      }
    }
    if (base == 0) base = 10;
  }
  if (base < 2 || base > 36 || s.empty()) return std::nullopt;
  std::int64_t result = 0;
  bool last_underscore = true;
  for (char c : s) {
    if (c == '_') {
      if (last_underscore) return std::nullopt;
      last_underscore = true;
      continue;
    }
    last_underscore = false;
    int d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
            : std::isalpha(static_cast<unsigned char>(c)) ? std::tolower(static_cast<unsigned char>(c)) - 'a' + 10
                                                          : 99;
    if (d >= base) return std::nullopt;
    if (__builtin_mul_overflow(result, base, &result) || __builtin_add_overflow(result, d, &result)) return std::nullopt;
  }
  if (last_underscore) return std::nullopt;
  return negative ? -result : result;
}

std::optional<double> parse_python_float(std::string_view s) {
  s = strip_right(strip_left(s));
  std::string clean;
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) clean += s[i++];
  std::string rest(s.substr(i));
  std::string lower = rest;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "inf" || lower == "infinity" || lower == "nan") return std::strtod((clean + lower).c_str(), nullptr);
  bool digits = false, dot = false, exponent = false;
  char previous = 0;
  for (std::size_t k = 0; k < rest.size(); ++k) {
    char c = rest[k];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      digits = true;
      clean += c;
    } else if (c == '_') {
      if (!std::isdigit(static_cast<unsigned char>(previous)) || k + 1 >= rest.size() ||
          !std::isdigit(static_cast<unsigned char>(rest[k + 1])))
        return std::nullopt;
    } else if (c == '.' && !dot && !exponent) {
      dot = true;
      clean += c;
    } else if ((c == 'e' || c == 'E') && digits && !exponent) {
      exponent = true;
      clean += 'e';
      if (k + 1 < rest.size() && (rest[k + 1] == '+' || rest[k + 1] == '-')) clean += rest[++k];
      if (k + 1 >= rest.size()) return std::nullopt;
      c = 'e';
    } else {
      return std::nullopt;
    }
    previous = c;
  }
  if (!digits || previous == 'e') return std::nullopt;
  return std::strtod(clean.c_str(), nullptr);
}

value call_str_method(evaluator& ev, const value& obj, std::string_view name, call_args& args) {
  const std::string& s = obj.text;
  auto& pos = args.positional;
  auto arg = [&](std::size_t i, std::string_view key) -> const value* {
    if (i < pos.size()) return &pos[i];
    for (auto& [k, v] : args.keywords)
      if (k == key) return &v;
    return nullptr;
  };
  auto arg_or = [&](std::size_t i, std::string_view key, value fallback) {
    const value* v = arg(i, key);
    return v ? *v : fallback;
  };
  auto need = [&](std::size_t i, std::string_view key) -> const value& {
    const value* v = arg(i, key);
    if (!v) throw eval_failure(std::string(name) + "() takes at least " + std::to_string(i + 1) + " argument");
    return *v;
  };
  if (name == "strip" || name == "lstrip" || name == "rstrip")
    return python_strip(s, arg_or(0, "chars", value::none()), name != "rstrip", name != "lstrip", obj.flag);
  if (name == "split" || name == "rsplit") {
    value sep = arg_or(0, "sep", value::none());
    std::int64_t maxsplit = int_value(arg_or(1, "maxsplit", value::int_(-1)));
    if (sep.is_none())
      return value::list(name == "split" ? split_whitespace(s, maxsplit, obj.flag) : rsplit_whitespace(s, maxsplit, obj.flag));
    std::string sep_text(arg_text(sep, "sep"));
    return value::list(name == "split" ? split_on(s, sep_text, maxsplit, obj.flag) : rsplit_on(s, sep_text, maxsplit, obj.flag));
  }
  if (name == "splitlines") {
    value_list out;
    std::size_t start = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '\n' || s[i] == '\r') {
        out.push_back(value::string(s.substr(start, i - start), obj.flag));
        if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
        start = i + 1;
      }
    }
    if (start < s.size()) out.push_back(value::string(s.substr(start), obj.flag));
    return value::list(std::move(out));
  }
  if (name == "startswith" || name == "endswith") {
    const value& what = need(0, "prefix");
    std::vector<std::string_view> options;
    if (what.is_list() && what.flag) {
      for (auto& item : *what.items) options.push_back(arg_text(item, name));
    } else if (what.is_string()) {
      options.push_back(what.text);
    } else {
      throw eval_failure(std::string(name) + " first arg must be str or a tuple of str, not " + type_name(what));
    }
    for (auto o : options) {
      if (name == "startswith" ? std::string_view(s).starts_with(o) : std::string_view(s).ends_with(o))
        return value::boolean(true);
    }
    return value::boolean(false);
  }
  if (name == "replace") {
    return value::string(python_replace(s, std::string(arg_text(need(0, "old"), "replace")),
                                        std::string(arg_text(need(1, "new"), "replace")),
                                        int_value(arg_or(2, "count", value::int_(-1)))));
  }
  if (name == "upper") return value::string(python_upper(s));
  if (name == "lower") return value::string(python_lower(s));
  if (name == "title") return value::string(python_title(s));
  if (name == "capitalize") return value::string(python_capitalize(s));
  if (name == "swapcase")
    return value::string(map_chars(s, [](std::int32_t cp) {
      return utf8proc_isupper(cp) ? utf8proc_tolower(cp) : utf8proc_islower(cp) ? utf8proc_toupper(cp) : cp;
    }));
  if (name == "format") return value::string(str_format(ev, s, args));
  if (name == "join") {
    std::string out;
    bool first = true;
    for (auto& item : ev.iterate(need(0, "iterable"))) {
      if (!item.is_string()) throw eval_failure("sequence item: expected str instance, " + type_name(item) + " found");
      if (!first) out += s;
      first = false;
      out += item.text;
      if (out.size() > max_string_bytes) throw eval_failure("result too large");
    }
    return value::string(std::move(out));
  }
  if (name == "find" || name == "rfind" || name == "index" || name == "rindex" || name == "count") {
    std::string sub(arg_text(need(0, "sub"), name));
    if (name == "count") {
      if (sub.empty()) return value::int_(static_cast<std::int64_t>(utf8_length(s)) + 1);
      std::int64_t n = 0;
      for (auto p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) ++n;
      return value::int_(n);
    }
    auto p = name == "find" || name == "index" ? s.find(sub) : s.rfind(sub);
    if (p == std::string::npos) {
      if (name == "index" || name == "rindex") throw eval_failure("substring not found");
      return value::int_(-1);
    }
    return value::int_(static_cast<std::int64_t>(char_index(s, p)));
  }
  if (name == "isdigit" || name == "isnumeric" || name == "isdecimal") return value::boolean(all_chars(s, is_digit_cp));
  if (name == "isalpha") return value::boolean(all_chars(s, is_alpha_cp));
  if (name == "isalnum") return value::boolean(all_chars(s, is_alnum_cp));
  if (name == "isspace") return value::boolean(all_chars(s, is_space_cp));
  if (name == "islower") return value::boolean(python_islower(s));
  if (name == "isupper") return value::boolean(python_isupper(s));
  if (name == "zfill") {
    std::int64_t width = int_value(need(0, "width"));
    auto len = static_cast<std::int64_t>(utf8_length(s));
    if (width <= len) return value::string(s);
    if (width > static_cast<std::int64_t>(max_string_bytes)) throw eval_failure("result too large");
    std::string zeros(static_cast<std::size_t>(width - len), '0');
    if (!s.empty() && (s[0] == '+' || s[0] == '-')) return value::string(s.substr(0, 1) + zeros + s.substr(1));
    return value::string(zeros + s);
  }
  if (name == "center" || name == "ljust" || name == "rjust") {
    std::int64_t width = int_value(need(0, "width"));
    std::string fill(arg_text(arg_or(1, "fillchar", value::string(" ")), name));
    if (utf8_length(fill) != 1) throw eval_failure("The fill character must be exactly one character long");
    return value::string(pad_to(s, width, name == "center" ? '^' : name == "ljust" ? '<' : '>', fill));
  }
  if (name == "removeprefix") {
    std::string_view p = arg_text(need(0, "prefix"), name);
    return value::string(std::string_view(s).starts_with(p) ? s.substr(p.size()) : s, obj.flag);
  }
  if (name == "removesuffix") {
    std::string_view p = arg_text(need(0, "suffix"), name);
    return value::string(std::string_view(s).ends_with(p) && !p.empty() ? s.substr(0, s.size() - p.size()) : s, obj.flag);
  }
  if (name == "partition" || name == "rpartition") {
    std::string sep(arg_text(need(0, "sep"), name));
    if (sep.empty()) throw eval_failure("empty separator");
    auto p = name == "partition" ? s.find(sep) : s.rfind(sep);
    if (p == std::string::npos) {
      if (name == "partition") return value::list({value::string(s, obj.flag), value::string(""), value::string("")}, true);
      return value::list({value::string(""), value::string(""), value::string(s, obj.flag)}, true);
    }
    return value::list({value::string(s.substr(0, p), obj.flag), value::string(sep),
                        value::string(s.substr(p + sep.size()), obj.flag)},
                       true);
  }
  throw eval_failure("'str' object has no attribute '" + std::string(name) + "'");
}

}  // namespace huashan::harness::jinja
