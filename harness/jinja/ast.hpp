// The parsed form of a template: expressions and statements, each with the
// byte offset it starts at (errors name its line and column).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "harness/jinja/value.hpp"

namespace huashan::harness::jinja {

struct expr;
using expr_ptr = std::unique_ptr<expr>;

enum class expr_kind : std::uint8_t {
  literal,      // constant
  name,         // variable
  list,         // [a, b]
  tuple,        // (a, b)
  dict,         // {k: v}: children are key, value, key, value...
  attribute,    // children[0].name
  subscript,    // children[0][children[1]]
  slice,        // children[0][a:b:c]: children 1..3 may be null
  call,         // children[0](args)
  filter,       // children[0] | name(args); children[0] null in a filter block
  test,         // children[0] is [not] name(args)
  negate,       // not children[0]
  unary_minus,
  unary_plus,
  binary,       // children[0] op children[1]: + - * / // % ** ~
  compare,      // children[0] ops[0] children[1] ops[1] children[2] ...
  logical_and,
  logical_or,
  conditional,  // children[0] if children[1] else children[2] (may be null)
  block_value,  // the captured body in {% set x | filter %} and {% filter %}
};

struct arg_list {
  std::vector<expr_ptr> positional;
  std::vector<std::pair<std::string, expr_ptr>> keywords;
  expr_ptr star;       // *args
  expr_ptr star_star;  // **kwargs
};

struct expr {
  expr_kind kind;
  std::size_t offset = 0;
  std::string name;  // name, attribute, filter, test, binary operator
  value constant;
  std::vector<expr_ptr> children;
  std::vector<std::string> ops;  // compare: "==", "in", "notin", ...
  arg_list args;                 // call, filter, test
  bool negated = false;          // test: "is not"
};

struct stmt;
using stmt_list = std::vector<std::unique_ptr<stmt>>;

enum class stmt_kind : std::uint8_t {
  text, output, if_, for_, set, set_block, macro, call_block, filter_block, break_, continue_, with, scope
};

struct macro_param {
  std::string name;
  expr_ptr default_value;
};

struct stmt {
  stmt_kind kind;
  std::size_t offset = 0;
  std::string text;                                     // text
  expr_ptr expression;                                  // output; for: iterable; set: value; call: the call
  expr_ptr target;                                      // for / set: name, tuple of names, ns.attr
  expr_ptr condition;                                   // for: "if" filter
  expr_ptr filter;                                      // set_block / filter_block: filter chain over block_value
  std::vector<std::pair<expr_ptr, stmt_list>> branches; // if / elif
  stmt_list body;
  stmt_list else_body;
  bool recursive = false;
  std::string name;                                     // macro
  std::vector<macro_param> params;                      // macro, call block's caller
  std::vector<std::pair<expr_ptr, expr_ptr>> assignments;  // with
};

}  // namespace huashan::harness::jinja
