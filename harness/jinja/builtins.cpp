#include "harness/jinja/builtins.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <utf8proc.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <unordered_map>

#include "harness/jinja/evaluator.hpp"
#include "harness/jinja/json_text.hpp"
#include "harness/jinja/operators.hpp"
#include "harness/jinja/python_str.hpp"
#include "harness/jinja/text.hpp"

namespace huashan::harness::jinja {

namespace {

// Positional-or-keyword parameters, as Python binds them.
class arguments {
 public:
  arguments(call_args& args, std::string_view function) : args_(args), function_(function) {}

  const value* find(std::size_t position, std::string_view name) const {
    if (position < args_.positional.size()) return &args_.positional[position];
    for (const auto& [k, v] : args_.keywords)
      if (k == name) return &v;
    return nullptr;
  }
  value get(std::size_t position, std::string_view name, value fallback) const {
    const value* v = find(position, name);
    return v ? *v : std::move(fallback);
  }
  value require(std::size_t position, std::string_view name) const {
    const value* v = find(position, name);
    if (!v) throw eval_failure(std::string(function_) + "() missing required argument '" + std::string(name) + "'");
    return *v;
  }
  std::size_t positional_count() const { return args_.positional.size(); }
  call_args& raw() { return args_; }

 private:
  call_args& args_;
  std::string_view function_;
};

value none_v() { return value::none(); }

std::int64_t int_arg(const value& v, std::string_view what) {
  if (v.is_integral()) return v.as_int();
  throw eval_failure(std::string(what) + ": an integer is required, not '" + type_name(v) + "'");
}

std::string string_arg(const value& v, std::string_view what) {
  if (v.is_string()) return v.text;
  throw eval_failure(std::string(what) + ": a str is required, not '" + type_name(v) + "'");
}

std::int64_t length_of(evaluator& ev, const value& v) {
  switch (v.kind) {
    case value_kind::string: return static_cast<std::int64_t>(utf8_length(v.text));
    case value_kind::list: return static_cast<std::int64_t>(v.items->size());
    case value_kind::dict: return static_cast<std::int64_t>(v.dict->entries.size());
    case value_kind::undefined:
      if (ev.strict_about(v)) fail_undefined(v);
      return 0;
    default: throw eval_failure("object of type '" + type_name(v) + "' has no len()");
  }
}

// jinja2's make_attrgetter: "a.b.0" looked up item-first, part by part.
value get_attribute_path(evaluator& ev, const value& item, const value& attribute) {
  if (!attribute.is_string()) return ev.getitem(item, attribute);
  value current = item;
  std::string_view path = attribute.text;
  while (true) {
    auto dot = path.find('.');
    std::string_view part = path.substr(0, dot);
    bool digits = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (digits && part.size() < 18) current = ev.getitem(current, value::int_(std::atoll(std::string(part).c_str())));
    else current = ev.getitem(current, value::string(std::string(part)));
    if (dot == std::string_view::npos) break;
    path.remove_prefix(dot + 1);
  }
  return current;
}

value lowered(const value& v, bool case_sensitive) {
  if (!case_sensitive && v.is_string()) return value::string(python_lower(v.text));
  return v;
}

value_list sorted_values(evaluator& ev, value_list items, bool reverse, bool case_sensitive, const value* attribute) {
  std::vector<std::pair<value, std::size_t>> keyed;
  keyed.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i)
    keyed.emplace_back(lowered(attribute ? get_attribute_path(ev, items[i], *attribute) : items[i], case_sensitive), i);
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
    int c = compare(a.first, b.first);
    return reverse ? c > 0 : c < 0;
  });
  value_list out;
  out.reserve(items.size());
  for (auto& [k, i] : keyed) out.push_back(items[i]);
  return out;
}

std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// Python's str.splitlines() boundaries.
std::vector<std::string> split_lines(std::string_view s) {
  std::vector<std::string> lines;
  std::size_t start = 0, i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    if (c == '\n' || c == '\v' || c == '\f' || c == 0x1c || c == 0x1d || c == 0x1e) len = 1;
    else if (c == '\r') len = i + 1 < s.size() && s[i + 1] == '\n' ? 2 : 1;
    else if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x85) len = 2;
    else if (c == 0xe2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
             (static_cast<unsigned char>(s[i + 2]) == 0xa8 || static_cast<unsigned char>(s[i + 2]) == 0xa9))
      len = 3;
    if (len) {
      lines.emplace_back(s.substr(start, i - start));
      i += len;
      start = i;
    } else {
      ++i;
    }
  }
  if (start < s.size()) lines.emplace_back(s.substr(start));
  return lines;
}

std::string indent_text(std::string s, const value& width, bool first, bool blank) {
  std::string indention = width.is_string() ? width.text : std::string(static_cast<std::size_t>(std::clamp<std::int64_t>(int_arg(width, "indent"), 0, 1024)), ' ');
  s += "\n";
  auto lines = split_lines(s);
  std::string rv;
  if (blank) {
    for (std::size_t i = 0; i < lines.size(); ++i) {
      if (i) rv += "\n" + indention;
      rv += lines[i];
    }
  } else {
    rv = lines.empty() ? "" : lines[0];
    for (std::size_t i = 1; i < lines.size(); ++i) {
      rv += "\n";
      if (!lines[i].empty()) rv += indention;
      rv += lines[i];
    }
  }
  if (first) rv = indention + rv;
  return rv;
}

