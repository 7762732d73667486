#include "harness/jinja/parser.hpp"

#include "harness/jinja/builtins.hpp"

#include <charconv>
#include <cstdlib>
#include <initializer_list>

namespace huashan::harness::jinja {

namespace {

constexpr int max_depth = 200;

class parser {
 public:
  parser(const std::vector<token>& tokens, const environment_options& env, const std::string& name,
         const source_positions& where)
      : toks_(tokens), env_(env), name_(name), where_(where) {}

  stmt_list run() {
    auto body = subparse({});
    if (!unknown_.empty()) fail(unknown_[0].first, unknown_[0].second);
    return body;
  }

 private:
  // ---- token stream ----
  const token& cur() const { return toks_[pos_]; }
  const token& peek(std::size_t n = 1) const { return toks_[std::min(pos_ + n, toks_.size() - 1)]; }
  void advance() {
    if (pos_ + 1 < toks_.size()) ++pos_;
  }
  bool is_op(std::string_view op) const { return cur().kind == token_kind::op && cur().text == op; }
  bool is_name(std::string_view n) const { return cur().kind == token_kind::name && cur().text == n; }
  bool skip_op(std::string_view op) {
    if (!is_op(op)) return false;
    advance();
    return true;
  }
  bool skip_name(std::string_view n) {
    if (!is_name(n)) return false;
    advance();
    return true;
  }

  [[noreturn]] void fail(std::size_t offset, const std::string& what) const {
    auto [line, column] = where_.at(offset);
    throw template_error(name_, line, column, what);
  }

  static std::string describe(const token& t) {
    switch (t.kind) {
      case token_kind::end_of_input: return "end of template";
      case token_kind::block_end: return "end of statement block";
      case token_kind::variable_end: return "end of print statement";
      case token_kind::block_begin: return "begin of statement block";
      case token_kind::variable_begin: return "begin of print statement";
      case token_kind::text: return "template data";
      case token_kind::string: return "string";
      case token_kind::integer: return "integer";
      case token_kind::floating: return "float";
      default: return "'" + t.text + "'";
    }
  }

  [[noreturn]] void unexpected(const std::string& expected) const {
    fail(cur().offset, "unexpected " + describe(cur()) + ", expected " + expected);
  }

  void expect_op(std::string_view op) {
    if (!skip_op(op)) unexpected("'" + std::string(op) + "'");
  }
  std::string expect_name() {
    if (cur().kind != token_kind::name) unexpected("name");
    std::string n = cur().text;
    advance();
    return n;
  }
  void expect_block_end() {
    if (cur().kind != token_kind::block_end) unexpected("end of statement block");
    advance();
  }

  struct depth_guard {
    parser& p;
    explicit depth_guard(parser& parent) : p(parent) {
      if (++p.depth_ > max_depth) p.fail(p.cur().offset, "template nested too deeply");
    }
    ~depth_guard() { --p.depth_; }
  };

  expr_ptr node(expr_kind k, std::size_t offset) {
    auto e = std::make_unique<expr>();
    e->kind = k;
    e->offset = offset;
    return e;
  }

  // ---- statements ----
  // Parses until a block tag whose name is in `ends` (left unconsumed: the
  // block_begin and the name are the current tokens).
  stmt_list subparse(std::initializer_list<std::string_view> ends) {
    depth_guard guard(*this);
    stmt_list body;
    while (true) {
      const token& t = cur();
      if (t.kind == token_kind::end_of_input) {
        if (ends.size() == 0) return body;
        std::string looking;
        for (auto e : ends) looking += (looking.empty() ? "'" : " or '") + std::string(e) + "'";
        fail(t.offset, "Unexpected end of template. Jinja was looking for the following tags: " + looking + ".");
      }
      if (t.kind == token_kind::text) {
        auto s = std::make_unique<stmt>();
        s->kind = stmt_kind::text;
        s->offset = t.offset;
        s->text = t.text;
        body.push_back(std::move(s));
        advance();
      } else if (t.kind == token_kind::variable_begin) {
        auto s = std::make_unique<stmt>();
        s->kind = stmt_kind::output;
        s->offset = t.offset;
        advance();
        s->expression = parse_tuple(true, {});
        s->offset = s->expression->offset;
        if (cur().kind != token_kind::variable_end) unexpected("end of print statement");
        advance();
        body.push_back(std::move(s));
      } else if (t.kind == token_kind::block_begin) {
        const token& n = peek();
        if (n.kind == token_kind::name) {
          for (auto e : ends)
            if (n.text == e) {
              advance();
              return body;
            }
        }
        advance();
        body.push_back(parse_statement(ends));
      } else {
        unexpected("template data or a tag");
      }
    }
  }

