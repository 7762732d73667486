// Renders a parsed template: scopes, statements, expressions with Python's
// semantics, jinja2's attribute/item lookup and undefined handling, and the
// output ranges that came verbatim from the variables.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "harness/jinja/ast.hpp"
#include "harness/jinja/jinja.hpp"
#include "harness/jinja/lexer.hpp"
#include "harness/jinja/value.hpp"

namespace huashan::harness::jinja {

class evaluator {
 public:
  evaluator(const environment_options& env, const render_options& options, const std::string& name,
            const source_positions& where);

  void set_variable(std::string name, value v);
  void render(const stmt_list& body, std::string& out, std::vector<variable_range>* ranges);

  bool strict() const { return env_.strict_undefined; }
  // Whether using this undefined value is an error.
  bool strict_about(const value& v) const { return env_.strict_undefined && !v.flag; }
  const environment_options& env() const { return env_; }
  const render_options& options() const { return options_; }

  value eval(const expr& e);
  value getattr(const value& obj, std::string_view name);  // obj.name
  value getitem(const value& obj, const value& key);       // obj[key]
  value call(const value& callee, call_args& args);
  std::vector<value> iterate(const value& v);
  std::string str(const value& v) { return to_str(v, strict()); }
  bool truth(const value& v) { return truthy(v, strict()); }

 private:
  enum class flow { normal, break_, continue_ };
  using frame = std::vector<std::pair<std::string, value>>;

  flow render_body(const stmt_list& body);
  flow render_stmt(const stmt& s);
  void render_for(const stmt& s, const value& iterable, std::int64_t depth);
  value capture(const stmt_list& body);  // the body's output, keeping its variable ranges
  void assign(const expr& target, value v);
  value lookup(const std::string& name);
  value call_macro(const stmt& macro, call_args& args, const frame* closure);
  value eval_binary(const expr& e);
  value eval_compare(const expr& e);
  value eval_call(const expr& e);
  call_args eval_args(const arg_list& args);
  void write(const value& v);
  [[noreturn]] void fail_at(std::size_t offset, const std::string& what) const;

  const environment_options& env_;
  const render_options& options_;
  const std::string& name_;
  const source_positions& where_;
  std::vector<frame> frames_;
  std::size_t barrier_ = 1;  // frames below this (except the first) are hidden: a macro's caller's
  std::string* out_ = nullptr;
  std::vector<variable_range>* ranges_ = nullptr;
  const value* block_value_ = nullptr;
  int call_depth_ = 0;
  std::size_t steps_ = 0;
};

}  // namespace huashan::harness::jinja