double round_half_even_digits(double x, std::int64_t digits) {
  if (!std::isfinite(x)) return x;
  if (digits == 0) return std::nearbyint(x);
  if (digits > 300 || digits < -300) return digits > 0 ? x : 0.0 * x;
  if (digits > 0) {
    char buf[512];
    std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(std::min<std::int64_t>(digits, 340)), x);
    return std::strtod(buf, nullptr);
  }
  double p = std::pow(10.0, static_cast<double>(-digits));
  return std::nearbyint(x / p) * p;
}

value do_round(const value& v, std::int64_t precision, const std::string& method) {
  if (!v.is_number()) throw eval_failure("type " + type_name(v) + " doesn't define __round__ method");
  if (method == "common") {
    if (v.is_integral()) return value::int_(v.as_int());
    return value::float_(round_half_even_digits(v.floating, precision));
  }
  double p = std::pow(10.0, static_cast<double>(precision));
  double x = v.as_float() * p;
  double r;
  if (method == "ceil") r = std::ceil(x);
  else if (method == "floor") r = std::floor(x);
  else throw eval_failure("method must be common, ceil or floor");
  return value::float_(r / p);
}

value to_int(const value& v, const value& fallback, std::int64_t base) {
  if (v.is_integral()) return value::int_(v.as_int());
  if (v.kind == value_kind::floating) {
    if (!std::isfinite(v.floating)) {
      if (std::isnan(v.floating)) return fallback;
      throw eval_failure("cannot convert float infinity to integer");
    }
    if (std::fabs(v.floating) >= 9.2e18) throw eval_failure("integer overflow");
    return value::int_(static_cast<std::int64_t>(v.floating));
  }
  if (v.is_string()) {
    if (auto i = parse_python_int(v.text, base)) return value::int_(*i);
    if (auto d = parse_python_float(v.text)) {
      if (std::isnan(*d)) return fallback;
      if (!std::isfinite(*d)) throw eval_failure("cannot convert float infinity to integer");
      if (std::fabs(*d) >= 9.2e18) throw eval_failure("integer overflow");
      return value::int_(static_cast<std::int64_t>(*d));
    }
  }
  return fallback;
}

value to_float(const value& v, const value& fallback) {
  if (v.is_number()) return value::float_(v.as_float());
  if (v.is_string()) {
    if (auto d = parse_python_float(v.text)) return value::float_(*d);
  }
  return fallback;
}

value aggregate(evaluator& ev, const value& seq, bool case_sensitive, const value* attribute, bool want_max) {
  auto items = ev.iterate(seq);
  if (items.empty()) return value::make_undefined("No aggregated item, sequence was empty.");
  std::size_t best = 0;
  value best_key = lowered(attribute ? get_attribute_path(ev, items[0], *attribute) : items[0], case_sensitive);
  for (std::size_t i = 1; i < items.size(); ++i) {
    value key = lowered(attribute ? get_attribute_path(ev, items[i], *attribute) : items[i], case_sensitive);
    int c = compare(key, best_key);
    if (want_max ? c > 0 : c < 0) {
      best = i;
      best_key = std::move(key);
    }
  }
  return items[best];
}

