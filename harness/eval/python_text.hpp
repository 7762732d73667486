// Python's text forms of values, where lm-evaluation-harness's output depends
// on them: ast.literal_eval of a rendered choice list ("['a', 'b']"), str()
// and repr() of targets, and json.dumps(doc, indent=2, ensure_ascii=False)
// behind the samples' doc_hash.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/jinja/value.hpp"

namespace huashan::harness::eval {

// ast.literal_eval of a list or tuple of strings, numbers, True/False/None
// (as JSON strings, integers, doubles, booleans, null). nullopt with `why`
// set when `text` is not such a literal.
std::optional<boost::json::array> parse_python_list(std::string_view text, std::string& why);

// repr(x) of a float, as Python prints it (shortest round trip; 1e+16, 1e-05):
// the Jinja engine's, which prints floats the same way.
using jinja::python_float_repr;
// repr(s) of a str.
std::string python_str_repr(std::string_view s);
// str(v) of the Python value JSON `v` stands for (a string as itself, lists
// with their items' repr, True/False/None).
std::string python_str(const boost::json::value& v);
// json.dumps(v, indent=N, ensure_ascii=False); indent < 0: json.dumps' one-line
// form (", " and ": " separators), as samples files are written.
std::string python_json_dumps(const boost::json::value& v, int indent = 2);
// Reads JSON as Python's json.loads does, except that NaN, Infinity and
// -Infinity (which Python writes and strict JSON lacks) read as null.
// input_error naming `what` when the text is not JSON.
boost::json::value parse_python_json(std::string_view text, std::string_view what);

// str.lower() / str.upper() with one code point mapped to one (utf8proc's
// simple case mapping; Python's few one-to-many cases such as 'ß'.upper() differ).
std::string python_lower(std::string_view s);
std::string python_upper(std::string_view s);

// Python's len(s) of a UTF-8 string: its code points.
std::size_t python_len(std::string_view s);

}  // namespace huashan::harness::eval
