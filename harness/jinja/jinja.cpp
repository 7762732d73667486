#include "harness/jinja/jinja.hpp"

#include "harness/jinja/ast.hpp"
#include "harness/jinja/evaluator.hpp"
#include "harness/jinja/lexer.hpp"
#include "harness/jinja/parser.hpp"

namespace huashan::harness::jinja {

environment_options suite_environment() {
  environment_options env;
  env.keep_trailing_newline = true;
  env.strict_undefined = true;
  env.lm_eval_filters = true;
  return env;
}

environment_options chat_environment() {
  environment_options env;
  env.trim_blocks = true;
  env.lstrip_blocks = true;
  env.huggingface_extensions = true;
  return env;
}

template_error::template_error(const std::string& name, std::int32_t line, std::int32_t column, const std::string& what)
    : input_error(name + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + what),
      line_(line),
      column_(column) {}

struct template_::impl {
  std::string name;
  environment_options env;
  std::string source;
  source_positions positions;
  stmt_list body;

  impl(std::string n, const environment_options& e, std::string src)
      : name(std::move(n)), env(e), source(std::move(src)), positions(source) {}
};

template_::template_(std::shared_ptr<const impl> p) : impl_(std::move(p)) {}

template_ template_::parse(std::string_view source, const environment_options& env, std::string name) {
  auto p = std::make_shared<impl>(std::move(name), env, normalize_source(source, env));
  auto tokens = tokenize(p->source, p->env, p->name, p->positions);
  p->body = parse_tokens(tokens, p->env, p->name, p->positions);
  return template_(std::move(p));
}

const std::string& template_::name() const { return impl_->name; }

std::string template_::render(const boost::json::object& variables, const render_options& options) const {
  std::vector<variable_range> ignored;
  return render(variables, options, ignored);
}

std::string template_::render(const boost::json::object& variables, const render_options& options,
                              std::vector<variable_range>& from_variables) const {
  evaluator ev(impl_->env, options, impl_->name, impl_->positions);
  for (const auto& [key, v] : variables) ev.set_variable(std::string(key), from_json(v));
  std::string out;
  from_variables.clear();
  ev.render(impl_->body, out, &from_variables);
  return out;
}

}  // namespace huashan::harness::jinja