  std::unique_ptr<stmt> parse_statement(std::initializer_list<std::string_view> ends) {
    if (cur().kind != token_kind::name) fail(cur().offset, "tag name expected");
    std::string tag = cur().text;
    std::size_t offset = cur().offset;
    auto s = std::make_unique<stmt>();
    s->offset = offset;
    if (tag == "if") return parse_if(std::move(s));
    if (tag == "for") return parse_for(std::move(s));
    if (tag == "set") return parse_set(std::move(s));
    if (tag == "macro") return parse_macro(std::move(s));
    if (tag == "call") return parse_call_block(std::move(s));
    if (tag == "filter") return parse_filter_block(std::move(s));
    if (tag == "with") return parse_with(std::move(s));
    if (env_.huggingface_extensions && (tag == "break" || tag == "continue")) {
      advance();
      s->kind = tag == "break" ? stmt_kind::break_ : stmt_kind::continue_;
      expect_block_end();
      return s;
    }
    if (env_.huggingface_extensions && tag == "generation") {
      advance();
      expect_block_end();
      s->kind = stmt_kind::scope;
      s->body = subparse({"endgeneration"});
      advance();
      expect_block_end();
      return s;
    }
    std::string msg = "Encountered unknown tag '" + tag + "'.";
    if (ends.size() != 0) {
      std::string looking;
      for (auto e : ends) looking += (looking.empty() ? "'" : " or '") + std::string(e) + "'";
      msg += " Jinja was looking for the following tags: " + looking + ".";
    }
    fail(offset, msg);
  }

  // jinja2 reports an unknown filter or test when compiling, except inside an
  // {% if %} or an `x if c else y`, where it fails only if it runs.
  void check_known(std::size_t offset, bool is_filter, const std::string& name) {
    if (soft_ > 0) return;
    if (is_filter ? filter_exists(name, env_) : test_exists(name)) return;
    unknown_.emplace_back(offset, std::string(is_filter ? "No filter named '" : "No test named '") + name + "'.");
  }

  std::unique_ptr<stmt> parse_if(std::unique_ptr<stmt> s) {
    s->kind = stmt_kind::if_;
    advance();
    ++soft_;
    struct unsoften {
      int& n;
      ~unsoften() { --n; }
    } guard{soft_};
    while (true) {
      auto cond = parse_tuple(false, {});
      expect_block_end();
      auto body = subparse({"elif", "else", "endif"});
      s->branches.emplace_back(std::move(cond), std::move(body));
      if (skip_name("elif")) continue;
      if (skip_name("else")) {
        expect_block_end();
        s->else_body = subparse({"endif"});
        advance();
      } else {
        advance();  // endif
      }
      break;
    }
    expect_block_end();
    return s;
  }

  expr_ptr parse_assign_target(bool with_namespace, std::initializer_list<std::string_view> extra_end) {
    std::size_t offset = cur().offset;
    if (with_namespace && cur().kind == token_kind::name && peek().kind == token_kind::op && peek().text == ".") {
      auto base = node(expr_kind::name, offset);
      base->name = expect_name();
      advance();
      auto attr = node(expr_kind::attribute, offset);
      attr->name = expect_name();
      attr->children.push_back(std::move(base));
      return attr;
    }
    std::vector<expr_ptr> names;
    bool tuple = false;
    while (true) {
      bool paren = skip_op("(");
      if (paren) {
        // (a, b) as a target: nested names
        auto inner = parse_assign_target(false, {});
        expect_op(")");
        names.push_back(std::move(inner));
      } else {
        auto n = node(expr_kind::name, cur().offset);
        n->name = expect_name();
        names.push_back(std::move(n));
      }
      if (!skip_op(",")) break;
      tuple = true;
      bool end = cur().kind == token_kind::block_end || is_op("=");
      for (auto e : extra_end)
        if (is_name(e)) end = true;
      if (end) break;
    }
    if (!tuple) return std::move(names[0]);
    auto t = node(expr_kind::tuple, offset);
    t->children = std::move(names);
    return t;
  }