std::string regex_replace(const std::string& subject, const std::string& pattern, const std::string& replacement,
                          std::int64_t count) {
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &error_code, &error_offset, nullptr);
  if (!code) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error_code, message, sizeof message);
    throw eval_failure("regex_replace: bad pattern: " + std::string(reinterpret_cast<char*>(message)));
  }
  pcre2_match_data* match = pcre2_match_data_create_from_pattern(code, nullptr);
  std::uint32_t group_count = 0;
  pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &group_count);
  struct cleanup {
    pcre2_code* c;
    pcre2_match_data* m;
    ~cleanup() {
      pcre2_match_data_free(m);
      pcre2_code_free(c);
    }
  } guard{code, match};
  auto group_text = [&](std::uint32_t g) -> std::string {
    if (g > group_count) throw eval_failure("regex_replace: invalid group reference " + std::to_string(g));
    PCRE2_SIZE* ov = pcre2_get_ovector_pointer(match);
    if (ov[2 * g] == PCRE2_UNSET) return "";
    return subject.substr(ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
  };
  auto expand = [&]() {
    std::string out;
    for (std::size_t i = 0; i < replacement.size(); ++i) {
      char c = replacement[i];
      if (c != '\\' || i + 1 >= replacement.size()) {
        out += c;
        continue;
      }
      char e = replacement[++i];
      if (e >= '0' && e <= '9') {
        std::uint32_t g = static_cast<std::uint32_t>(e - '0');
        if (i + 1 < replacement.size() && replacement[i + 1] >= '0' && replacement[i + 1] <= '9' &&
            g * 10 + static_cast<std::uint32_t>(replacement[i + 1] - '0') <= group_count)
          g = g * 10 + static_cast<std::uint32_t>(replacement[++i] - '0');
        out += group_text(g);
      } else if (e == 'g' && i + 1 < replacement.size() && replacement[i + 1] == '<') {
        auto close = replacement.find('>', i);
        if (close == std::string::npos) throw eval_failure("regex_replace: missing >");
        std::string name = replacement.substr(i + 2, close - i - 2);
        bool numeric = !name.empty() && std::all_of(name.begin(), name.end(), [](char d) { return d >= '0' && d <= '9'; });
        if (numeric && name.size() < 6) {
          out += group_text(static_cast<std::uint32_t>(std::atoi(name.c_str())));
        } else {
          int g = pcre2_substring_number_from_name(code, reinterpret_cast<PCRE2_SPTR>(name.c_str()));
          if (g < 0) throw eval_failure("regex_replace: unknown group name " + name);
          out += group_text(static_cast<std::uint32_t>(g));
        }
        i = close;
      } else {
        switch (e) {
          case 'n': out += '\n'; break;
          case 't': out += '\t'; break;
          case 'r': out += '\r'; break;
          case 'f': out += '\f'; break;
          case 'v': out += '\v'; break;
          case 'a': out += '\a'; break;
          case 'b': out += '\b'; break;
          case '\\': out += '\\'; break;
          default:
            if (std::isalpha(static_cast<unsigned char>(e))) throw eval_failure(std::string("regex_replace: bad escape \\") + e);
            out += '\\';
            out += e;
        }
      }
    }
    return out;
  };
  std::string out;
  std::size_t pos = 0, copied = 0;
  std::int64_t done = 0;
  bool last_empty = false;
  while (pos <= subject.size() && (count <= 0 || done < count)) {
    std::uint32_t options = last_empty ? PCRE2_NOTEMPTY_ATSTART | PCRE2_ANCHORED : 0;
    int rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), pos, options, match, nullptr);
    if (rc < 0) {
      if (rc != PCRE2_ERROR_NOMATCH) throw eval_failure("regex_replace: match failed");
      if (!last_empty) break;
      // step over one character after an empty match
      last_empty = false;
      if (pos >= subject.size()) break;
      ++pos;
      while (pos < subject.size() && (static_cast<unsigned char>(subject[pos]) & 0xc0) == 0x80) ++pos;
      continue;
    }
    PCRE2_SIZE* ov = pcre2_get_ovector_pointer(match);
    out.append(subject, copied, ov[0] - copied);
    out += expand();
    if (out.size() > max_string_bytes) throw eval_failure("result too large");
    copied = ov[1];
    ++done;
    last_empty = ov[0] == ov[1];
    pos = ov[1];
  }
  out.append(subject, copied, std::string::npos);
  return out;
}

using filter_fn = value (*)(evaluator&, value&, arguments&);

value f_length(evaluator& ev, value& v, arguments&) { return value::int_(length_of(ev, v)); }

value f_trim(evaluator& ev, value& v, arguments& a) {
  value chars = a.get(0, "chars", none_v());
  return python_strip(ev.str(v), chars, true, true, v.is_string() && v.flag);
}
value f_upper(evaluator& ev, value& v, arguments&) { return value::string(python_upper(ev.str(v))); }
value f_lower(evaluator& ev, value& v, arguments&) { return value::string(python_lower(ev.str(v))); }
value f_capitalize(evaluator& ev, value& v, arguments&) { return value::string(python_capitalize(ev.str(v))); }
value f_title(evaluator& ev, value& v, arguments&) { return value::string(jinja_title(ev.str(v))); }

value f_replace(evaluator& ev, value& v, arguments& a) {
  std::string s = ev.str(v);
  std::string old_text = ev.str(a.require(0, "old"));
  std::string new_text = ev.str(a.require(1, "new"));
  value count = a.get(2, "count", none_v());
  return value::string(python_replace(s, old_text, new_text, count.is_none() ? -1 : int_arg(count, "count")));
}

value f_default(evaluator& ev, value& v, arguments& a) {
  value fallback = a.get(0, "default_value", value::string(""));
  bool boolean = ev.truth(a.get(1, "boolean", value::boolean(false)));
  if (v.is_undefined() || (boolean && !ev.truth(v))) return fallback;
  return v;
}

value f_join(evaluator& ev, value& v, arguments& a) {
  std::string sep = ev.str(a.get(0, "d", value::string("")));
  value attribute = a.get(1, "attribute", none_v());
  std::string out;
  span_list spans;
  bool first = true;
  for (auto& item : ev.iterate(v)) {
    if (!first) out += sep;
    first = false;
    value piece = attribute.is_none() ? item : get_attribute_path(ev, item, attribute);
    for (auto [b, e] : spans_of(piece)) spans.emplace_back(out.size() + b, out.size() + e);
    out += ev.str(piece);
    if (out.size() > max_string_bytes) throw eval_failure("result too large");
  }
  return string_with_spans(std::move(out), std::move(spans));
}

value f_first(evaluator& ev, value& v, arguments&) {
  auto items = ev.iterate(v);
  if (items.empty()) return value::make_undefined("No first item, sequence was empty.");
  return items.front();
}

