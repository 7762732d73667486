// Python's str methods and conversions as templates use them (strip with
// characters, split/rsplit, replace with a count, str.format, int()/float()
// parsing), over UTF-8 with code-point indexing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "harness/jinja/value.hpp"

namespace huashan::harness::jinja {

class evaluator;

// s.strip(chars) (chars None: whitespace); the result keeps `from_variables`.
value python_strip(const std::string& s, const value& chars, bool left, bool right, bool from_variables);
std::string python_upper(std::string_view s);
std::string python_lower(std::string_view s);
std::string python_capitalize(std::string_view s);
std::string python_title(std::string_view s);
std::string jinja_title(std::string_view s);  // jinja2's title filter (not str.title)
std::string python_replace(const std::string& s, const std::string& old_text, const std::string& new_text,
                           std::int64_t count);
std::string python_center(const std::string& s, std::int64_t width, std::string_view fill = " ");
bool python_islower(std::string_view s);
bool python_isupper(std::string_view s);
std::optional<std::int64_t> parse_python_int(std::string_view s, std::int64_t base);
std::optional<double> parse_python_float(std::string_view s);

value call_str_method(evaluator& ev, const value& obj, std::string_view name, call_args& args);

}  // namespace huashan::harness::jinja