  std::unique_ptr<stmt> parse_for(std::unique_ptr<stmt> s) {
    s->kind = stmt_kind::for_;
    advance();
    s->target = parse_assign_target(false, {"in"});
    if (!skip_name("in")) unexpected("'in'");
    s->expression = parse_tuple(false, {"recursive"});
    if (skip_name("if")) s->condition = parse_expression(true);
    s->recursive = skip_name("recursive");
    expect_block_end();
    s->body = subparse({"endfor", "else"});
    if (skip_name("else")) {
      expect_block_end();
      s->else_body = subparse({"endfor"});
    }
    advance();
    expect_block_end();
    return s;
  }

  std::unique_ptr<stmt> parse_set(std::unique_ptr<stmt> s) {
    advance();
    s->target = parse_assign_target(true, {});
    if (skip_op("=")) {
      s->kind = stmt_kind::set;
      s->expression = parse_tuple(true, {});
      expect_block_end();
      return s;
    }
    s->kind = stmt_kind::set_block;
    if (is_op("|")) s->filter = parse_filter_chain(node(expr_kind::block_value, cur().offset));
    expect_block_end();
    s->body = subparse({"endset"});
    advance();
    expect_block_end();
    return s;
  }

  void parse_params(std::vector<macro_param>& params) {
    expect_op("(");
    while (!is_op(")")) {
      if (!params.empty()) expect_op(",");
      if (is_op(")")) break;
      macro_param p;
      p.name = expect_name();
      if (skip_op("=")) p.default_value = parse_expression(true);
      params.push_back(std::move(p));
    }
    advance();
  }

  std::unique_ptr<stmt> parse_macro(std::unique_ptr<stmt> s) {
    s->kind = stmt_kind::macro;
    advance();
    s->name = expect_name();
    parse_params(s->params);
    expect_block_end();
    s->body = subparse({"endmacro"});
    advance();
    if (cur().kind == token_kind::name && cur().text == s->name) advance();
    expect_block_end();
    return s;
  }

  std::unique_ptr<stmt> parse_call_block(std::unique_ptr<stmt> s) {
    s->kind = stmt_kind::call_block;
    advance();
    if (is_op("(")) parse_params(s->params);
    s->expression = parse_expression(true);
    if (s->expression->kind != expr_kind::call) fail(s->offset, "expected call");
    expect_block_end();
    s->body = subparse({"endcall"});
    advance();
    expect_block_end();
    return s;
  }

  std::unique_ptr<stmt> parse_filter_block(std::unique_ptr<stmt> s) {
    s->kind = stmt_kind::filter_block;
    advance();
    s->filter = parse_filter_chain(node(expr_kind::block_value, cur().offset), true);
    expect_block_end();
    s->body = subparse({"endfilter"});
    advance();
    expect_block_end();
    return s;
  }

  std::unique_ptr<stmt> parse_with(std::unique_ptr<stmt> s) {
    s->kind = stmt_kind::with;
    advance();
    while (cur().kind != token_kind::block_end) {
      if (!s->assignments.empty()) expect_op(",");
      auto target = parse_assign_target(false, {});
      expect_op("=");
      s->assignments.emplace_back(std::move(target), parse_expression(true));
    }
    expect_block_end();
    s->body = subparse({"endwith"});
    advance();
    expect_block_end();
    return s;
  }

  // ---- expressions ----
  bool tuple_end(std::initializer_list<std::string_view> extra_end) const {
    auto k = cur().kind;
    if (k == token_kind::variable_end || k == token_kind::block_end || k == token_kind::end_of_input) return true;
    if (is_op(")")) return true;
    for (auto e : extra_end)
      if (is_name(e)) return true;
    return false;
  }

  expr_ptr parse_tuple(bool with_condexpr, std::initializer_list<std::string_view> extra_end) {
    std::size_t offset = cur().offset;
    std::vector<expr_ptr> items;
    bool is_tuple = false;
    while (true) {
      if (!items.empty()) expect_op(",");
      if (tuple_end(extra_end)) break;
      items.push_back(parse_expression(with_condexpr));
      if (!is_op(",")) break;
      is_tuple = true;
    }
    if (!is_tuple) {
      if (items.empty()) fail(cur().offset, "Expected an expression, got '" + describe(cur()) + "'");
      return std::move(items[0]);
    }
    auto t = node(expr_kind::tuple, offset);
    t->children = std::move(items);
    return t;
  }

