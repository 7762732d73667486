#include "harness/chat_render.hpp"

#include <boost/json.hpp>

namespace huashan::harness {

rendered_chat render_chat_template(const jinja::template_& t, std::span<const chat_message> messages,
                                   const chat_render_options& o) {
  boost::json::object variables;
  boost::json::array list;
  for (const auto& m : messages) list.push_back(boost::json::object{{"role", m.role}, {"content", m.content}});
  variables["messages"] = std::move(list);
  // transformers passes tools=None and documents=None when there are none
  if (o.tools.empty()) variables["tools"] = nullptr;
  else variables["tools"] = o.tools;
  variables["documents"] = nullptr;
  variables["add_generation_prompt"] = o.add_generation_prompt;
  if (!o.bos_token.empty()) variables["bos_token"] = o.bos_token;
  if (!o.eos_token.empty()) variables["eos_token"] = o.eos_token;
  if (o.enable_thinking) variables["enable_thinking"] = *o.enable_thinking;
  jinja::render_options options;
  options.unix_seconds_now = o.clock;
  std::vector<jinja::variable_range> ranges;
  rendered_chat out;
  out.text = t.render(variables, options, ranges);
  // Only the messages' text is plain: a special token name that happens to be
  // printed from a variable (bos_token) stays a control token.
  for (const auto& r : ranges) {
    std::string_view piece = std::string_view(out.text).substr(r.begin, r.end - r.begin);
    if (piece == o.bos_token || piece == o.eos_token) continue;
    out.plain.push_back({r.begin, r.end});
  }
  return out;
}

}  // namespace huashan::harness
