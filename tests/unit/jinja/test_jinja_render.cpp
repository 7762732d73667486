// Rendering: Python's str() of values, whitespace control, scoping, loops,
// macros, undefined (default vs strict), the variable ranges, and renders of
// one parsed template from several threads.
#include <doctest/doctest.h>

#include <boost/json.hpp>

#include <chrono>
#include <thread>

#include "harness/jinja/jinja.hpp"

using namespace huashan::harness::jinja;
namespace json = boost::json;

namespace {

std::string render(std::string_view source, const json::object& vars = {}, environment_options env = suite_environment()) {
  return template_::parse(source, env, "t").render(vars);
}

std::string chat(std::string_view source, const json::object& vars = {}) {
  return render(source, vars, chat_environment());
}

}  // namespace

TEST_CASE("values print as Python's str() prints them") {
  CHECK(render("{{ 1.0 }} {{ 2/4 }} {{ 10/2 }} {{ 1e20 }} {{ 1e-5 }} {{ 3 }}") == "1.0 0.5 5.0 1e+20 1e-05 3");
  CHECK(render("{{ [1, 'a', none, true, 1.5] }}") == "[1, 'a', None, True, 1.5]");
  CHECK(render("{{ {'k': 'v', 'n': [1]} }}") == "{'k': 'v', 'n': [1]}");
  CHECK(render("{{ [\"it's\"] }}") == "[\"it's\"]");
  CHECK(render("{{ (1,) }} {{ (1, 2) }}") == "(1,) (1, 2)");
  CHECK(render("{{ x }}", {{"x", 0.1}}) == "0.1");
}

TEST_CASE("arithmetic follows Python") {
  CHECK(render("{{ -7 // 2 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 'ab' * 2 }} {{ 1 + 1.5 }}") == "-4 2 1024 abab 2.5");
  CHECK(render("{{ 'a' ~ 1 ~ none }}") == "a1None");
  CHECK_THROWS_AS(render("{{ 1 // 0 }}"), template_error);
  CHECK_THROWS_AS(render("{{ 9223372036854775807 + 1 }}"), template_error);
}

TEST_CASE("whitespace control, trim_blocks and lstrip_blocks") {
  CHECK(render("a  {%- if true -%}  b  {%- endif -%}  c") == "abc");
  CHECK(render("a\n{% if true %}\nb\n{% endif %}\n") == "a\n\nb\n\n");
  CHECK(chat("a\n  {% if true %}\nb\n  {% endif %}\nc") == "a\nb\nc");
  CHECK(chat("{{ 'x' }}\n{{ 'y' }}") == "x\ny");
  CHECK(chat("  {%+ if true %}x{% endif %}") == "  x");
  // keep_trailing_newline: the suite environment keeps the final newline, the chat one drops it
  CHECK(render("x\n") == "x\n");
  CHECK(chat("x\n") == "x");
}

TEST_CASE("loops: loop variables, else, filters, break and continue") {
  CHECK(render("{% for x in xs %}{{ loop.index }}{{ x }}{{ ',' if not loop.last else '' }}{% endfor %}", {{"xs", json::array{"a", "b"}}}) ==
        "1a,2b");
  CHECK(render("{% for x in [] %}x{% else %}empty{% endfor %}") == "empty");
  CHECK(render("{% for x in [1,2,3,4] if x is even %}{{ x }}{% endfor %}") == "24");
  CHECK(chat("{% for x in [1,2,3,4] %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}") == "13");
  CHECK_THROWS_AS(render("{% for x in [1] %}{% break %}{% endfor %}"), template_error);  // loopcontrols only in chat
  CHECK(render("{% for x in [1,2,3] %}{{ loop.previtem|default('-') }}{{ loop.nextitem|default('-') }}{{ loop.cycle('a','b') }} {% endfor %}") ==
        "-2a 13b 2-a ");
  CHECK(render("{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}{{ v }}{% endfor %}") == "a1b2");
  CHECK(chat("{% for n in tree recursive %}{{ n.name }}{% if n.children %}({{ loop(n.children) }}){% endif %}{% endfor %}",
             json::parse(R"({"tree": [{"name": "a", "children": [{"name": "b"}, {"name": "c"}]}]})").as_object()) ==
        "a(bc)");
}

TEST_CASE("set is scoped to the loop; namespace carries values out") {
  CHECK(render("{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{% endfor %}{{ x }}") == "1");
  CHECK(render("{% set ns = namespace(x=1) %}{% for i in [1] %}{% set ns.x = 2 %}{% endfor %}{{ ns.x }}") == "2");
  CHECK(render("{% set a, b = 'xy' %}{{ b }}{{ a }}") == "yx");
  CHECK(render("{% set t %}in {{ 1 }}{% endset %}[{{ t }}]") == "[in 1]");
  CHECK(render("{% set t | upper %}abc{% endset %}{{ t }}") == "ABC");
}

TEST_CASE("macros with defaults, keywords and caller") {
  CHECK(render("{% macro m(a, b='B') %}{{ a }}{{ b }}{% endmacro %}{{ m(1) }}{{ m(1, b=2) }}") == "1B12");
  CHECK(render("{% macro w() %}<{{ caller() }}>{% endmacro %}{% call w() %}in{% endcall %}") == "<in>");
}

TEST_CASE("attribute and item lookup as jinja2 does it") {
  auto vars = json::parse(R"({"d": {"items": 5, "a": {"b": [10, 20]}}, "s": "  hi  "})").as_object();
  CHECK(render("{{ d['items'] }}", vars) == "5");
  CHECK(render("{{ d.a.b[1] }} {{ d.a.b.0 }} {{ d['a']['b'][-1] }}", vars) == "20 10 20");
  CHECK(render("{{ s.strip() }}|{{ s|trim }}|{{ s.lstrip() }}|", vars) == "hi|hi|hi  |");
  CHECK(render("{{ d.get('zz', 'none') }} {{ d.a.get('b') }}", vars) == "none [10, 20]");
}

