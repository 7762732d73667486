// Python's operators on template values: arithmetic (int/float promotion,
// floor division and modulo signs, str and list concatenation and
// repetition), comparisons and `in`, slices, printf-style `%` formatting, and
// the attributes of a for-loop's `loop`.
#pragma once

#include <string>
#include <string_view>

#include "harness/jinja/value.hpp"

namespace huashan::harness::jinja {

class evaluator;

value binary_operation(evaluator& ev, std::string_view op, const value& a, const value& b);
bool compare_operation(evaluator& ev, std::string_view op, const value& a, const value& b);
bool contains(evaluator& ev, const value& container, const value& item);
value unary_operation(bool minus, const value& v);
value slice_value(const value& obj, const value& start, const value& stop, const value& step);
std::string percent_format(const std::string& format, const value& args);
value loop_attribute(evaluator& ev, const value& loop, std::string_view name);

// Strings longer than this are refused (a template must not exhaust memory).
inline constexpr std::size_t max_string_bytes = std::size_t{1} << 24;

}  // namespace huashan::harness::jinja
