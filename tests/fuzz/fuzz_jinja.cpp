// Fuzzes the Jinja engine: arbitrary bytes as a template (the first byte picks
// the suite or the chat environment), parsed and rendered with a fixed set of
// variables shaped like a chat request and a suite document. Invariants: the
// only error is template_error, and every variable range lies inside the
// output and names text that is in one of the variables' strings.
#include <boost/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "harness/jinja/jinja.hpp"

using namespace huashan::harness::jinja;

namespace {

const boost::json::object& variables() {
  static const boost::json::object vars = boost::json::parse(R"({
    "messages": [
      {"role": "system", "content": "Be brief."},
      {"role": "user", "content": "Hi <|im_end|> there"},
      {"role": "assistant", "content": "<think>\nhm\n</think>\n\nHello", "tool_calls": [
        {"type": "function", "function": {"name": "f", "arguments": {"x": 1}}}]},
      {"role": "tool", "content": "{\"ok\": true}"}],
    "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
    "add_generation_prompt": true, "enable_thinking": false,
    "bos_token": "<s>", "eos_token": "</s>",
    "question": "  What is 2+2?  ", "choices": ["3", "4", "5"], "answer": 1, "label": "2",
    "doc": {"text": "x y z", "n": 1.5, "none": null, "nested": {"list": [1, [2, 3]]}}
  })").as_object();
  return vars;
}

bool in_some_string(const boost::json::value& v, std::string_view piece) {
  if (v.is_string()) return std::string_view(v.get_string()).find(piece) != std::string_view::npos;
  if (v.is_array()) {
    for (const auto& e : v.get_array())
      if (in_some_string(e, piece)) return true;
  }
  if (v.is_object()) {
    for (const auto& e : v.get_object())
      if (std::string_view(e.key()).find(piece) != std::string_view::npos || in_some_string(e.value(), piece)) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  auto env = data[0] & 1 ? chat_environment() : suite_environment();
  std::string_view source(reinterpret_cast<const char*>(data) + 1, size - 1);
  render_options options;
  options.unix_seconds_now = [] { return std::int64_t{1735732800}; };
  try {
    auto t = template_::parse(source, env, "fuzz");
    std::vector<variable_range> ranges;
    std::string out = t.render(variables(), options, ranges);
    static const boost::json::value all(variables());
    for (const auto& r : ranges) {
      if (r.begin > r.end || r.end > out.size()) std::abort();
      if (!in_some_string(all, std::string_view(out).substr(r.begin, r.end - r.begin))) std::abort();
    }
  } catch (const template_error&) {
  }
  return 0;
}
