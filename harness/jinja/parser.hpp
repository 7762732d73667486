// Builds the statement tree from the lexer's tokens with jinja2's grammar and
// operator precedence; template_error with line and column when it cannot.
#pragma once

#include <string>
#include <vector>

#include "harness/jinja/ast.hpp"
#include "harness/jinja/lexer.hpp"

namespace huashan::harness::jinja {

stmt_list parse_tokens(const std::vector<token>& tokens, const environment_options& env, const std::string& name,
                       const source_positions& where);

}  // namespace huashan::harness::jinja
