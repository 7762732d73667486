// Errors: parse errors and render errors name the template, line and column.
#include <doctest/doctest.h>

#include <boost/json.hpp>

#include "harness/jinja/jinja.hpp"

using namespace huashan::harness::jinja;

namespace {

struct where {
  int line, column;
  std::string message;
};

where parse_error(std::string_view source, environment_options env = suite_environment()) {
  try {
    template_::parse(source, env, "tpl");
  } catch (const template_error& e) {
    return {e.line(), e.column(), e.what()};
  }
  FAIL("expected a parse error for: " << source);
  return {};
}

where render_error(std::string_view source, const boost::json::object& vars = {},
                   environment_options env = suite_environment()) {
  auto t = template_::parse(source, env, "tpl");
  try {
    t.render(vars);
  } catch (const template_error& e) {
    return {e.line(), e.column(), e.what()};
  }
  FAIL("expected a render error for: " << source);
  return {};
}

}  // namespace

TEST_CASE("an unclosed block names where the template ended") {
  auto e = parse_error("line one\n{% if x %}\nbody");
  CHECK(e.line == 3);
  CHECK(e.column == 5);
  CHECK(e.message.find("tpl:3:5: Unexpected end of template") == 0);
  CHECK(e.message.find("'endif'") != std::string::npos);
}

TEST_CASE("an unclosed tag and an unknown tag") {
  auto e = parse_error("ab\n  {{ x ");
  CHECK(e.line == 2);
  CHECK(e.column == 3);
  e = parse_error("\n\n   {% frob %}");
  CHECK(e.line == 3);
  CHECK(e.column == 7);
  CHECK(e.message.find("unknown tag 'frob'") != std::string::npos);
  e = parse_error("{% for x in y %}{% endif %}");
  CHECK(e.column == 20);
  CHECK(e.message.find("'endfor' or 'else'") != std::string::npos);
}

TEST_CASE("bad expressions") {
  auto e = parse_error("{{ 1 + }}");
  CHECK(e.line == 1);
  CHECK(e.column == 8);
  e = parse_error("x\n{{ (1, 2 }}");
  CHECK(e.line == 2);
  CHECK(e.column == 10);
  e = parse_error("{{ 'unterminated }}");
  CHECK(e.column == 4);
  e = parse_error("{{ a $ b }}");
  CHECK(e.column == 6);
  e = parse_error("{# never closed");
  CHECK(e.column == 1);
}

TEST_CASE("render errors point at the failing expression") {
  auto e = render_error("ok\n  {{ 1 + missing }}");
  CHECK(e.line == 2);
  CHECK(e.column == 10);
  CHECK(e.message == "tpl:2:10: 'missing' is undefined");
  e = render_error("{{ 'a' + 1 }}");
  CHECK(e.column == 4);
  e = render_error("{% for x in 5 %}{% endfor %}");
  CHECK(e.message.find("not iterable") != std::string::npos);
  e = render_error("{{ raise_exception('Conversation roles must alternate') }}", {}, chat_environment());
  CHECK(e.message == "tpl:1:4: Conversation roles must alternate");
}

TEST_CASE("a namespace cannot come to hold itself (the cycle would never be freed)") {
  // Found by fuzzing (LeakSanitizer): `set ns.a = ns` leaked the namespace on every render.
  for (const char* source : {
           "{% set ns = namespace(a=1) %}{% set ns.a = ns %}",
           "{% set ns = namespace() %}{% set ns.a = {'x': [1, {'y': ns}]} %}",
           "{% set ns = namespace() %}{% for x in [ns] %}{% set ns.l = loop %}{% endfor %}",
           "{% for i in [1] %}{% set ns = namespace() %}{% macro m() %}{% endmacro %}{% set ns.m = m %}{% endfor %}",
       }) {
    CAPTURE(source);
    CHECK(render_error(source).message.find("would hold itself") != std::string::npos);
  }
  // Holding another namespace, or a copy of its contents, is fine.
  auto t = template_::parse("{% set a = namespace(v=1) %}{% set b = namespace() %}{% set b.a = a %}"
                            "{% set a.n = b.a.v + 1 %}{{ b.a.n }}",
                            suite_environment(), "tpl");
  CHECK(t.render({}) == "2");
}
