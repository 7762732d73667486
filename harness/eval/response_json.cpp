#include "harness/eval/response_json.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <charconv>

#include "common/error.hpp"
#include "harness/eval/python_text.hpp"

namespace huashan::harness::eval {

namespace json = boost::json;

namespace {

const json::value& field(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  if (v == nullptr) throw input_error(fmt::format("answer has no field '{}'", name));
  return *v;
}

double exact_value(const json::object& o, std::string_view name) {
  const auto& v = field(o, name);
  if (!v.is_string()) throw input_error(fmt::format("answer field '{}' must be a number written as a string", name));
  const auto& s = v.as_string();
  double x = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty())
    throw input_error(fmt::format("answer field '{}' is '{}', not a number", name, std::string_view(s).substr(0, 40)));
  return x;
}

std::int32_t token_count(const json::object& o) {
  const auto& v = field(o, "n_tokens");
  if (!v.is_int64() || v.as_int64() < 0 || v.as_int64() > (1 << 30))
    throw input_error("answer field 'n_tokens' must be a non-negative integer");
  return static_cast<std::int32_t>(v.as_int64());
}

}  // namespace

json::object response_to_json(const response& r) {
  if (const auto* ll = std::get_if<loglikelihood_result>(&r))
    return json::object{{"kind", "loglikelihood"},
                        {"logprob", python_float_repr(ll->logprob)},
                        {"is_greedy", ll->is_greedy},
                        {"n_tokens", ll->n_tokens}};
  if (const auto* rr = std::get_if<rolling_result>(&r))
    return json::object{{"kind", "loglikelihood_rolling"}, {"logprob", python_float_repr(rr->logprob)}, {"n_tokens", rr->n_tokens}};
  return json::object{{"kind", "generate_until"}, {"text", std::get<std::string>(r)}};
}

response response_from_json(const json::object& o) {
  const auto& kind = field(o, "kind");
  if (!kind.is_string()) throw input_error("answer field 'kind' must be a string");
  if (kind.as_string() == "loglikelihood") {
    const auto& greedy = field(o, "is_greedy");
    if (!greedy.is_bool()) throw input_error("answer field 'is_greedy' must be true or false");
    return loglikelihood_result{exact_value(o, "logprob"), greedy.as_bool(), token_count(o)};
  }
  if (kind.as_string() == "loglikelihood_rolling") return rolling_result{exact_value(o, "logprob"), token_count(o)};
  if (kind.as_string() == "generate_until") {
    const auto& text = field(o, "text");
    if (!text.is_string()) throw input_error("answer field 'text' must be a string");
    return std::string(text.as_string());
  }
  throw input_error(fmt::format("answer kind '{}' is none of loglikelihood, loglikelihood_rolling, generate_until",
                                std::string_view(kind.as_string()).substr(0, 40)));
}

std::size_t response_kind(const response& r) { return r.index(); }

std::string answers_text(const std::vector<response>& answers) {
  json::array a;
  a.reserve(answers.size());
  for (const auto& r : answers) a.emplace_back(response_to_json(r));
  return json::serialize(a);
}

std::vector<response> answers_from_json(const json::array& a) {
  std::vector<response> out;
  out.reserve(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!a[i].is_object()) throw input_error(fmt::format("answer {} is not a JSON object", i));
    try {
      out.push_back(response_from_json(a[i].as_object()));
    } catch (const input_error& e) {
      throw input_error(fmt::format("answer {}: {}", i, e.what()));
    }
  }
  return out;
}

}  // namespace huashan::harness::eval