value f_last(evaluator& ev, value& v, arguments&) {
  if (v.is_undefined()) fail_undefined(v);
  auto items = ev.iterate(v);
  if (items.empty()) return value::make_undefined("No last item, sequence was empty.");
  return items.back();
}

value f_list(evaluator& ev, value& v, arguments&) { return value::list(ev.iterate(v)); }

value f_items(evaluator& ev, value& v, arguments&) {
  if (v.is_undefined()) {
    if (ev.strict_about(v)) fail_undefined(v);
    return value::list({});
  }
  if (!v.is_dict()) throw eval_failure("Can only get item pairs from a mapping.");
  value_list out;
  for (const auto& [k, item] : v.dict->entries) out.push_back(value::list({k, item}, true));
  return value::list(std::move(out));
}

value f_map(evaluator& ev, value& v, arguments& a) {
  if (!ev.truth(v)) return value::list({});  // jinja2: `if value: for item in value`
  auto items = ev.iterate(v);
  value_list out;
  call_args& raw = a.raw();
  const value* attribute = nullptr;
  value fallback;
  bool has_default = false;
  for (const auto& [k, item] : raw.keywords) {
    if (k == "attribute") attribute = &item;
    if (k == "default") {
      fallback = item;
      has_default = true;
    }
  }
  if (attribute) {
    for (auto& item : items) {
      value r = get_attribute_path(ev, item, *attribute);
      if (has_default && r.is_undefined()) r = fallback;
      out.push_back(std::move(r));
    }
    return value::list(std::move(out));
  }
  if (raw.positional.empty()) throw eval_failure("map requires a filter argument");
  std::string filter = string_arg(raw.positional[0], "map");
  for (auto& item : items) {
    call_args rest;
    rest.positional.assign(raw.positional.begin() + 1, raw.positional.end());
    rest.keywords = raw.keywords;
    out.push_back(apply_filter(ev, filter, item, rest));
  }
  return value::list(std::move(out));
}

value select_common(evaluator& ev, value& v, arguments& a, bool by_attribute, bool keep) {
  call_args& raw = a.raw();
  std::size_t next = 0;
  value attribute;
  if (by_attribute) {
    if (raw.positional.empty()) throw eval_failure("selectattr requires an attribute");
    attribute = raw.positional[next++];
  }
  if (!ev.truth(v)) return value::list({});  // jinja2: `if value: for item in value`
  std::string test;
  bool has_test = next < raw.positional.size();
  if (has_test) test = string_arg(raw.positional[next++], "select");
  value_list out;
  for (auto& item : ev.iterate(v)) {
    value subject = by_attribute ? get_attribute_path(ev, item, attribute) : item;
    bool ok;
    if (has_test) {
      call_args rest;
      rest.positional.assign(raw.positional.begin() + static_cast<std::ptrdiff_t>(next), raw.positional.end());
      rest.keywords = raw.keywords;
      ok = apply_test(ev, test, subject, rest);
    } else {
      ok = ev.truth(subject);
    }
    if (ok == keep) out.push_back(item);
  }
  return value::list(std::move(out));
}
value f_select(evaluator& ev, value& v, arguments& a) { return select_common(ev, v, a, false, true); }
value f_reject(evaluator& ev, value& v, arguments& a) { return select_common(ev, v, a, false, false); }
value f_selectattr(evaluator& ev, value& v, arguments& a) { return select_common(ev, v, a, true, true); }
value f_rejectattr(evaluator& ev, value& v, arguments& a) { return select_common(ev, v, a, true, false); }

value f_tojson(evaluator& ev, value& v, arguments& a) {
  if (ev.env().huggingface_extensions) {
    json_style style;
    style.ensure_ascii = ev.truth(a.get(0, "ensure_ascii", value::boolean(false)));
    style.indent = a.get(1, "indent", none_v());
    style.separators = a.get(2, "separators", none_v());
    style.sort_keys = ev.truth(a.get(3, "sort_keys", value::boolean(false)));
    return value::string(python_json_dumps(v, style));
  }
  json_style style;
  style.ensure_ascii = true;
  style.sort_keys = true;
  style.indent = a.get(0, "indent", none_v());
  for (const auto& [k, unused] : a.raw().keywords)
    if (k != "indent") throw eval_failure("do_tojson() got an unexpected keyword argument '" + k + "'");
  if (a.positional_count() > 1) throw eval_failure("do_tojson() takes at most 2 positional arguments");
  std::string text = python_json_dumps(v, style);
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<': out += "\\u003c"; break;
      case '>': out += "\\u003e"; break;
      case '&': out += "\\u0026"; break;
      case '\'': out += "\\u0027"; break;
      default: out += c;
    }
  }
  return value::string(std::move(out));
}

value f_string(evaluator& ev, value& v, arguments&) {
  if (v.is_string()) return v;
  return value::string(ev.str(v));
}

value f_int(evaluator&, value& v, arguments& a) {
  value base = a.get(1, "base", value::int_(10));
  return to_int(v, a.get(0, "default", value::int_(0)), int_arg(base, "base"));
}
value f_float(evaluator&, value& v, arguments& a) { return to_float(v, a.get(0, "default", value::float_(0.0))); }

