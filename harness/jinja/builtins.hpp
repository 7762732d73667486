// jinja2's filters and tests, the Python methods templates call on str, list
// and dict, and the global functions (range, namespace, dict, cycler, joiner,
// and the chat environment's raise_exception and strftime_now).
#pragma once

#include <string>
#include <string_view>

#include "harness/jinja/value.hpp"

namespace huashan::harness::jinja {

class evaluator;
struct environment_options;

bool filter_exists(std::string_view name, const environment_options& env);
bool test_exists(std::string_view name);
value apply_filter(evaluator& ev, std::string_view name, value operand, call_args& args);
bool apply_test(evaluator& ev, std::string_view name, const value& operand, call_args& args);

// obj.name(...) where obj is a str, list or dict and name one of its methods.
bool is_method(const value& obj, std::string_view name);
value call_method(evaluator& ev, const value& obj, std::string_view name, call_args& args);

// A global function by name, or nullptr.
const value* find_global(std::string_view name, const environment_options& env);

}  // namespace huashan::harness::jinja
