#include "harness/jinja/json_text.hpp"

#include <utf8proc.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

#include "harness/jinja/operators.hpp"

namespace huashan::harness::jinja {

namespace {

void append_escaped(std::string& out, std::string_view s, bool ensure_ascii) {
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    char buf[16];
    switch (c) {
      case '"': out += "\\\""; ++i; continue;
      case '\\': out += "\\\\"; ++i; continue;
      case '\n': out += "\\n"; ++i; continue;
      case '\r': out += "\\r"; ++i; continue;
      case '\t': out += "\\t"; ++i; continue;
      case '\b': out += "\\b"; ++i; continue;
      case '\f': out += "\\f"; ++i; continue;
      default: break;
    }
    if (c < 0x20) {
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
      ++i;
      continue;
    }
    if (c < 0x80 || !ensure_ascii) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    utf8proc_int32_t cp = 0;
    auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + i),
                              static_cast<utf8proc_ssize_t>(s.size() - i), &cp);
    if (n <= 0) {
      cp = 0xfffd;
      n = 1;
    }
    if (cp >= 0x10000) {
      auto v = static_cast<unsigned>(cp - 0x10000);
      std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", 0xd800 + (v >> 10), 0xdc00 + (v & 0x3ff));
    } else {
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
    }
    out += buf;
    i += static_cast<std::size_t>(n);
  }
  out += '"';
}

std::string float_text(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  return python_float_repr(d);
}

class writer {
 public:
  explicit writer(const json_style& style) : style_(style) {
    if (style.indent.is_none()) {
      indent_ = std::nullopt;
    } else if (style.indent.is_string()) {
      indent_ = style.indent.text;
    } else if (style.indent.is_integral()) {
      indent_ = std::string(static_cast<std::size_t>(std::clamp<std::int64_t>(style.indent.as_int(), 0, 256)), ' ');
    } else {
      throw eval_failure("indent must be None, an int or a str");
    }
    item_sep_ = indent_ ? "," : ", ";
    key_sep_ = ": ";
    if (style.separators.is_list() && style.separators.items->size() == 2) {
      const auto& pair = *style.separators.items;
      if (!pair[0].is_string() || !pair[1].is_string()) throw eval_failure("separators must be strings");
      item_sep_ = pair[0].text;
      key_sep_ = pair[1].text;
    } else if (!style.separators.is_none()) {
      throw eval_failure("separators must be a (item_separator, key_separator) pair");
    }
  }

  void write(const value& v, std::size_t level) {
    if (out.size() > max_string_bytes) throw eval_failure("result too large");
    if (level > 200) throw eval_failure("maximum recursion depth exceeded while encoding a JSON object");
    switch (v.kind) {
      case value_kind::none: out += "null"; return;
      case value_kind::boolean: out += v.flag ? "true" : "false"; return;
      case value_kind::integer: out += std::to_string(v.integer); return;
      case value_kind::floating: out += float_text(v.floating); return;
      case value_kind::string: append_escaped(out, v.text, style_.ensure_ascii); return;
      case value_kind::list: {
        if (v.items->empty()) {
          out += "[]";
          return;
        }
        out += '[';
        bool first = true;
        for (const auto& item : *v.items) {
          if (!first) out += item_sep_;
          first = false;
          newline(level + 1);
          write(item, level + 1);
        }
        newline(level);
        out += ']';
        return;
      }
      case value_kind::dict: {
        if (v.dict->entries.empty()) {
          out += "{}";
          return;
        }
        std::vector<std::pair<std::string, const value*>> entries;
        for (const auto& [k, item] : v.dict->entries) entries.emplace_back(key_text(k), &item);
        if (style_.sort_keys)
          std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        out += '{';
        bool first = true;
        for (const auto& [k, item] : entries) {
          if (!first) out += item_sep_;
          first = false;
          newline(level + 1);
          append_escaped(out, k, style_.ensure_ascii);
          out += key_sep_;
          write(*item, level + 1);
        }
        newline(level);
        out += '}';
        return;
      }
      default: throw eval_failure("Object of type " + type_name(v) + " is not JSON serializable");
    }
  }

  std::string out;

 private:
  static std::string key_text(const value& k) {
    switch (k.kind) {
      case value_kind::string: return k.text;
      case value_kind::integer: return std::to_string(k.integer);
      case value_kind::floating: return float_text(k.floating);
      case value_kind::boolean: return k.flag ? "true" : "false";
      case value_kind::none: return "null";
      default: throw eval_failure("keys must be str, int, float, bool or None, not " + type_name(k));
    }
  }

  void newline(std::size_t level) {
    if (!indent_) return;
    out += '\n';
    for (std::size_t i = 0; i < level; ++i) out += *indent_;
  }

  const json_style& style_;
  std::optional<std::string> indent_;
  std::string item_sep_, key_sep_;
};

}  // namespace

std::string python_json_dumps(const value& v, const json_style& style) {
  writer w(style);
  w.write(v, 0);
  return std::move(w.out);
}

}  // namespace huashan::harness::jinja