value f_abs(evaluator&, value& v, arguments&) {
  if (v.is_integral()) {
    if (v.as_int() == INT64_MIN) throw eval_failure("integer overflow");
    return value::int_(std::llabs(v.as_int()));
  }
  if (v.kind == value_kind::floating) return value::float_(std::fabs(v.floating));
  if (v.is_undefined()) fail_undefined(v);
  throw eval_failure("bad operand type for abs(): '" + type_name(v) + "'");
}

value f_round(evaluator& ev, value& v, arguments& a) {
  return do_round(v, int_arg(a.get(0, "precision", value::int_(0)), "precision"),
                  ev.str(a.get(1, "method", value::string("common"))));
}

value f_sort(evaluator& ev, value& v, arguments& a) {
  bool reverse = ev.truth(a.get(0, "reverse", value::boolean(false)));
  bool case_sensitive = ev.truth(a.get(1, "case_sensitive", value::boolean(false)));
  value attribute = a.get(2, "attribute", none_v());
  return value::list(sorted_values(ev, ev.iterate(v), reverse, case_sensitive, attribute.is_none() ? nullptr : &attribute));
}

value f_unique(evaluator& ev, value& v, arguments& a) {
  bool case_sensitive = ev.truth(a.get(0, "case_sensitive", value::boolean(false)));
  value attribute = a.get(1, "attribute", none_v());
  value_list out, seen;
  for (auto& item : ev.iterate(v)) {
    value key = lowered(attribute.is_none() ? item : get_attribute_path(ev, item, attribute), case_sensitive);
    bool found = false;
    for (const auto& s : seen)
      if (equals(s, key)) found = true;
    if (!found) {
      seen.push_back(std::move(key));
      out.push_back(item);
    }
  }
  return value::list(std::move(out));
}

value f_dictsort(evaluator& ev, value& v, arguments& a) {
  bool case_sensitive = ev.truth(a.get(0, "case_sensitive", value::boolean(false)));
  std::string by = ev.str(a.get(1, "by", value::string("key")));
  bool reverse = ev.truth(a.get(2, "reverse", value::boolean(false)));
  if (!v.is_dict()) throw eval_failure("dictsort needs a mapping");
  value_list pairs;
  for (const auto& [k, item] : v.dict->entries) pairs.push_back(value::list({k, item}, true));
  value index = value::int_(by == "value" ? 1 : 0);
  if (by != "key" && by != "value") throw eval_failure("You can only sort by either \"key\" or \"value\"");
  return value::list(sorted_values(ev, std::move(pairs), reverse, case_sensitive, &index));
}

value f_reverse(evaluator& ev, value& v, arguments&) {
  if (v.is_string()) {
    auto chars = utf8_chars(v.text);
    std::string out;
    for (auto it = chars.rbegin(); it != chars.rend(); ++it) out += *it;
    return value::string(std::move(out));
  }
  auto items = ev.iterate(v);
  std::reverse(items.begin(), items.end());
  return value::list(std::move(items));
}

value f_safe(evaluator&, value& v, arguments&) { return v; }
value f_escape(evaluator& ev, value& v, arguments&) { return value::string(html_escape(ev.str(v))); }

value f_indent(evaluator& ev, value& v, arguments& a) {
  // jinja2 appends "\n" to the value itself: only a str works
  if (!v.is_string()) {
    if (v.is_undefined()) fail_undefined(v);
    throw eval_failure("can only indent a str, not " + type_name(v));
  }
  return value::string(indent_text(v.text, a.get(0, "width", value::int_(4)),
                                   ev.truth(a.get(1, "first", value::boolean(false))),
                                   ev.truth(a.get(2, "blank", value::boolean(false)))));
}

value f_wordcount(evaluator& ev, value& v, arguments&) {
  std::string s = ev.str(v);
  std::int64_t words = 0;
  bool in_word = false;
  for (unsigned char c : s) {
    bool word_char = std::isalnum(c) || c == '_' || c >= 0x80;
    if (word_char && !in_word) ++words;
    in_word = word_char;
  }
  return value::int_(words);
}

value f_center(evaluator& ev, value& v, arguments& a) {
  return value::string(python_center(ev.str(v), int_arg(a.get(0, "width", value::int_(80)), "width")));
}

value f_batch(evaluator& ev, value& v, arguments& a) {
  std::int64_t size = int_arg(a.require(0, "linecount"), "linecount");
  if (size <= 0) throw eval_failure("batch size must be positive");
  value fill = a.get(1, "fill_with", none_v());
  value_list out, current;
  for (auto& item : ev.iterate(v)) {
    current.push_back(item);
    if (static_cast<std::int64_t>(current.size()) == size) {
      out.push_back(value::list(std::move(current)));
      current.clear();
    }
  }
  if (!current.empty()) {
    if (!fill.is_none())
      while (static_cast<std::int64_t>(current.size()) < size) current.push_back(fill);
    out.push_back(value::list(std::move(current)));
  }
  return value::list(std::move(out));
}

