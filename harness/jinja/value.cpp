#include "harness/jinja/value.hpp"

#include <boost/json.hpp>
#include <utf8proc.h>

#include <charconv>
#include <cmath>
#include <cstdio>

namespace huashan::harness::jinja {

const value* value_dict::find(const value& key) const {
  if (key.is_string()) return find(std::string_view(key.text));
  for (const auto& [k, v] : entries)
    if (equals(k, key)) return &v;
  return nullptr;
}

const value* value_dict::find(std::string_view key) const {
  for (const auto& [k, v] : entries)
    if (k.is_string() && k.text == key) return &v;
  return nullptr;
}

void value_dict::set(value key, value v) {
  for (auto& [k, existing] : entries) {
    if (equals(k, key)) {
      existing = std::move(v);
      return;
    }
  }
  entries.emplace_back(std::move(key), std::move(v));
}

span_list spans_of(const value& v) {
  if (!v.is_string()) return {};
  if (v.flag) return v.text.empty() ? span_list{} : span_list{{0, v.text.size()}};
  return v.spans ? *v.spans : span_list{};
}

value string_with_spans(std::string s, span_list spans) {
  std::size_t size = s.size();
  value v = value::string(std::move(s));
  if (spans.empty()) return v;
  if (spans.size() == 1 && spans[0].first == 0 && spans[0].second == size) {
    v.flag = true;
    return v;
  }
  v.spans = std::make_shared<const span_list>(std::move(spans));
  return v;
}

void fail_undefined(const value& v) {
  throw eval_failure(v.text.empty() ? std::string("value is undefined") : v.text);
}

bool truthy(const value& v, bool strict) {
  switch (v.kind) {
    case value_kind::undefined:
      if (strict && !v.flag) fail_undefined(v);
      return false;
    case value_kind::none: return false;
    case value_kind::boolean: return v.flag;
    case value_kind::integer: return v.integer != 0;
    case value_kind::floating: return v.floating != 0.0;
    case value_kind::string: return !v.text.empty();
    case value_kind::list: return !v.items->empty();
    case value_kind::dict: return !v.dict->entries.empty();
    default: return true;
  }
}

std::string python_float_repr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  auto epos = sci.find('e');
  std::string mantissa = sci.substr(0, epos);
  int exponent = std::stoi(sci.substr(epos + 1));
  bool negative = !mantissa.empty() && mantissa[0] == '-';
  if (negative) mantissa.erase(0, 1);
  std::string digits;
  for (char c : mantissa)
    if (c != '.') digits += c;
  std::string out = negative ? "-" : "";
  if (exponent < -4 || exponent >= 16) {
    out += digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char e[16];
    std::snprintf(e, sizeof e, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
    return out + e;
  }
  if (exponent < 0) {
    out += "0." + std::string(static_cast<std::size_t>(-exponent - 1), '0') + digits;
    return out;
  }
  auto point = static_cast<std::size_t>(exponent) + 1;
  if (digits.size() <= point) {
    out += digits + std::string(point - digits.size(), '0') + ".0";
  } else {
    out += digits.substr(0, point) + "." + digits.substr(point);
  }
  return out;
}

namespace {

std::int32_t decode_utf8(std::string_view s, std::size_t& i) {
  utf8proc_int32_t cp = 0;
  auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + i),
                            static_cast<utf8proc_ssize_t>(s.size() - i), &cp);
  if (n <= 0) {
    cp = static_cast<unsigned char>(s[i]);
    n = 1;
  }
  i += static_cast<std::size_t>(n);
  return cp;
}

bool printable(std::int32_t cp) {
  if (cp == ' ') return true;
  if (cp < 0x20 || cp == 0x7f) return false;
  if (cp < 0x7f) return true;
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
    case UTF8PROC_CATEGORY_ZS: return false;
    default: return true;
  }
}

std::string string_repr(std::string_view s) {
  bool has_single = s.find('\'') != std::string_view::npos;
  bool has_double = s.find('"') != std::string_view::npos;
  char quote = has_single && !has_double ? '"' : '\'';
  std::string out(1, quote);
  for (std::size_t i = 0; i < s.size();) {
    std::size_t start = i;
    auto cp = decode_utf8(s, i);
    if (cp == quote || cp == '\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (!printable(cp)) {
      char buf[16];
      if (cp < 0x100) std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(cp));
      else if (cp < 0x10000) std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
      else std::snprintf(buf, sizeof buf, "\\U%08x", static_cast<unsigned>(cp));
      out += buf;
    } else {
      out.append(s.substr(start, i - start));
    }
  }
  out += quote;
  return out;
}

}  // namespace

std::string repr(const value& v) {
  switch (v.kind) {
    case value_kind::string: return string_repr(v.text);
    case value_kind::list: {
      bool tuple = v.flag;
      std::string out = tuple ? "(" : "[";
      bool first = true;
      for (const auto& item : *v.items) {
        if (!first) out += ", ";
        first = false;
        out += repr(item);
      }
      if (tuple && v.items->size() == 1) out += ",";
      out += tuple ? ")" : "]";
      return out;
    }
    case value_kind::dict: {
      std::string out = "{";
      bool first = true;
      for (const auto& [k, item] : v.dict->entries) {
        if (!first) out += ", ";
        first = false;
        out += repr(k) + ": " + repr(item);
      }
      return out + "}";
    }
    case value_kind::undefined: return "Undefined";
    default: return to_str(v, false);
  }
}

