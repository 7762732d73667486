#include "harness/jinja/evaluator.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "harness/jinja/builtins.hpp"
#include "harness/jinja/operators.hpp"

namespace huashan::harness::jinja {

namespace {

constexpr int max_call_depth = 100;
constexpr std::size_t max_output = std::size_t{1} << 26;
// Statements and loop iterations one render may run: a template cannot spin forever.
constexpr std::size_t max_steps = 10'000'000;

// Whether `v` holds `target` through dict entries, list items, a loop's items
// or a macro's captured names. Values share their containers, so storing such
// a value in `target` would make a cycle that shared ownership never frees
// (a template could leak memory on every render).
bool holds(const value& v, const value_dict* target, std::vector<const void*>& seen) {
  const auto first_visit = [&](const void* p) {
    if (p == nullptr || std::find(seen.begin(), seen.end(), p) != seen.end()) return false;
    seen.push_back(p);
    return true;
  };
  if (v.dict) {
    if (v.dict.get() == target) return true;
    if (first_visit(v.dict.get()))
      for (const auto& [k, x] : v.dict->entries)
        if (holds(k, target, seen) || holds(x, target, seen)) return true;
  }
  const auto any_of = [&](const value_list* items) {
    if (!first_visit(items)) return false;
    for (const auto& x : *items)
      if (holds(x, target, seen)) return true;
    return false;
  };
  if (v.items && any_of(v.items.get())) return true;
  if (v.loop && v.loop->items && any_of(v.loop->items.get())) return true;
  if (v.function && v.function->closure && first_visit(v.function->closure.get()))
    for (const auto& named : *v.function->closure)
      if (holds(named.second, target, seen)) return true;
  return false;
}

}  // namespace

evaluator::evaluator(const environment_options& env, const render_options& options, const std::string& name,
                     const source_positions& where)
    : env_(env), options_(options), name_(name), where_(where) {
  frames_.emplace_back();
}

void evaluator::set_variable(std::string name, value v) { frames_[0].emplace_back(std::move(name), std::move(v)); }

void evaluator::fail_at(std::size_t offset, const std::string& what) const {
  auto [line, column] = where_.at(offset);
  throw template_error(name_, line, column, what);
}

void evaluator::render(const stmt_list& body, std::string& out, std::vector<variable_range>* ranges) {
  out_ = &out;
  ranges_ = ranges;
  render_body(body);
}

value evaluator::lookup(const std::string& name) {
  for (std::size_t i = frames_.size(); i-- > barrier_;) {
    for (auto it = frames_[i].rbegin(); it != frames_[i].rend(); ++it)
      if (it->first == name) return it->second;
  }
  for (auto it = frames_[0].rbegin(); it != frames_[0].rend(); ++it)
    if (it->first == name) return it->second;
  if (const value* g = find_global(name, env_)) return *g;
  return value::make_undefined("'" + name + "' is undefined");
}

void evaluator::write(const value& v) {
  std::size_t begin = out_->size();
  if (v.is_string()) {
    out_->append(v.text);
  } else {
    out_->append(str(v));
  }
  if (out_->size() > max_output) throw eval_failure("output too large");
  if (ranges_ && v.is_string()) {
    for (auto [first, second] : spans_of(v))
      if (second > first) ranges_->push_back({begin + first, begin + second});
  }
}

value evaluator::capture(const stmt_list& body) {
  std::string buffer;
  std::vector<variable_range> ranges;
  std::string* saved_out = out_;
  auto* saved_ranges = ranges_;
  out_ = &buffer;
  ranges_ = &ranges;
  try {
    render_body(body);
  } catch (...) {
    out_ = saved_out;
    ranges_ = saved_ranges;
    throw;
  }
  out_ = saved_out;
  ranges_ = saved_ranges;
  span_list spans;
  for (const auto& r : ranges) spans.emplace_back(r.begin, r.end);
  return string_with_spans(std::move(buffer), std::move(spans));
}

evaluator::flow evaluator::render_body(const stmt_list& body) {
  for (const auto& s : body) {
    flow f = render_stmt(*s);
    if (f != flow::normal) return f;
  }
  return flow::normal;
}

evaluator::flow evaluator::render_stmt(const stmt& s) {
  try {
    if (++steps_ > max_steps) throw eval_failure("the template runs too long");
    switch (s.kind) {
      case stmt_kind::text:
        out_->append(s.text);
        if (out_->size() > max_output) throw eval_failure("output too large");
        return flow::normal;
      case stmt_kind::output: write(eval(*s.expression)); return flow::normal;
      case stmt_kind::if_:
        for (const auto& [cond, body] : s.branches)
          if (truth(eval(*cond))) return render_body(body);
        return render_body(s.else_body);
      case stmt_kind::for_: render_for(s, eval(*s.expression), 1); return flow::normal;
      case stmt_kind::set: assign(*s.target, eval(*s.expression)); return flow::normal;
      case stmt_kind::set_block: {
        value captured = capture(s.body);
        if (s.filter) {
          const value* saved = block_value_;
          block_value_ = &captured;
          value filtered = eval(*s.filter);
          block_value_ = saved;
          assign(*s.target, std::move(filtered));
        } else {
          assign(*s.target, std::move(captured));
        }
        return flow::normal;
      }
      case stmt_kind::macro: {
        auto fn = std::make_shared<callable>();
        fn->name = s.name;
        const stmt* macro = &s;
        // a macro sees the names of the scope it is defined in (a loop's variable), as they are now
        std::shared_ptr<const frame> closure;
        if (frames_.size() > barrier_) {
          auto names = std::make_shared<frame>();
          for (std::size_t i = barrier_; i < frames_.size(); ++i)
            names->insert(names->end(), frames_[i].begin(), frames_[i].end());
          closure = std::move(names);
        }
        fn->closure = closure;
        fn->call = [macro, closure](evaluator& ev, call_args& args) { return ev.call_macro(*macro, args, closure.get()); };
        frames_.back().emplace_back(s.name, value::make_callable(std::move(fn)));
        return flow::normal;
      }
      case stmt_kind::call_block: {
        auto caller = std::make_shared<callable>();
        caller->name = "caller";
        const stmt* block = &s;
        caller->call = [block](evaluator& ev, call_args& args) {
          return ev.call_macro(*block, args, nullptr);
        };
        const expr& call_expr = *s.expression;
        value callee = eval(*call_expr.children[0]);
        call_args args = eval_args(call_expr.args);
        args.keywords.emplace_back("caller", value::make_callable(std::move(caller)));
        write(call(callee, args));
        return flow::normal;
      }
      case stmt_kind::filter_block: {
        value captured = capture(s.body);
        const value* saved = block_value_;
        block_value_ = &captured;
        value filtered = eval(*s.filter);
        block_value_ = saved;
        write(filtered);
        return flow::normal;
      }
      case stmt_kind::with: {
        std::vector<value> values;
        for (const auto& [target, v] : s.assignments) values.push_back(eval(*v));
        frames_.emplace_back();
        for (std::size_t i = 0; i < values.size(); ++i) assign(*s.assignments[i].first, std::move(values[i]));
        flow f = render_body(s.body);
        frames_.pop_back();
        return f;
      }
      case stmt_kind::scope: return render_body(s.body);
      case stmt_kind::break_: return flow::break_;
      case stmt_kind::continue_: return flow::continue_;
    }
  } catch (const eval_failure& f) {
    fail_at(s.offset, f.what());
  }
  return flow::normal;
}

void evaluator::assign(const expr& target, value v) {
  if (target.kind == expr_kind::name) {
    auto& f = frames_.back();
    for (auto& [n, existing] : f)
      if (n == target.name) {
        existing = std::move(v);
        return;
      }
    f.emplace_back(target.name, std::move(v));
    return;
  }
  if (target.kind == expr_kind::attribute) {
    value ns = eval(*target.children[0]);
    if (ns.kind != value_kind::name_space) throw eval_failure("cannot assign attribute on non-namespace object");
    std::vector<const void*> seen;
    if (holds(v, ns.dict.get(), seen))
      throw eval_failure(fmt::format("cannot set '{}': the namespace would hold itself", target.name));
    ns.dict->set(value::string(target.name), std::move(v));
    return;
  }
  if (target.kind == expr_kind::tuple) {
    auto items = iterate(v);
    if (items.size() > target.children.size())
      throw eval_failure("too many values to unpack (expected " + std::to_string(target.children.size()) + ")");
    if (items.size() < target.children.size())
      throw eval_failure("not enough values to unpack (expected " + std::to_string(target.children.size()) +
                         ", got " + std::to_string(items.size()) + ")");
    for (std::size_t i = 0; i < items.size(); ++i) assign(*target.children[i], std::move(items[i]));
    return;
  }
  throw eval_failure("cannot assign to this expression");
}

std::vector<value> evaluator::iterate(const value& v) {
  switch (v.kind) {
    case value_kind::list: return *v.items;
    case value_kind::dict: {
      std::vector<value> keys;
      keys.reserve(v.dict->entries.size());
      for (const auto& [k, item] : v.dict->entries) keys.push_back(k);
      return keys;
    }
    case value_kind::string: {
      std::vector<value> chars;
      for (auto c : utf8_chars(v.text)) chars.push_back(value::string(std::string(c), v.flag));
      return chars;
    }
    case value_kind::undefined:
      if (strict_about(v)) fail_undefined(v);
      return {};
    default: throw eval_failure("'" + type_name(v) + "' object is not iterable");
  }
}

void evaluator::render_for(const stmt& s, const value& iterable, std::int64_t depth) {
  auto items = std::make_shared<value_list>(iterate(iterable));
  if (s.condition) {
    value_list kept;
    frames_.emplace_back();
    for (auto& item : *items) {
      frames_.back().clear();
      assign(*s.target, item);
      if (++steps_ > max_steps) throw eval_failure("the template runs too long");
      if (truth(eval(*s.condition))) kept.push_back(std::move(item));
    }
    frames_.pop_back();
    *items = std::move(kept);
  }
  if (items->empty()) {
    render_body(s.else_body);
    return;
  }
  auto state = std::make_shared<loop_state>();
  state->items = items;
  state->depth = depth;
  if (s.recursive) {
    const stmt* loop_stmt = &s;
    state->recurse = [loop_stmt](evaluator& ev, const value& inner, std::int64_t inner_depth) {
      if (++ev.call_depth_ > max_call_depth) throw eval_failure("maximum recursion depth exceeded");
      std::string buffer;
      std::vector<variable_range> ranges;
      std::string* saved_out = ev.out_;
      auto* saved_ranges = ev.ranges_;
      ev.out_ = &buffer;
      ev.ranges_ = &ranges;
      try {
        ev.render_for(*loop_stmt, inner, inner_depth);
      } catch (...) {
        ev.out_ = saved_out;
        ev.ranges_ = saved_ranges;
        --ev.call_depth_;
        throw;
      }
      ev.out_ = saved_out;
      ev.ranges_ = saved_ranges;
      --ev.call_depth_;
      span_list spans;
      for (const auto& r : ranges) spans.emplace_back(r.begin, r.end);
      return string_with_spans(std::move(buffer), std::move(spans));
    };
  }
  value loop_value;
  loop_value.kind = value_kind::loop;
  loop_value.loop = state;
  frames_.emplace_back();
  std::size_t frame_index = frames_.size() - 1;
  for (std::size_t i = 0; i < items->size(); ++i) {
    state->index = i;
    frames_[frame_index].clear();
    assign(*s.target, (*items)[i]);
    frames_[frame_index].emplace_back("loop", loop_value);
    flow f = render_body(s.body);
    if (f == flow::break_) break;
  }
  frames_.resize(frame_index);
}

value evaluator::call_macro(const stmt& macro, call_args& args, const frame* closure) {
  if (++call_depth_ > max_call_depth) {
    --call_depth_;
    throw eval_failure("maximum recursion depth exceeded");
  }
  std::size_t saved_barrier = barrier_;
  std::size_t saved_frames = frames_.size();
  struct restore {
    evaluator& ev;
    std::size_t barrier, frames;
    ~restore() {
      ev.frames_.resize(frames);
      ev.barrier_ = barrier;
      --ev.call_depth_;
    }
  } guard{*this, saved_barrier, saved_frames};
  // a call block's caller sees the scope it was written in; a macro only the template's globals
  bool is_caller = macro.kind == stmt_kind::call_block;
  if (!is_caller) {
    barrier_ = frames_.size();
    if (closure) frames_.push_back(*closure);
  }
  frames_.emplace_back();
  const std::size_t own = frames_.size() - 1;  // an index: evaluating defaults may grow frames_
  std::size_t n = macro.params.size();
  std::vector<bool> bound(n, false);
  std::vector<value> values(n);
  for (std::size_t i = 0; i < args.positional.size() && i < n; ++i) {
    values[i] = args.positional[i];
    bound[i] = true;
  }
  value_list varargs;
  for (std::size_t i = n; i < args.positional.size(); ++i) varargs.push_back(args.positional[i]);
  auto kwargs = std::make_shared<value_dict>();
  for (auto& [key, v] : args.keywords) {
    bool matched = false;
    for (std::size_t i = 0; i < n; ++i)
      if (macro.params[i].name == key) {
        if (bound[i]) throw eval_failure("macro '" + macro.name + "' got multiple values for argument '" + key + "'");
        values[i] = v;
        bound[i] = true;
        matched = true;
      }
    if (!matched) {
      if (key == "caller" && !is_caller) frames_[own].emplace_back("caller", v);
      else kwargs->set(value::string(key), v);
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (!bound[i]) {
      if (macro.params[i].default_value) values[i] = eval(*macro.params[i].default_value);
      else values[i] = value::make_undefined("parameter '" + macro.params[i].name + "' was not provided");
    }
    frames_[own].emplace_back(macro.params[i].name, std::move(values[i]));
  }
  frames_[own].emplace_back("varargs", value::list(std::move(varargs), true));
  frames_[own].emplace_back("kwargs", value::make_dict(std::move(kwargs)));
  return capture(macro.body);
}

value evaluator::call(const value& callee, call_args& args) {
  switch (callee.kind) {
    case value_kind::callable: return callee.function->call(*this, args);
    case value_kind::loop:
      if (callee.loop->recurse) {
        if (args.positional.size() != 1) throw eval_failure("loop() takes exactly one argument");
        return callee.loop->recurse(*this, args.positional[0], callee.loop->depth + 1);
      }
      throw eval_failure("Tried to call non recursive loop.  Maybe you forgot the 'recursive' modifier.");
    case value_kind::undefined: fail_undefined(callee);
    default: throw eval_failure("'" + type_name(callee) + "' object is not callable");
  }
}

call_args evaluator::eval_args(const arg_list& list) {
  call_args args;
  args.positional.reserve(list.positional.size());
  for (const auto& p : list.positional) args.positional.push_back(eval(*p));
  if (list.star) {
    for (auto& v : iterate(eval(*list.star))) args.positional.push_back(std::move(v));
  }
  for (const auto& [k, e] : list.keywords) args.keywords.emplace_back(k, eval(*e));
  if (list.star_star) {
    value d = eval(*list.star_star);
    if (!d.is_dict()) throw eval_failure("argument after ** must be a mapping");
    for (const auto& [k, v] : d.dict->entries) args.keywords.emplace_back(to_str(k, false), v);
  }
  return args;
}

value evaluator::getattr(const value& obj, std::string_view name) {
  switch (obj.kind) {
    case value_kind::undefined: fail_undefined(obj);
    case value_kind::dict: {
      if (is_method(obj, name)) break;
      if (const value* v = obj.dict->find(name)) return *v;
      return value::make_undefined("'dict object' has no attribute '" + std::string(name) + "'");
    }
    case value_kind::name_space: {
      if (const value* v = obj.dict->find(name)) return *v;
      return value::make_undefined("'Namespace' object has no attribute '" + std::string(name) + "'");
    }
    case value_kind::loop: return loop_attribute(*this, obj, name);
    default: break;
  }
  if (is_method(obj, name)) {
    auto fn = std::make_shared<callable>();
    fn->name = std::string(name);
    std::string method(name);
    fn->call = [obj, method](evaluator& ev, call_args& args) { return call_method(ev, obj, method, args); };
    return value::make_callable(std::move(fn));
  }
  return value::make_undefined("'" + type_name(obj) + " object' has no attribute '" + std::string(name) + "'");
}

value evaluator::getitem(const value& obj, const value& key) {
  switch (obj.kind) {
    case value_kind::undefined: fail_undefined(obj);
    case value_kind::dict:
      if (const value* v = obj.dict->find(key)) return *v;
      break;
    case value_kind::list:
    case value_kind::string:
      if (key.is_integral()) {
        std::int64_t n = obj.is_list() ? static_cast<std::int64_t>(obj.items->size())
                                       : static_cast<std::int64_t>(utf8_length(obj.text));
        std::int64_t i = key.as_int();
        if (i < 0) i += n;
        if (i < 0 || i >= n)
          return value::make_undefined("'" + type_name(obj) + " object' has no element " + std::to_string(key.as_int()));
        if (obj.is_list()) return (*obj.items)[static_cast<std::size_t>(i)];
        auto chars = utf8_chars(obj.text);
        return value::string(std::string(chars[static_cast<std::size_t>(i)]), obj.flag);
      }
      break;
    default: break;
  }
  if (key.is_string()) {
    if (obj.is_dict() && !is_method(obj, key.text))
      return value::make_undefined("'dict object' has no attribute '" + key.text + "'");
    return getattr(obj, key.text);
  }
  return value::make_undefined("'" + type_name(obj) + " object' has no element " + repr(key));
}

value evaluator::eval_call(const expr& e) {
  const expr& callee = *e.children[0];
  if (callee.kind == expr_kind::attribute) {
    value obj = eval(*callee.children[0]);
    if ((obj.is_string() || obj.is_list() || obj.is_dict()) && is_method(obj, callee.name)) {
      call_args args = eval_args(e.args);
      return call_method(*this, obj, callee.name, args);
    }
    value fn = getattr(obj, callee.name);
    call_args args = eval_args(e.args);
    return call(fn, args);
  }
  value fn = eval(callee);
  call_args args = eval_args(e.args);
  return call(fn, args);
}

value evaluator::eval_binary(const expr& e) {
  value a = eval(*e.children[0]);
  value b = eval(*e.children[1]);
  try {
    return binary_operation(*this, e.name, a, b);
  } catch (const eval_failure& f) {
    // blame the operand that is undefined, not the whole expression
    if (a.is_undefined()) fail_at(e.children[0]->offset, f.what());
    if (b.is_undefined()) fail_at(e.children[1]->offset, f.what());
    throw;
  }
}

value evaluator::eval_compare(const expr& e) {
  value left = eval(*e.children[0]);
  for (std::size_t i = 0; i < e.ops.size(); ++i) {
    value right = eval(*e.children[i + 1]);
    if (!compare_operation(*this, e.ops[i], left, right)) return value::boolean(false);
    left = std::move(right);
  }
  return value::boolean(true);
}

value evaluator::eval(const expr& e) {
  try {
    switch (e.kind) {
      case expr_kind::literal: return e.constant;
      case expr_kind::name: return lookup(e.name);
      case expr_kind::list:
      case expr_kind::tuple: {
        value_list items;
        items.reserve(e.children.size());
        for (const auto& c : e.children) items.push_back(eval(*c));
        return value::list(std::move(items), e.kind == expr_kind::tuple);
      }
      case expr_kind::dict: {
        auto d = std::make_shared<value_dict>();
        for (std::size_t i = 0; i + 1 < e.children.size(); i += 2) {
          value k = eval(*e.children[i]);
          if (k.is_list() && !k.flag) throw eval_failure("unhashable type: 'list'");
          if (k.is_dict()) throw eval_failure("unhashable type: 'dict'");
          d->set(std::move(k), eval(*e.children[i + 1]));
        }
        return value::make_dict(std::move(d));
      }
      case expr_kind::attribute: return getattr(eval(*e.children[0]), e.name);
      case expr_kind::subscript: {
        value obj = eval(*e.children[0]);
        return getitem(obj, eval(*e.children[1]));
      }
      case expr_kind::slice: {
        value obj = eval(*e.children[0]);
        value parts[3];
        for (int i = 0; i < 3; ++i)
          parts[i] = e.children[static_cast<std::size_t>(i) + 1] ? eval(*e.children[static_cast<std::size_t>(i) + 1])
                                                                  : value::none();
        return slice_value(obj, parts[0], parts[1], parts[2]);
      }
      case expr_kind::call: return eval_call(e);
      case expr_kind::filter: {
        value operand = e.children[0] ? eval(*e.children[0]) : *block_value_;
        call_args args = eval_args(e.args);
        return apply_filter(*this, e.name, std::move(operand), args);
      }
      case expr_kind::test: {
        value operand = eval(*e.children[0]);
        call_args args = eval_args(e.args);
        bool r = apply_test(*this, e.name, operand, args);
        return value::boolean(e.negated ? !r : r);
      }
      case expr_kind::negate: return value::boolean(!truth(eval(*e.children[0])));
      case expr_kind::unary_minus:
      case expr_kind::unary_plus: {
        value v = eval(*e.children[0]);
        return unary_operation(e.kind == expr_kind::unary_minus, v);
      }
      case expr_kind::binary: return eval_binary(e);
      case expr_kind::compare: return eval_compare(e);
      case expr_kind::logical_and: {
        value a = eval(*e.children[0]);
        if (!truth(a)) return a;
        return eval(*e.children[1]);
      }
      case expr_kind::logical_or: {
        value a = eval(*e.children[0]);
        if (truth(a)) return a;
        return eval(*e.children[1]);
      }
      case expr_kind::conditional:
        if (truth(eval(*e.children[1]))) return eval(*e.children[0]);
        if (e.children[2]) return eval(*e.children[2]);
      {
        // jinja2 uses a plain Undefined here whatever the environment's undefined
        value missing = value::make_undefined("the inline if-expression evaluated to false and no else section was defined.");
        missing.flag = true;
        return missing;
      }
      case expr_kind::block_value: return block_value_ ? *block_value_ : value::make_undefined("no block value");
    }
  } catch (const eval_failure& f) {
    fail_at(e.offset, f.what());
  }
  return value::none();
}

}  // namespace huashan::harness::jinja