value f_slice(evaluator& ev, value& v, arguments& a) {
  std::int64_t slices = int_arg(a.require(0, "slices"), "slices");
  if (slices <= 0 || slices > 100000) throw eval_failure("slices must be positive");
  value fill = a.get(1, "fill_with", none_v());
  auto items = ev.iterate(v);
  auto n = static_cast<std::int64_t>(items.size());
  std::int64_t per = n / slices, extra = n % slices, offset = 0;
  value_list out;
  for (std::int64_t i = 0; i < slices; ++i) {
    std::int64_t start = offset + i * per;
    if (i < extra) ++offset;
    std::int64_t end = offset + (i + 1) * per;
    value_list part(items.begin() + start, items.begin() + end);
    if (!fill.is_none() && i >= extra) part.push_back(fill);
    out.push_back(value::list(std::move(part)));
  }
  return value::list(std::move(out));
}

value f_sum(evaluator& ev, value& v, arguments& a) {
  value attribute = a.get(0, "attribute", none_v());
  value total = a.get(1, "start", value::int_(0));
  for (auto& item : ev.iterate(v))
    total = binary_operation(ev, "+", total, attribute.is_none() ? item : get_attribute_path(ev, item, attribute));
  return total;
}

value f_min(evaluator& ev, value& v, arguments& a) {
  value attribute = a.get(1, "attribute", none_v());
  return aggregate(ev, v, ev.truth(a.get(0, "case_sensitive", value::boolean(false))),
                   attribute.is_none() ? nullptr : &attribute, false);
}
value f_max(evaluator& ev, value& v, arguments& a) {
  value attribute = a.get(1, "attribute", none_v());
  return aggregate(ev, v, ev.truth(a.get(0, "case_sensitive", value::boolean(false))),
                   attribute.is_none() ? nullptr : &attribute, true);
}

value f_format(evaluator& ev, value& v, arguments& a) {
  call_args& raw = a.raw();
  if (!raw.keywords.empty() && !raw.positional.empty())
    throw eval_failure("can't handle positional and keyword arguments at the same time");
  if (!raw.keywords.empty()) {
    auto d = std::make_shared<value_dict>();
    for (auto& [k, item] : raw.keywords) d->set(value::string(k), item);
    return value::string(percent_format(ev.str(v), value::make_dict(d)));
  }
  return value::string(percent_format(ev.str(v), value::list(raw.positional, true)));
}

value f_regex_replace(evaluator&, value& v, arguments& a) {
  return value::string(regex_replace(string_arg(v, "regex_replace"), string_arg(a.require(0, "pattern"), "pattern"),
                                     string_arg(a.require(1, "repl"), "repl"),
                                     int_arg(a.get(2, "count", value::int_(0)), "count")));
}

value f_attr(evaluator& ev, value& v, arguments& a) { return ev.getattr(v, ev.str(a.require(0, "name"))); }

const std::unordered_map<std::string_view, filter_fn>& filters() {
  static const std::unordered_map<std::string_view, filter_fn> table = {
      {"length", f_length}, {"count", f_length}, {"trim", f_trim}, {"upper", f_upper}, {"lower", f_lower},
      {"title", f_title}, {"capitalize", f_capitalize}, {"replace", f_replace}, {"default", f_default},
      {"d", f_default}, {"join", f_join}, {"first", f_first}, {"last", f_last}, {"list", f_list},
      {"items", f_items}, {"map", f_map}, {"select", f_select}, {"reject", f_reject},
      {"selectattr", f_selectattr}, {"rejectattr", f_rejectattr}, {"tojson", f_tojson}, {"string", f_string},
      {"int", f_int}, {"float", f_float}, {"abs", f_abs}, {"round", f_round}, {"sort", f_sort},
      {"unique", f_unique}, {"dictsort", f_dictsort}, {"reverse", f_reverse}, {"safe", f_safe},
      {"escape", f_escape}, {"e", f_escape}, {"forceescape", f_escape}, {"indent", f_indent},
      {"wordcount", f_wordcount}, {"center", f_center}, {"batch", f_batch}, {"slice", f_slice}, {"sum", f_sum},
      {"min", f_min}, {"max", f_max}, {"format", f_format}, {"attr", f_attr}, {"regex_replace", f_regex_replace},
  };
  return table;
}

// ---- tests ----

bool t_lower_upper(evaluator& ev, const value& v, bool upper) {
  std::string s = ev.str(v);
  return upper ? python_isupper(s) : python_islower(s);
}

}  // namespace

bool filter_exists(std::string_view name, const environment_options& env) {
  if (name == "regex_replace") return env.lm_eval_filters;
  return filters().count(name) != 0;
}

value apply_filter(evaluator& ev, std::string_view name, value operand, call_args& args) {
  auto it = filters().find(name);
  if (it == filters().end() || !filter_exists(name, ev.env()))
    throw eval_failure("No filter named '" + std::string(name) + "'.");
  arguments a(args, name);
  return it->second(ev, operand, a);
}

bool test_exists(std::string_view name) {
  static constexpr std::string_view names[] = {
      "defined", "undefined", "none", "string", "number", "integer", "float", "mapping", "iterable", "sequence",
      "boolean", "true", "false", "even", "odd", "divisibleby", "eq", "equalto", "==", "ne", "!=", "lt", "<",
      "lessthan", "le", "<=", "gt", ">", "greaterthan", "ge", ">=", "lower", "upper", "in", "callable", "sameas",
      "escaped", "filter", "test"};
  return std::find(std::begin(names), std::end(names), name) != std::end(names);
}

