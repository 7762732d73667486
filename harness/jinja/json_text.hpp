// Python's json.dumps over template values: the tojson filter of the chat
// environment (transformers: ensure_ascii=False, indent, separators,
// sort_keys) and, with ensure_ascii and sorted keys, jinja2's own.
#pragma once

#include <string>

#include "harness/jinja/value.hpp"

namespace huashan::harness::jinja {

struct json_style {
  bool ensure_ascii = false;
  bool sort_keys = false;
  value indent = value::none();      // None, an int (spaces) or a str
  value separators = value::none();  // None or a (item, key) pair
};

std::string python_json_dumps(const value& v, const json_style& style);

}  // namespace huashan::harness::jinja