TEST_CASE("default Undefined prints nothing; StrictUndefined fails") {
  CHECK(chat("[{{ missing }}]{% if missing %}x{% endif %}{{ missing|length }}{% for x in missing %}x{% endfor %}") == "[]0");
  CHECK(chat("{{ {}.missing }}.") == ".");
  CHECK_THROWS_AS(chat("{{ missing.attr }}"), template_error);
  CHECK_THROWS_AS(render("{{ missing }}"), template_error);
  CHECK_THROWS_AS(render("{% if missing %}{% endif %}"), template_error);
  CHECK_THROWS_AS(render("{% for x in missing %}{% endfor %}"), template_error);
  CHECK_THROWS_AS(render("{{ missing == 1 }}"), template_error);
  CHECK(render("{{ missing is defined }} {{ missing|default('d') }}") == "False d");
  // jinja2's `x if c` without else is a plain Undefined even in a strict environment
  CHECK(render("[{{ 'a' if false }}]") == "[]");
}

TEST_CASE("tojson: json.dumps in the chat environment, jinja2's HTML-safe one in suites") {
  auto vars = json::parse(R"({"x": {"b": "<é>", "a": [1, 2.0, null]}})").as_object();
  CHECK(chat("{{ x|tojson }}", vars) == R"({"b": "<é>", "a": [1, 2.0, null]})");
  CHECK(chat("{{ x|tojson(indent=2) }}", vars) == "{\n  \"b\": \"<é>\",\n  \"a\": [\n    1,\n    2.0,\n    null\n  ]\n}");
  CHECK(render("{{ x|tojson }}", vars) == R"({"a": [1, 2.0, null], "b": "\u003c\u00e9\u003e"})");
}

TEST_CASE("raise_exception and strftime_now in the chat environment") {
  auto t = template_::parse("{{ raise_exception('no system role') }}", chat_environment(), "tpl");
  try {
    t.render({});
    FAIL("expected an error");
  } catch (const template_error& e) {
    CHECK(std::string(e.what()) == "tpl:1:4: no system role");
  }
  render_options clock;
  clock.unix_seconds_now = [] { return std::int64_t{1735732800}; };  // 2025-01-01 12:00 UTC
  CHECK(template_::parse("{{ strftime_now('%d %b %Y') }}", chat_environment(), "t").render({}, clock) == "01 Jan 2025");
  CHECK_THROWS_AS(render("{{ raise_exception('x') }}"), template_error);  // not a suite global
}

TEST_CASE("regex_replace has re.sub semantics") {
  CHECK(render("{{ 'a  b   c'|regex_replace('\\\\s+', ' ') }}") == "a b c");
  CHECK(render("{{ 'abxd'|regex_replace('x*', '-') }}") == "-a-b--d-");
  CHECK(render("{{ 'john smith'|regex_replace('(\\\\w+) (\\\\w+)', '\\\\2, \\\\1') }}") == "smith, john");
  CHECK(render("{{ 'aaa'|regex_replace('a', 'b', 2) }}") == "bba");
}

TEST_CASE("variable ranges mark text from the variables, never template text") {
  auto t = template_::parse("<u>{{ '[' ~ msg ~ ']' }}</u>{{ msg.strip() }}{{ 'lit' }}", chat_environment(), "t");
  std::vector<variable_range> ranges;
  json::object vars{{"msg", " hi "}};
  std::string out = t.render(vars, {}, ranges);
  CHECK(out == "<u>[ hi ]</u>hilit");
  REQUIRE(ranges.size() == 2);
  CHECK(out.substr(ranges[0].begin, ranges[0].end - ranges[0].begin) == " hi ");
  CHECK(out.substr(ranges[1].begin, ranges[1].end - ranges[1].begin) == "hi");
  // a macro's output keeps the ranges of what it printed
  auto m = template_::parse("{% macro q(x) %}<{{ x }}>{% endmacro %}{{ q(msg) }}", chat_environment(), "m");
  out = m.render(vars, {}, ranges);
  REQUIRE(ranges.size() == 1);
  CHECK(out.substr(ranges[0].begin, ranges[0].end - ranges[0].begin) == " hi ");
}

TEST_CASE("a parsed template renders from several threads at once") {
  auto t = template_::parse("{% for c in choices %}{{ 'ABCD'[loop.index0] }}. {{ c }}\n{% endfor %}{{ q.strip() }}",
                            suite_environment(), "t");
  json::object vars{{"choices", json::array{"x", "y"}}, {"q", " why "}};
  std::string expected = "A. x\nB. y\nwhy";
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] {
      for (int k = 0; k < 200; ++k)
        if (t.render(vars) != expected) ++wrong;
    });
  for (auto& th : threads) th.join();
  CHECK(wrong == 0);
}

TEST_CASE("a small suite template renders in microseconds") {
  auto t = template_::parse("Question: {{question.strip()}}\nAnswer:", suite_environment(), "t");
  json::object vars{{"question", " What is 2+2? "}, {"answer", 1}};
  auto start = std::chrono::steady_clock::now();
  constexpr int n = 2000;
  for (int i = 0; i < n; ++i) REQUIRE(t.render(vars).size() == 30);
  auto per_render = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / n;
  MESSAGE("render: " << per_render << " us");
  CHECK(per_render < 200.0);  // generous: sanitizer builds are several times slower
}