bool apply_test(evaluator& ev, std::string_view name, const value& v, call_args& args) {
  arguments a(args, name);
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "string") return v.is_string();
  if (name == "number") return v.is_number();
  if (name == "integer") return v.kind == value_kind::integer;
  if (name == "float") return v.kind == value_kind::floating;
  if (name == "boolean") return v.kind == value_kind::boolean;
  if (name == "true") return v.kind == value_kind::boolean && v.flag;
  if (name == "false") return v.kind == value_kind::boolean && !v.flag;
  if (name == "mapping") return v.is_dict();
  if (name == "iterable") {  // iter(value): a StrictUndefined raises
    if (v.is_undefined() && ev.strict_about(v)) fail_undefined(v);
    return v.is_undefined() || v.is_string() || v.is_list() || v.is_dict();
  }
  if (name == "sequence") {  // len(value) and value.__getitem__; any failure is False
    if (v.is_undefined()) return !ev.strict_about(v);
    return v.is_string() || v.is_list() || v.is_dict();
  }
  if (name == "callable") return v.kind == value_kind::callable || (v.kind == value_kind::loop && v.loop->recurse);
  if (name == "escaped") return false;
  if (name == "even" || name == "odd") {
    if (v.is_undefined()) fail_undefined(v);
    if (!v.is_number()) throw eval_failure("not all arguments converted during string formatting");
    value remainder = binary_operation(ev, "%", v, value::int_(2));
    return equals(remainder, value::int_(name == "even" ? 0 : 1));
  }
  if (name == "divisibleby") {
    value n = a.require(0, "num");
    return equals(binary_operation(ev, "%", v, n), value::int_(0));
  }
  if (name == "eq" || name == "equalto" || name == "==") return compare_operation(ev, "==", v, a.require(0, "other"));
  if (name == "ne" || name == "!=") return compare_operation(ev, "!=", v, a.require(0, "other"));
  if (name == "lt" || name == "<" || name == "lessthan") return compare_operation(ev, "<", v, a.require(0, "other"));
  if (name == "le" || name == "<=") return compare_operation(ev, "<=", v, a.require(0, "other"));
  if (name == "gt" || name == ">" || name == "greaterthan") return compare_operation(ev, ">", v, a.require(0, "other"));
  if (name == "ge" || name == ">=") return compare_operation(ev, ">=", v, a.require(0, "other"));
  if (name == "in") return contains(ev, a.require(0, "seq"), v);
  if (name == "lower") return t_lower_upper(ev, v, false);
  if (name == "upper") return t_lower_upper(ev, v, true);
  if (name == "sameas") {
    value other = a.require(0, "other");
    if (v.kind != other.kind) return false;
    if (v.is_none() || v.is_undefined()) return true;
    if (v.kind == value_kind::boolean) return v.flag == other.flag;
    if (v.is_list()) return v.items == other.items;
    if (v.is_dict()) return v.dict == other.dict;
    if (v.kind == value_kind::integer) return v.integer == other.integer && v.integer >= -5 && v.integer <= 256;
    return false;
  }
  if (name == "filter") return filter_exists(ev.str(v), ev.env());
  if (name == "test") return test_exists(ev.str(v));
  throw eval_failure("No test named '" + std::string(name) + "'.");
}

// ---- methods ----

bool is_method(const value& obj, std::string_view name) {
  static const std::string_view str_methods[] = {
      "strip", "lstrip", "rstrip", "split", "rsplit", "splitlines", "startswith", "endswith", "replace", "upper",
      "lower", "title", "capitalize", "swapcase", "format", "join", "find", "rfind", "index", "rindex", "count",
      "isdigit", "isalpha", "isalnum", "isspace", "islower", "isupper", "isnumeric", "isdecimal", "zfill", "center",
      "ljust", "rjust", "removeprefix", "removesuffix", "partition", "rpartition"};
  static const std::string_view list_methods[] = {"index", "count"};
  static const std::string_view dict_methods[] = {"items", "keys", "values", "get", "pop", "copy", "update",
                                                  "setdefault", "clear", "popitem", "fromkeys"};
  auto has = [name](const auto& table) { return std::find(std::begin(table), std::end(table), name) != std::end(table); };
  if (obj.is_string()) return has(str_methods);
  if (obj.is_list()) return has(list_methods);
  if (obj.is_dict()) return has(dict_methods);
  return false;
}