  expr_ptr parse_expression(bool with_condexpr) {
    depth_guard guard(*this);
    if (!with_condexpr) return parse_or();
    std::size_t offset = cur().offset;
    std::size_t unknown_before = unknown_.size();
    auto e = parse_or();
    if (!is_name("if")) return e;
    unknown_.resize(unknown_before);
    ++soft_;
    struct unsoften {
      int& n;
      ~unsoften() { --n; }
    } soft_guard{soft_};
    while (skip_name("if")) {
      auto cond = parse_or();
      expr_ptr otherwise;
      if (skip_name("else")) otherwise = parse_expression(true);
      auto c = node(expr_kind::conditional, offset);
      c->children.push_back(std::move(e));
      c->children.push_back(std::move(cond));
      c->children.push_back(std::move(otherwise));
      e = std::move(c);
    }
    return e;
  }

  expr_ptr parse_or() {
    std::size_t offset = cur().offset;
    auto left = parse_and();
    while (skip_name("or")) {
      auto n = node(expr_kind::logical_or, offset);
      n->children.push_back(std::move(left));
      n->children.push_back(parse_and());
      left = std::move(n);
    }
    return left;
  }

  expr_ptr parse_and() {
    std::size_t offset = cur().offset;
    auto left = parse_not();
    while (skip_name("and")) {
      auto n = node(expr_kind::logical_and, offset);
      n->children.push_back(std::move(left));
      n->children.push_back(parse_not());
      left = std::move(n);
    }
    return left;
  }

  expr_ptr parse_not() {
    depth_guard guard(*this);
    if (is_name("not")) {
      std::size_t offset = cur().offset;
      advance();
      auto n = node(expr_kind::negate, offset);
      n->children.push_back(parse_not());
      return n;
    }
    return parse_compare();
  }

  expr_ptr parse_compare() {
    std::size_t offset = cur().offset;
    auto first = parse_math1();
    expr_ptr cmp;
    while (true) {
      std::string op;
      if (cur().kind == token_kind::op &&
          (cur().text == "==" || cur().text == "!=" || cur().text == "<" || cur().text == "<=" ||
           cur().text == ">" || cur().text == ">=")) {
        op = cur().text;
        advance();
      } else if (is_name("in")) {
        op = "in";
        advance();
      } else if (is_name("not") && peek().kind == token_kind::name && peek().text == "in") {
        op = "notin";
        advance();
        advance();
      } else {
        break;
      }
      if (!cmp) {
        cmp = node(expr_kind::compare, offset);
        cmp->children.push_back(std::move(first));
      }
      cmp->ops.push_back(op);
      cmp->children.push_back(parse_math1());
    }
    return cmp ? std::move(cmp) : std::move(first);
  }

  expr_ptr binary(std::string op, expr_ptr l, expr_ptr r, std::size_t offset) {
    auto n = node(expr_kind::binary, offset);
    n->name = std::move(op);
    n->children.push_back(std::move(l));
    n->children.push_back(std::move(r));
    return n;
  }

  expr_ptr parse_math1() {
    std::size_t offset = cur().offset;
    auto left = parse_concat();
    while (is_op("+") || is_op("-")) {
      std::string op = cur().text;
      advance();
      left = binary(op, std::move(left), parse_concat(), offset);
    }
    return left;
  }

  expr_ptr parse_concat() {
    std::size_t offset = cur().offset;
    auto left = parse_math2();
    while (skip_op("~")) left = binary("~", std::move(left), parse_math2(), offset);
    return left;
  }

  expr_ptr parse_math2() {
    std::size_t offset = cur().offset;
    auto left = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      std::string op = cur().text;
      advance();
      left = binary(op, std::move(left), parse_pow(), offset);
    }
    return left;
  }

  expr_ptr parse_pow() {
    std::size_t offset = cur().offset;
    auto left = parse_unary(true);
    while (skip_op("**")) left = binary("**", std::move(left), parse_unary(true), offset);
    return left;
  }

  expr_ptr parse_unary(bool with_filter) {
    depth_guard guard(*this);
    std::size_t offset = cur().offset;
    expr_ptr n;
    if (skip_op("-")) {
      n = node(expr_kind::unary_minus, offset);
      n->children.push_back(parse_unary(false));
    } else if (skip_op("+")) {
      n = node(expr_kind::unary_plus, offset);
      n->children.push_back(parse_unary(false));
    } else {
      n = parse_primary();
    }
    n = parse_postfix(std::move(n));
    if (with_filter) n = parse_filter_expr(std::move(n));
    return n;
  }