std::string to_str(const value& v, bool strict) {
  switch (v.kind) {
    case value_kind::undefined:
      if (strict && !v.flag) fail_undefined(v);
      return "";
    case value_kind::none: return "None";
    case value_kind::boolean: return v.flag ? "True" : "False";
    case value_kind::integer: return std::to_string(v.integer);
    case value_kind::floating: return python_float_repr(v.floating);
    case value_kind::string: return v.text;
    case value_kind::list:
    case value_kind::dict: return repr(v);
    case value_kind::callable: return "<function " + v.function->name + ">";
    case value_kind::name_space: return "<Namespace>";
    case value_kind::loop: return "<LoopContext>";
  }
  return "";
}

std::string type_name(const value& v) {
  switch (v.kind) {
    case value_kind::undefined: return "Undefined";
    case value_kind::none: return "NoneType";
    case value_kind::boolean: return "bool";
    case value_kind::integer: return "int";
    case value_kind::floating: return "float";
    case value_kind::string: return "str";
    case value_kind::list: return v.flag ? "tuple" : "list";
    case value_kind::dict: return "dict";
    case value_kind::callable: return "function";
    case value_kind::name_space: return "Namespace";
    case value_kind::loop: return "LoopContext";
  }
  return "object";
}

bool equals(const value& a, const value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_integral() && b.is_integral()) return a.as_int() == b.as_int();
    return a.as_float() == b.as_float();
  }
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case value_kind::undefined:
    case value_kind::none: return true;
    case value_kind::string: return a.text == b.text;
    case value_kind::list: {
      if (a.flag != b.flag || a.items->size() != b.items->size()) return false;
      for (std::size_t i = 0; i < a.items->size(); ++i)
        if (!equals((*a.items)[i], (*b.items)[i])) return false;
      return true;
    }
    case value_kind::dict: {
      if (a.dict->entries.size() != b.dict->entries.size()) return false;
      for (const auto& [k, v] : a.dict->entries) {
        const value* other = b.dict->find(k);
        if (!other || !equals(v, *other)) return false;
      }
      return true;
    }
    case value_kind::callable: return a.function == b.function;
    case value_kind::name_space: return a.dict == b.dict;
    case value_kind::loop: return a.loop == b.loop;
    default: return false;
  }
}

int compare(const value& a, const value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_integral() && b.is_integral()) return a.as_int() < b.as_int() ? -1 : a.as_int() > b.as_int() ? 1 : 0;
    double x = a.as_float(), y = b.as_float();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.is_string() && b.is_string()) {
    int c = a.text.compare(b.text);
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  if (a.is_list() && b.is_list() && a.flag == b.flag) {
    std::size_t n = std::min(a.items->size(), b.items->size());
    for (std::size_t i = 0; i < n; ++i) {
      if (equals((*a.items)[i], (*b.items)[i])) continue;
      return compare((*a.items)[i], (*b.items)[i]);
    }
    return a.items->size() < b.items->size() ? -1 : a.items->size() > b.items->size() ? 1 : 0;
  }
  if (a.is_undefined()) fail_undefined(a);
  if (b.is_undefined()) fail_undefined(b);
  throw eval_failure("'<' not supported between instances of '" + type_name(a) + "' and '" + type_name(b) + "'");
}

value from_json(const boost::json::value& j) {
  switch (j.kind()) {
    case boost::json::kind::null: return value::none();
    case boost::json::kind::bool_: return value::boolean(j.get_bool());
    case boost::json::kind::int64: return value::int_(j.get_int64());
    case boost::json::kind::uint64: {
      auto u = j.get_uint64();
      if (u > static_cast<std::uint64_t>(INT64_MAX)) return value::float_(static_cast<double>(u));
      return value::int_(static_cast<std::int64_t>(u));
    }
    case boost::json::kind::double_: return value::float_(j.get_double());
    case boost::json::kind::string: return value::string(std::string(j.get_string()), true);
    case boost::json::kind::array: {
      value_list items;
      items.reserve(j.get_array().size());
      for (const auto& e : j.get_array()) items.push_back(from_json(e));
      return value::list(std::move(items));
    }
    case boost::json::kind::object: {
      auto d = std::make_shared<value_dict>();
      d->entries.reserve(j.get_object().size());
      for (const auto& e : j.get_object())
        d->entries.emplace_back(value::string(std::string(e.key()), true), from_json(e.value()));
      return value::make_dict(std::move(d));
    }
  }
  return value::none();
}

std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size();) {
    decode_utf8(s, i);
    ++n;
  }
  return n;
}

std::vector<std::string_view> utf8_chars(std::string_view s) {
  std::vector<std::string_view> out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    std::size_t start = i;
    decode_utf8(s, i);
    out.push_back(s.substr(start, i - start));
  }
  return out;
}

}  // namespace huashan::harness::jinja