value call_method(evaluator& ev, const value& obj, std::string_view name, call_args& args) {
  arguments a(args, name);
  if (obj.is_dict()) {
    const auto& entries = obj.dict->entries;
    if (name == "items") {
      value_list out;
      for (const auto& [k, v] : entries) out.push_back(value::list({k, v}, true));
      return value::list(std::move(out));
    }
    if (name == "keys" || name == "values") {
      value_list out;
      for (const auto& [k, v] : entries) out.push_back(name == "keys" ? k : v);
      return value::list(std::move(out));
    }
    if (name == "get") {
      value key = a.require(0, "key");
      if (const value* v = obj.dict->find(key)) return *v;
      return a.get(1, "default", value::none());
    }
    if (name == "copy") {
      auto d = std::make_shared<value_dict>(*obj.dict);
      return value::make_dict(std::move(d));
    }
    throw eval_failure("dict." + std::string(name) + " is not safely callable (the template cannot modify a dict)");
  }
  if (obj.is_list()) {
    if (name == "index") {
      value x = a.require(0, "value");
      for (std::size_t i = 0; i < obj.items->size(); ++i)
        if (equals((*obj.items)[i], x)) return value::int_(static_cast<std::int64_t>(i));
      throw eval_failure(repr(x) + " is not in list");
    }
    std::int64_t n = 0;
    value x = a.require(0, "value");
    for (const auto& item : *obj.items)
      if (equals(item, x)) ++n;
    return value::int_(n);
  }
  return call_str_method(ev, obj, name, args);
}

// ---- globals ----

const value* find_global(std::string_view name, const environment_options& env) {
  static const std::map<std::string_view, value, std::less<>> common = [] {
    std::map<std::string_view, value, std::less<>> table;
    auto add = [&table](std::string_view n, value (*fn)(evaluator&, call_args&)) {
      auto c = std::make_shared<callable>();
      c->name = std::string(n);
      c->call = fn;
      table.emplace(n, value::make_callable(std::move(c)));
    };
    add("range", [](evaluator&, call_args& args) -> value {
      arguments a(args, "range");
      std::int64_t start = 0, stop, step = 1;
      if (a.positional_count() == 1) {
        stop = int_arg(a.require(0, "stop"), "range");
      } else {
        start = int_arg(a.require(0, "start"), "range");
        stop = int_arg(a.require(1, "stop"), "range");
        step = int_arg(a.get(2, "step", value::int_(1)), "range");
      }
      if (step == 0) throw eval_failure("range() arg 3 must not be zero");
      value_list out;
      for (std::int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
        if (out.size() >= 100000) throw eval_failure("Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
        out.push_back(value::int_(i));
        if ((step > 0 && i > INT64_MAX - step) || (step < 0 && i < INT64_MIN - step)) break;
      }
      return value::list(std::move(out));
    });
    add("dict", [](evaluator&, call_args& args) -> value {
      auto d = std::make_shared<value_dict>();
      for (auto& p : args.positional)
        if (p.is_dict()) for (auto& [k, v] : p.dict->entries) d->set(k, v);
      for (auto& [k, v] : args.keywords) d->set(value::string(k), v);
      return value::make_dict(std::move(d));
    });
    add("namespace", [](evaluator&, call_args& args) -> value {
      auto d = std::make_shared<value_dict>();
      for (auto& p : args.positional)
        if (p.is_dict()) for (auto& [k, v] : p.dict->entries) d->set(k, v);
      for (auto& [k, v] : args.keywords) d->set(value::string(k), v);
      value ns;
      ns.kind = value_kind::name_space;
      ns.dict = std::move(d);
      return ns;
    });
    add("joiner", [](evaluator& ev, call_args& args) -> value {
      std::string sep = ev.str(arguments(args, "joiner").get(0, "sep", value::string(", ")));
      auto used = std::make_shared<bool>(false);
      auto c = std::make_shared<callable>();
      c->name = "joiner";
      c->call = [sep, used](evaluator&, call_args&) -> value {
        if (!*used) {
          *used = true;
          return value::string("");
        }
        return value::string(sep);
      };
      return value::make_callable(std::move(c));
    });
    return table;
  }();
  static const std::map<std::string_view, value, std::less<>> chat = [] {
    std::map<std::string_view, value, std::less<>> table;
    auto add = [&table](std::string_view n, value (*fn)(evaluator&, call_args&)) {
      auto c = std::make_shared<callable>();
      c->name = std::string(n);
      c->call = fn;
      table.emplace(n, value::make_callable(std::move(c)));
    };
    add("raise_exception", [](evaluator& ev, call_args& args) -> value {
      throw eval_failure(args.positional.empty() ? std::string("raise_exception") : ev.str(args.positional[0]));
    });
    add("strftime_now", [](evaluator& ev, call_args& args) -> value {
      std::string format = ev.str(arguments(args, "strftime_now").require(0, "format"));
      std::int64_t now = ev.options().unix_seconds_now ? ev.options().unix_seconds_now()
                                                       : static_cast<std::int64_t>(std::time(nullptr));
      std::time_t t = static_cast<std::time_t>(now);
      std::tm tm{};
      gmtime_r(&t, &tm);
      char buf[512];
      std::size_t n = format.size() < 200 ? std::strftime(buf, sizeof buf, format.c_str(), &tm) : 0;
      return value::string(std::string(buf, n));
    });
    return table;
  }();
  if (env.huggingface_extensions) {
    if (auto it = chat.find(name); it != chat.end()) return &it->second;
  }
  if (auto it = common.find(name); it != common.end()) return &it->second;
  return nullptr;
}

}  // namespace huashan::harness::jinja