  expr_ptr literal(value v, std::size_t offset) {
    auto n = node(expr_kind::literal, offset);
    n->constant = std::move(v);
    return n;
  }

  expr_ptr parse_primary() {
    const token& t = cur();
    std::size_t offset = t.offset;
    switch (t.kind) {
      case token_kind::name: {
        std::string n = t.text;
        advance();
        if (n == "true" || n == "True") return literal(value::boolean(true), offset);
        if (n == "false" || n == "False") return literal(value::boolean(false), offset);
        if (n == "none" || n == "None") return literal(value::none(), offset);
        auto e = node(expr_kind::name, offset);
        e->name = std::move(n);
        return e;
      }
      case token_kind::string: {
        std::string s = t.text;
        advance();
        while (cur().kind == token_kind::string) {
          s += cur().text;
          advance();
        }
        return literal(value::string(std::move(s)), offset);
      }
      case token_kind::integer: {
        std::int64_t v = 0;
        auto res = std::from_chars(t.text.data(), t.text.data() + t.text.size(), v);
        value c = res.ec == std::errc() ? value::int_(v) : value::float_(std::strtod(t.text.c_str(), nullptr));
        advance();
        return literal(std::move(c), offset);
      }
      case token_kind::floating: {
        double d = std::strtod(t.text.c_str(), nullptr);
        advance();
        return literal(value::float_(d), offset);
      }
      case token_kind::op:
        if (t.text == "(") {
          advance();
          auto e = parse_tuple(true, {});
          if (e->kind == expr_kind::tuple || !is_op(")")) {
            expect_op(")");
            return e;
          }
          advance();
          return e;
        }
        if (t.text == "[") {
          advance();
          auto e = node(expr_kind::list, offset);
          while (!is_op("]")) {
            if (!e->children.empty()) expect_op(",");
            if (is_op("]")) break;
            e->children.push_back(parse_expression(true));
          }
          advance();
          return e;
        }
        if (t.text == "{") {
          advance();
          auto e = node(expr_kind::dict, offset);
          while (!is_op("}")) {
            if (!e->children.empty()) expect_op(",");
            if (is_op("}")) break;
            e->children.push_back(parse_expression(true));
            expect_op(":");
            e->children.push_back(parse_expression(true));
          }
          advance();
          return e;
        }
        break;
      default: break;
    }
    fail(offset, "unexpected " + describe(t));
  }

  expr_ptr parse_postfix(expr_ptr n) {
    while (true) {
      std::size_t offset = cur().offset;
      if (skip_op(".")) {
        if (cur().kind == token_kind::name) {
          auto a = node(expr_kind::attribute, offset);
          a->name = cur().text;
          advance();
          a->children.push_back(std::move(n));
          n = std::move(a);
        } else if (cur().kind == token_kind::integer) {
          auto s = node(expr_kind::subscript, offset);
          s->children.push_back(std::move(n));
          s->children.push_back(parse_primary());
          n = std::move(s);
        } else {
          unexpected("name or number");
        }
      } else if (is_op("[")) {
        advance();
        n = parse_subscript(std::move(n), offset);
      } else if (is_op("(")) {
        n = parse_call(std::move(n));
      } else {
        return n;
      }
    }
  }

  bool subscript_part_end() const { return is_op("]") || is_op(",") || is_op(":"); }

  // One item of a[...]: an expression, or a slice start:stop:step.
  expr_ptr parse_subscribed(expr_ptr& obj, std::size_t offset, bool& sliced) {
    expr_ptr start;
    if (!is_op(":")) {
      start = parse_expression(true);
      if (!is_op(":")) return start;
    }
    advance();
    expr_ptr stop, step;
    if (!subscript_part_end()) stop = parse_expression(true);
    if (skip_op(":") && !is_op("]") && !is_op(",")) step = parse_expression(true);
    auto s = node(expr_kind::slice, offset);
    s->children.push_back(std::move(obj));
    s->children.push_back(std::move(start));
    s->children.push_back(std::move(stop));
    s->children.push_back(std::move(step));
    sliced = true;
    return s;
  }

