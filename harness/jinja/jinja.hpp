// A Jinja subset engine: the part of Jinja2 that lm-evaluation-harness suite
// templates and models' chat templates use, rendering byte-for-byte what
// Python's jinja2 renders for them (the tests compare with python3-jinja2).
// Templates are parsed once and rendered many times; a parsed template is
// immutable and may be rendered from many threads at once.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace huashan::harness::jinja {

// The Environment settings that change output. Suites use lm-evaluation-
// harness's (keep_trailing_newline, strict undefined); chat templates use
// the Hugging Face tokenizer's (trim_blocks, lstrip_blocks, loop controls).
struct environment_options {
  bool trim_blocks = false;
  bool lstrip_blocks = false;
  bool keep_trailing_newline = false;
  bool strict_undefined = false;  // using an undefined value is an error (StrictUndefined)
  // transformers' chat environment: raise_exception and strftime_now globals,
  // tojson as json.dumps (no HTML escaping), {% break %}/{% continue %} and
  // {% generation %}.
  bool huggingface_extensions = false;
  // lm-evaluation-harness's regex_replace filter (re.sub).
  bool lm_eval_filters = false;
};
environment_options suite_environment();
environment_options chat_environment();

// A template that does not parse, or fails while rendering (undefined name in
// strict mode, wrong type, raise_exception): "NAME:LINE:COLUMN: what".
class template_error : public huashan::input_error {
 public:
  template_error(const std::string& name, std::int32_t line, std::int32_t column, const std::string& what);
  std::int32_t line() const { return line_; }
  std::int32_t column() const { return column_; }

 private:
  std::int32_t line_;
  std::int32_t column_;
};

struct render_options {
  // The clock strftime_now reads (chat templates print today's date); a
  // fixed value makes renders reproducible in tests.
  std::function<std::int64_t()> unix_seconds_now;
};

// A byte range of the output that came verbatim from a string of the
// variables (not from the template's text): chat prompts tokenize these as
// plain text, so a user cannot type a control token.
struct variable_range {
  std::size_t begin = 0;
  std::size_t end = 0;
};

class template_ {
 public:
  // Parses `source`; template_error with line and column when it does not.
  // `name` is used in errors (a file name, "doc_to_text of task X", ...).
  static template_ parse(std::string_view source, const environment_options& env, std::string name);

  // Renders with `variables` as the top-level names; JSON null is Python's
  // None, objects are dicts keeping their key order, arrays are lists.
  std::string render(const boost::json::object& variables, const render_options& options = {}) const;
  // Same, also returning the ranges that came from variable strings.
  std::string render(const boost::json::object& variables, const render_options& options,
                     std::vector<variable_range>& from_variables) const;

  const std::string& name() const;

 private:
  struct impl;
  explicit template_(std::shared_ptr<const impl> p);
  std::shared_ptr<const impl> impl_;
};

}  // namespace huashan::harness::jinja
