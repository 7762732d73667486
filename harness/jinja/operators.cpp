#include "harness/jinja/operators.hpp"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <limits>

#include "harness/jinja/evaluator.hpp"

namespace huashan::harness::jinja {

namespace {

[[noreturn]] void unsupported(std::string_view op, const value& a, const value& b) {
  if (a.is_undefined()) fail_undefined(a);
  if (b.is_undefined()) fail_undefined(b);
  throw eval_failure("unsupported operand type(s) for " + std::string(op) + ": '" + type_name(a) + "' and '" +
                     type_name(b) + "'");
}

std::int64_t checked_add(std::int64_t a, std::int64_t b) {
  std::int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) throw eval_failure("integer overflow");
  return r;
}
std::int64_t checked_sub(std::int64_t a, std::int64_t b) {
  std::int64_t r = 0;
  if (__builtin_sub_overflow(a, b, &r)) throw eval_failure("integer overflow");
  return r;
}
std::int64_t checked_mul(std::int64_t a, std::int64_t b) {
  std::int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) throw eval_failure("integer overflow");
  return r;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  if (b == 0) throw eval_failure("integer division or modulo by zero");
  if (a == std::numeric_limits<std::int64_t>::min() && b == -1) throw eval_failure("integer overflow");
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

std::int64_t floor_mod(std::int64_t a, std::int64_t b) {
  if (b == 0) throw eval_failure("integer division or modulo by zero");
  if (b == -1) return 0;
  std::int64_t r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

double float_mod(double a, double b) {
  if (b == 0.0) throw eval_failure("float modulo");
  double r = std::fmod(a, b);
  if (r != 0.0 && ((r < 0) != (b < 0))) r += b;
  else if (r == 0.0) r = std::copysign(0.0, b);
  return r;
}

// a + b keeping the parts of each that came from the variables.
value concatenated(std::string s, const value& a, const value& b, std::size_t b_offset) {
  span_list spans = spans_of(a);
  for (auto [first, second] : spans_of(b)) spans.emplace_back(first + b_offset, second + b_offset);
  return string_with_spans(std::move(s), std::move(spans));
}

value repeat(const value& seq, std::int64_t times) {
  if (times <= 0) return seq.is_string() ? value::string("") : value::list({}, seq.flag);
  std::size_t unit = seq.is_string() ? seq.text.size() : seq.items->size() * 16;
  if (unit != 0 && static_cast<std::uint64_t>(times) > max_string_bytes / unit) throw eval_failure("result too large");
  if (seq.is_string()) {
    std::string out;
    out.reserve(seq.text.size() * static_cast<std::size_t>(times));
    for (std::int64_t i = 0; i < times; ++i) out += seq.text;
    return value::string(std::move(out));
  }
  value_list out;
  for (std::int64_t i = 0; i < times; ++i) out.insert(out.end(), seq.items->begin(), seq.items->end());
  return value::list(std::move(out), seq.flag);
}

value power(const value& a, const value& b) {
  if (a.is_integral() && b.is_integral() && b.as_int() >= 0) {
    std::int64_t base = a.as_int(), exp = b.as_int(), result = 1;
    while (exp > 0) {
      if (exp & 1) result = checked_mul(result, base);
      exp >>= 1;
      if (exp > 0) base = checked_mul(base, base);
    }
    return value::int_(result);
  }
  double x = a.as_float(), y = b.as_float();
  if (x == 0.0 && y < 0) throw eval_failure("0.0 cannot be raised to a negative power");
  double r = std::pow(x, y);
  if (std::isnan(r) && !std::isnan(x) && !std::isnan(y)) throw eval_failure("math domain error");
  return value::float_(r);
}

}  // namespace

value binary_operation(evaluator& ev, std::string_view op, const value& a, const value& b) {
  if (op == "~") {
    std::string left = ev.str(a);
    std::string s = left + ev.str(b);
    if (s.size() > max_string_bytes) throw eval_failure("result too large");
    return concatenated(std::move(s), a, b, left.size());
  }
  bool numbers = a.is_number() && b.is_number();
  bool ints = a.is_integral() && b.is_integral();
  if (op == "+") {
    if (ints) {
      return value::int_(checked_add(a.as_int(), b.as_int()));
    }
    if (numbers) return value::float_(a.as_float() + b.as_float());
    if (a.is_string() && b.is_string()) {
      if (a.text.size() + b.text.size() > max_string_bytes) throw eval_failure("result too large");
      return concatenated(a.text + b.text, a, b, a.text.size());
    }
    if (a.is_list() && b.is_list() && a.flag == b.flag) {
      value_list out = *a.items;
      out.insert(out.end(), b.items->begin(), b.items->end());
      return value::list(std::move(out), a.flag);
    }
    unsupported("+", a, b);
  }
  if (op == "-") {
    if (ints) {
      return value::int_(checked_sub(a.as_int(), b.as_int()));
    }
    if (numbers) return value::float_(a.as_float() - b.as_float());
    unsupported("-", a, b);
  }
  if (op == "*") {
    if (ints) {
      return value::int_(checked_mul(a.as_int(), b.as_int()));
    }
    if (numbers) return value::float_(a.as_float() * b.as_float());
    if ((a.is_string() || a.is_list()) && b.is_integral()) return repeat(a, b.as_int());
    if ((b.is_string() || b.is_list()) && a.is_integral()) return repeat(b, a.as_int());
    unsupported("*", a, b);
  }
  if (op == "/") {
    if (!numbers) unsupported("/", a, b);
    if (b.as_float() == 0.0) throw eval_failure("division by zero");
    return value::float_(a.as_float() / b.as_float());
  }
  if (op == "//") {
    if (ints) return value::int_(floor_div(a.as_int(), b.as_int()));
    if (!numbers) unsupported("//", a, b);
    if (b.as_float() == 0.0) throw eval_failure("float floor division by zero");
    return value::float_(std::floor(a.as_float() / b.as_float()));
  }
  if (op == "%") {
    if (a.is_string()) return value::string(percent_format(a.text, b));
    if (ints) return value::int_(floor_mod(a.as_int(), b.as_int()));
    if (numbers) return value::float_(float_mod(a.as_float(), b.as_float()));
    unsupported("%", a, b);
  }
  if (op == "**") {
    if (!numbers) unsupported("** or pow()", a, b);
    return power(a, b);
  }
  throw eval_failure("unknown operator " + std::string(op));
}

bool contains(evaluator& ev, const value& container, const value& item) {
  switch (container.kind) {
    case value_kind::string:
      if (!item.is_string()) {
        if (item.is_undefined()) fail_undefined(item);
        throw eval_failure("'in <string>' requires string as left operand, not " + type_name(item));
      }
      return container.text.find(item.text) != std::string::npos;
    case value_kind::list:
      if (item.is_undefined() && ev.strict_about(item) && !container.items->empty()) fail_undefined(item);
      for (const auto& v : *container.items)
        if (equals(v, item)) return true;
      return false;
    case value_kind::dict:
      if (item.is_undefined() && ev.strict_about(item)) fail_undefined(item);
      if ((item.is_list() && !item.flag) || item.is_dict()) throw eval_failure("unhashable type: '" + type_name(item) + "'");
      return container.dict->find(item) != nullptr;
    case value_kind::undefined:
      if (ev.strict_about(container)) fail_undefined(container);
      return false;
    default:
      throw eval_failure("argument of type '" + type_name(container) + "' is not iterable");
  }
}

bool compare_operation(evaluator& ev, std::string_view op, const value& a, const value& b) {
  if (op == "in") return contains(ev, b, a);
  if (op == "notin") return !contains(ev, b, a);
  if (op == "==" || op == "!=") {
    if (ev.strict()) {
      if (a.is_undefined() && ev.strict_about(a)) fail_undefined(a);
      if (b.is_undefined() && ev.strict_about(b)) fail_undefined(b);
    }
    bool eq = equals(a, b);
    return op == "==" ? eq : !eq;
  }
  if ((a.is_dict() || b.is_dict() || a.is_none() || b.is_none() || a.kind == value_kind::callable) &&
      !(a.is_undefined() || b.is_undefined()))
    throw eval_failure("'" + std::string(op) + "' not supported between instances of '" + type_name(a) + "' and '" +
                       type_name(b) + "'");
  int c = compare(a, b);
  if (op == "<") return c < 0;
  if (op == "<=") return c <= 0;
  if (op == ">") return c > 0;
  return c >= 0;
}

value unary_operation(bool minus, const value& v) {
  if (v.is_integral()) {
    if (!minus) return value::int_(v.as_int());
    if (v.as_int() == std::numeric_limits<std::int64_t>::min()) throw eval_failure("integer overflow");
    return value::int_(-v.as_int());
  }
  if (v.kind == value_kind::floating) return value::float_(minus ? -v.floating : v.floating);
  if (v.is_undefined()) fail_undefined(v);
  throw eval_failure(std::string("bad operand type for unary ") + (minus ? "-" : "+") + ": '" + type_name(v) + "'");
}

value slice_value(const value& obj, const value& start, const value& stop, const value& step) {
  if (obj.is_undefined()) fail_undefined(obj);
  if (!obj.is_list() && !obj.is_string()) throw eval_failure("'" + type_name(obj) + "' object is not subscriptable");
  auto index_of = [](const value& v, const char* what) -> std::int64_t {
    if (v.is_integral()) return v.as_int();
    throw eval_failure(std::string("slice ") + what + " must be an integer or None");
  };
  std::int64_t st = step.is_none() ? 1 : index_of(step, "indices");
  if (st == 0) throw eval_failure("slice step cannot be zero");
  if (st == std::numeric_limits<std::int64_t>::min()) st = -std::numeric_limits<std::int64_t>::max();
  std::vector<std::string_view> chars;
  std::int64_t n;
  if (obj.is_string()) {
    chars = utf8_chars(obj.text);
    n = static_cast<std::int64_t>(chars.size());
  } else {
    n = static_cast<std::int64_t>(obj.items->size());
  }
  auto adjust = [&](const value& v, std::int64_t def) -> std::int64_t {
    if (v.is_none()) return def;
    std::int64_t i = index_of(v, "indices");
    if (i < 0) {
      i = i < -n ? (st < 0 ? -1 : 0) : i + n;
    } else if (i >= n) {
      i = st < 0 ? n - 1 : n;
    }
    return i;
  };
  std::int64_t lo = adjust(start, st > 0 ? 0 : n - 1);
  std::int64_t hi = adjust(stop, st > 0 ? n : -1);
  std::vector<std::size_t> picks;
  if (st > 0) {
    for (std::int64_t i = lo; i < hi; i += st) {
      picks.push_back(static_cast<std::size_t>(i));
      if (i > std::numeric_limits<std::int64_t>::max() - st) break;
    }
  } else {
    for (std::int64_t i = lo; i > hi; i += st) {
      picks.push_back(static_cast<std::size_t>(i));
      if (i < std::numeric_limits<std::int64_t>::min() - st) break;
    }
  }
  if (obj.is_string()) {
    std::string out;
    if (st == 1 && !picks.empty()) {
      const char* first = chars[picks.front()].data();
      const char* last = chars[picks.back()].data() + chars[picks.back()].size();
      out.assign(first, last);
    } else {
      for (auto i : picks) out += chars[i];
    }
    return value::string(std::move(out), obj.flag && st == 1);
  }
  value_list out;
  out.reserve(picks.size());
  for (auto i : picks) out.push_back((*obj.items)[i]);
  return value::list(std::move(out), obj.flag);
}

std::string percent_format(const std::string& format, const value& args) {
  std::vector<value> positional;
  if (args.is_list() && args.flag) positional = *args.items;
  else if (!args.is_dict()) positional.push_back(args);
  std::size_t next = 0;
  std::string out;
  for (std::size_t i = 0; i < format.size(); ++i) {
    char c = format[i];
    if (c != '%') {
      out += c;
      continue;
    }
    if (++i >= format.size()) throw eval_failure("incomplete format");
    const value* arg = nullptr;
    if (format[i] == '(') {
      auto close = format.find(')', i);
      if (close == std::string::npos || !args.is_dict()) throw eval_failure("format requires a mapping");
      arg = args.dict->find(std::string_view(format).substr(i + 1, close - i - 1));
      if (!arg) throw eval_failure("KeyError in format");
      i = close + 1;
    }
    std::string spec = "%";
    while (i < format.size() && std::string_view("-+ #0").find(format[i]) != std::string_view::npos) spec += format[i++];
    while (i < format.size() && std::isdigit(static_cast<unsigned char>(format[i]))) spec += format[i++];
    if (i < format.size() && format[i] == '.') {
      spec += format[i++];
      while (i < format.size() && std::isdigit(static_cast<unsigned char>(format[i]))) spec += format[i++];
    }
    if (i >= format.size()) throw eval_failure("incomplete format");
    if (spec.size() > 12) throw eval_failure("format width too large");
    char type = format[i];
    if (type == '%') {
      out += '%';
      continue;
    }
    if (!arg) {
      if (next >= positional.size()) throw eval_failure("not enough arguments for format string");
      arg = &positional[next++];
    }
    char buf[512];
    switch (type) {
      case 's':
      case 'r': {
        std::string s = type == 's' ? to_str(*arg, false) : repr(*arg);
        if (spec == "%") {
          out += s;
        } else {
          std::string w = spec.substr(1);
          if (auto dot = w.find('.'); dot != std::string::npos) {
            std::size_t precision = static_cast<std::size_t>(std::atoi(w.c_str() + dot + 1));
            w.erase(dot);
            auto chars = utf8_chars(s);
            if (chars.size() > precision) {
              std::string cut;
              for (std::size_t k = 0; k < precision; ++k) cut += chars[k];
              s = cut;
            }
          }
          while (!w.empty() && (w[0] == '+' || w[0] == ' ' || w[0] == '#' || w[0] == '0') ) w.erase(0, 1);
          bool left = !w.empty() && w[0] == '-';
          if (left) w.erase(0, 1);
          std::size_t width = w.empty() ? 0 : static_cast<std::size_t>(std::atoi(w.c_str()));
          std::size_t len = utf8_length(s);
          std::string pad = len < width ? std::string(width - len, ' ') : "";
          out += left ? s + pad : pad + s;
        }
        break;
      }
      case 'd':
      case 'i':
      case 'x':
      case 'X':
      case 'o':
      case 'c': {
        if (!arg->is_number()) throw eval_failure("%d format: a number is required, not " + type_name(*arg));
        long long n = arg->is_integral() ? arg->as_int() : static_cast<long long>(arg->as_float());
        spec += "ll";
        spec += type == 'i' ? 'd' : type;
        if (type == 'c') spec = "%c";
        std::snprintf(buf, sizeof buf, spec.c_str(), n);
        out += buf;
        break;
      }
      case 'f':
      case 'F':
      case 'e':
      case 'E':
      case 'g':
      case 'G': {
        if (!arg->is_number()) throw eval_failure("must be real number, not " + type_name(*arg));
        spec += type;
        std::snprintf(buf, sizeof buf, spec.c_str(), arg->as_float());
        out += buf;
        break;
      }
      default: throw eval_failure(std::string("unsupported format character '") + type + "'");
    }
  }
  if (!args.is_dict() && next < positional.size()) throw eval_failure("not all arguments converted during string formatting");
  return out;
}

value loop_attribute(evaluator&, const value& loop, std::string_view name) {
  const loop_state& s = *loop.loop;
  auto n = static_cast<std::int64_t>(s.items->size());
  auto i = static_cast<std::int64_t>(s.index);
  if (name == "index") return value::int_(i + 1);
  if (name == "index0") return value::int_(i);
  if (name == "revindex") return value::int_(n - i);
  if (name == "revindex0") return value::int_(n - i - 1);
  if (name == "first") return value::boolean(i == 0);
  if (name == "last") return value::boolean(i == n - 1);
  if (name == "length") return value::int_(n);
  if (name == "depth") return value::int_(s.depth);
  if (name == "depth0") return value::int_(s.depth - 1);
  if (name == "previtem")
    return i > 0 ? (*s.items)[static_cast<std::size_t>(i - 1)] : value::make_undefined("there is no previous item");
  if (name == "nextitem")
    return i + 1 < n ? (*s.items)[static_cast<std::size_t>(i + 1)] : value::make_undefined("there is no next item");
  if (name == "cycle") {
    auto fn = std::make_shared<callable>();
    fn->name = "cycle";
    std::size_t index = s.index;
    fn->call = [index](evaluator&, call_args& args) -> value {
      if (args.positional.empty()) throw eval_failure("no items for cycling given");
      return args.positional[index % args.positional.size()];
    };
    return value::make_callable(std::move(fn));
  }
  if (name == "changed") {
    auto fn = std::make_shared<callable>();
    fn->name = "changed";
    auto state = loop.loop;
    fn->call = [state](evaluator&, call_args& args) -> value {
      bool same = state->has_changed_value && state->last_changed.size() == args.positional.size();
      for (std::size_t k = 0; same && k < args.positional.size(); ++k)
        same = equals(state->last_changed[k], args.positional[k]);
      state->has_changed_value = true;
      state->last_changed = args.positional;
      return value::boolean(!same);
    };
    return value::make_callable(std::move(fn));
  }
  return value::make_undefined("'LoopContext' object has no attribute '" + std::string(name) + "'");
}

}  // namespace huashan::harness::jinja