  expr_ptr parse_subscript(expr_ptr obj, std::size_t offset) {
    std::vector<expr_ptr> items;
    while (!is_op("]")) {
      if (!items.empty()) expect_op(",");
      if (is_op("]")) break;
      bool sliced = false;
      auto item = parse_subscribed(obj, offset, sliced);
      if (sliced) {
        if (!items.empty() || !is_op("]")) fail(offset, "only a single slice is supported");
        advance();
        return item;
      }
      items.push_back(std::move(item));
    }
    advance();
    if (items.empty()) fail(offset, "expected subscript expression");
    auto s = node(expr_kind::subscript, offset);
    s->children.push_back(std::move(obj));
    if (items.size() > 1) {
      auto t = node(expr_kind::tuple, offset);
      t->children = std::move(items);
      s->children.push_back(std::move(t));
    } else {
      s->children.push_back(std::move(items[0]));
    }
    return s;
  }

  void parse_args(arg_list& args) {
    expect_op("(");
    bool first = true;
    while (!is_op(")")) {
      if (!first) {
        expect_op(",");
        if (is_op(")")) break;
      }
      first = false;
      if (skip_op("*")) {
        args.star = parse_expression(true);
      } else if (skip_op("**")) {
        args.star_star = parse_expression(true);
      } else if (cur().kind == token_kind::name && peek().kind == token_kind::op && peek().text == "=") {
        std::string key = cur().text;
        advance();
        advance();
        args.keywords.emplace_back(std::move(key), parse_expression(true));
      } else {
        if (!args.keywords.empty()) fail(cur().offset, "positional argument follows keyword argument");
        args.positional.push_back(parse_expression(true));
      }
    }
    advance();
  }

  expr_ptr parse_call(expr_ptr callee) {
    auto c = node(expr_kind::call, callee->offset);
    c->children.push_back(std::move(callee));
    parse_args(c->args);
    return c;
  }

  expr_ptr parse_filter_one(expr_ptr operand) {
    std::size_t offset = cur().offset;
    auto f = node(expr_kind::filter, offset);
    f->name = expect_name();
    while (is_op(".")) {
      advance();
      f->name += "." + expect_name();
    }
    check_known(offset, true, f->name);
    if (is_op("(")) parse_args(f->args);
    f->children.push_back(std::move(operand));
    return f;
  }

  expr_ptr parse_filter_chain(expr_ptr operand, bool start_inline = false) {
    if (start_inline) {
      operand = parse_filter_one(std::move(operand));
    }
    while (skip_op("|")) operand = parse_filter_one(std::move(operand));
    return operand;
  }

  expr_ptr parse_filter_expr(expr_ptr n) {
    while (true) {
      if (skip_op("|")) {
        n = parse_filter_one(std::move(n));
      } else if (is_name("is")) {
        n = parse_test(std::move(n));
      } else if (is_op("(")) {
        n = parse_call(std::move(n));
      } else {
        return n;
      }
    }
  }

  expr_ptr parse_test(expr_ptr operand) {
    std::size_t offset = cur().offset;
    advance();  // is
    auto t = node(expr_kind::test, offset);
    t->negated = skip_name("not");
    t->name = expect_name();
    while (is_op(".")) {
      advance();
      t->name += "." + expect_name();
    }
    check_known(offset, false, t->name);
    if (is_op("(")) {
      parse_args(t->args);
    } else if ((cur().kind == token_kind::name || cur().kind == token_kind::string ||
                cur().kind == token_kind::integer || cur().kind == token_kind::floating || is_op("(") ||
                is_op("[") || is_op("{")) &&
               !is_name("else") && !is_name("or") && !is_name("and")) {
      if (is_name("is")) fail(cur().offset, "You cannot chain multiple tests with is");
      auto arg = parse_postfix(parse_primary());
      t->args.positional.push_back(std::move(arg));
    }
    t->children.push_back(std::move(operand));
    return t;
  }

  const std::vector<token>& toks_;
  const environment_options& env_;
  const std::string& name_;
  const source_positions& where_;
  std::size_t pos_ = 0;
  int depth_ = 0;
  int soft_ = 0;                                              // inside an if: unknown names fail at render
  std::vector<std::pair<std::size_t, std::string>> unknown_;  // unknown filters/tests outside one
};

}  // namespace

stmt_list parse_tokens(const std::vector<token>& tokens, const environment_options& env, const std::string& name,
                       const source_positions& where) {
  return parser(tokens, env, name, where).run();
}

}  // namespace huashan::harness::jinja
