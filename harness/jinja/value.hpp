// The values a template computes with, modelled on the Python objects jinja2
// sees: undefined, None, bool, int, float, str, list/tuple, dict (insertion
// order), callables, namespace() and the for-loop's `loop`. str() and repr()
// print what Python prints, because rendered prompts are compared byte for
// byte with jinja2's.
#pragma once

#include <boost/json/value.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace huashan::harness::jinja {

// A failure while evaluating (a Python TypeError, an undefined name in strict
// mode): the evaluator adds the template position of the node that failed.
class eval_failure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct value;
using value_list = std::vector<value>;
struct value_dict;
struct callable;
struct loop_state;
struct call_args;

enum class value_kind : std::uint8_t {
  undefined, none, boolean, integer, floating, string, list, dict, callable, name_space, loop
};

// Byte ranges [first, second) of a string that came verbatim from the variables.
using span_list = std::vector<std::pair<std::size_t, std::size_t>>;

struct value {
  value_kind kind = value_kind::undefined;
  // boolean: the value; string: all of it came verbatim from the variables;
  // list: a tuple; undefined: a plain Undefined even in strict mode (x if c without else)
  bool flag = false;
  std::int64_t integer = 0;
  double floating = 0.0;
  std::string text;  // string; for undefined, the hint an error names ("'x' is undefined")
  std::shared_ptr<const value_list> items;
  std::shared_ptr<value_dict> dict;  // dict and namespace (a namespace is mutable)
  std::shared_ptr<const callable> function;
  std::shared_ptr<loop_state> loop;
  std::shared_ptr<const span_list> spans;  // string, when only parts came from the variables

  static value make_undefined(std::string hint) {
    value v;
    v.text = std::move(hint);
    return v;
  }
  static value none() {
    value v;
    v.kind = value_kind::none;
    return v;
  }
  static value boolean(bool b) {
    value v;
    v.kind = value_kind::boolean;
    v.flag = b;
    return v;
  }
  static value int_(std::int64_t i) {
    value v;
    v.kind = value_kind::integer;
    v.integer = i;
    return v;
  }
  static value float_(double d) {
    value v;
    v.kind = value_kind::floating;
    v.floating = d;
    return v;
  }
  static value string(std::string s, bool from_variables = false) {
    value v;
    v.kind = value_kind::string;
    v.text = std::move(s);
    v.flag = from_variables;
    return v;
  }
  static value list(value_list items, bool tuple = false) {
    value v;
    v.kind = value_kind::list;
    v.items = std::make_shared<const value_list>(std::move(items));
    v.flag = tuple;
    return v;
  }
  static value make_dict(std::shared_ptr<value_dict> d) {
    value v;
    v.kind = value_kind::dict;
    v.dict = std::move(d);
    return v;
  }
  static value make_callable(std::shared_ptr<const callable> f) {
    value v;
    v.kind = value_kind::callable;
    v.function = std::move(f);
    return v;
  }

  bool is_undefined() const { return kind == value_kind::undefined; }
  bool is_none() const { return kind == value_kind::none; }
  bool is_string() const { return kind == value_kind::string; }
  bool is_list() const { return kind == value_kind::list; }
  bool is_dict() const { return kind == value_kind::dict; }
  bool is_number() const {
    return kind == value_kind::integer || kind == value_kind::floating || kind == value_kind::boolean;
  }
  bool is_integral() const { return kind == value_kind::integer || kind == value_kind::boolean; }
  std::int64_t as_int() const { return kind == value_kind::boolean ? (flag ? 1 : 0) : integer; }
  double as_float() const { return kind == value_kind::floating ? floating : static_cast<double>(as_int()); }
};

// A dict keeping insertion order; keys are usually strings, so lookups are a
// linear scan (template dicts and messages are small).
struct value_dict {
  std::vector<std::pair<value, value>> entries;
  const value* find(const value& key) const;
  const value* find(std::string_view key) const;
  void set(value key, value v);
};

struct call_args {
  std::vector<value> positional;
  std::vector<std::pair<std::string, value>> keywords;
};

class evaluator;
struct callable {
  std::string name;
  std::function<value(evaluator&, call_args&)> call;
  // What a macro captured where it was defined (the names `call` sees): read
  // only by the check that a namespace never comes to hold itself.
  std::shared_ptr<const std::vector<std::pair<std::string, value>>> closure;
};

// The state behind `loop` in a for body.
struct loop_state {
  std::shared_ptr<const value_list> items;
  std::size_t index = 0;
  std::int64_t depth = 1;
  std::function<value(evaluator&, const value&, std::int64_t depth)> recurse;  // loop(x) in recursive loops
  bool has_changed_value = false;
  std::vector<value> last_changed;
};

// The parts of a string that came from the variables, and a string built
// from pieces that keeps them (concatenation, a macro's output).
span_list spans_of(const value& v);
value string_with_spans(std::string s, span_list spans);

// Python's semantics.
bool truthy(const value& v, bool strict);
std::string to_str(const value& v, bool strict);  // str(v)
std::string repr(const value& v);                 // repr(v)
std::string python_float_repr(double d);
bool equals(const value& a, const value& b);      // a == b
int compare(const value& a, const value& b);      // a < b: -1, == 0, > 1; eval_failure when not orderable
std::string type_name(const value& v);            // "str", "dict", ... (for errors)
[[noreturn]] void fail_undefined(const value& v);

// JSON in, Python out: null None, objects dicts (key order kept), arrays lists.
// Every string is marked as coming from the variables.
value from_json(const boost::json::value& j);

// UTF-8: Python indexes strings by code point.
std::size_t utf8_length(std::string_view s);
std::vector<std::string_view> utf8_chars(std::string_view s);

}  // namespace huashan::harness::jinja
