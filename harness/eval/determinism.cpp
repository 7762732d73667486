#include "harness/eval/determinism.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/error.hpp"
#include "harness/eval/doc_sample.hpp"
#include "harness/eval/runner.hpp"

namespace huashan::harness::eval {

namespace json = boost::json;

namespace {

const json::value& field(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  if (!v) throw input_error(fmt::format("determinism record: field '{}' is missing", name));
  return *v;
}
std::int64_t int_field(const json::object& o, std::string_view name) {
  const auto& v = field(o, name);
  if (!v.is_int64() && !v.is_uint64())
    throw input_error(fmt::format("determinism record: field '{}' must be a whole number", name));
  return v.to_number<std::int64_t>();
}
double number_field(const json::object& o, std::string_view name) {
  const auto& v = field(o, name);
  if (!v.is_number()) throw input_error(fmt::format("determinism record: field '{}' must be a number", name));
  return v.to_number<double>();
}
bool bool_field(const json::object& o, std::string_view name) {
  const auto& v = field(o, name);
  if (!v.is_bool()) throw input_error(fmt::format("determinism record: field '{}' must be true or false", name));
  return v.get_bool();
}

// A NaN on one side only is as different as answers get.
double logprob_diff(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b) ? 0.0 : std::numeric_limits<double>::infinity();
  if (a == b) return 0.0;  // equal infinities too
  return std::abs(a - b);
}

double logprob_of(const response& r) {
  if (const auto* ll = std::get_if<loglikelihood_result>(&r)) return ll->logprob;
  return std::get<rolling_result>(r).logprob;
}

// The choice acc would take: the first of the most likely.
std::size_t argmax_choice(const std::vector<response>& answers) {
  std::size_t best = 0;
  for (std::size_t i = 1; i < answers.size(); ++i)
    if (logprob_of(answers[i]) > logprob_of(answers[best])) best = i;
  return best;
}

bool prediction_differs(output_type kind, const std::vector<response>& a, const std::vector<response>& b) {
  switch (kind) {
    case output_type::multiple_choice: return !a.empty() && argmax_choice(a) != argmax_choice(b);
    case output_type::generate_until:
      for (std::size_t i = 0; i < a.size(); ++i)
        if (std::get<std::string>(a[i]) != std::get<std::string>(b[i])) return true;
      return false;
    case output_type::loglikelihood:
      for (std::size_t i = 0; i < a.size(); ++i)
        if (std::get<loglikelihood_result>(a[i]).is_greedy != std::get<loglikelihood_result>(b[i]).is_greedy) return true;
      return false;
    case output_type::loglikelihood_rolling: return false;  // a perplexity text has no prediction
  }
  return false;
}

}  // namespace

determinism_record merge(const determinism_record& a, const determinism_record& b) {
  determinism_record m;
  m.documents = a.documents + b.documents;
  m.requests = a.requests + b.requests;
  m.batch_size = std::max(a.batch_size, b.batch_size);
  m.max_abs_logprob_diff = std::max(a.max_abs_logprob_diff, b.max_abs_logprob_diff);
  m.predictions_changed = a.predictions_changed + b.predictions_changed;
  m.prediction_changed = a.prediction_changed || b.prediction_changed;
  return m;
}

json::object to_json(const determinism_record& r) {
  json::object o;
  o["documents"] = r.documents;
  o["requests"] = r.requests;
  o["batch_size"] = r.batch_size;
  o["max_abs_logprob_diff"] = r.max_abs_logprob_diff;
  o["predictions_changed"] = r.predictions_changed;
  o["prediction_changed"] = r.prediction_changed;
  return o;
}

determinism_record determinism_from_json(const json::value& v) {
  if (!v.is_object()) throw input_error("determinism record: expected a JSON object");
  const auto& o = v.get_object();
  determinism_record r;
  r.documents = int_field(o, "documents");
  r.requests = int_field(o, "requests");
  r.batch_size = int_field(o, "batch_size");
  r.max_abs_logprob_diff = number_field(o, "max_abs_logprob_diff");
  r.predictions_changed = int_field(o, "predictions_changed");
  r.prediction_changed = bool_field(o, "prediction_changed");
  return r;
}

std::vector<std::vector<std::int64_t>> determinism_positions(const std::vector<std::int64_t>& task_sizes,
                                                             const std::vector<std::string>& task_names,
                                                             std::uint64_t seed) {
  const auto n_tasks = static_cast<std::int64_t>(task_sizes.size());
  std::vector<std::vector<std::int64_t>> out(task_sizes.size());
  if (n_tasks == 0) return out;
  // Many tasks (MMLU's 57 subjects): one document from each of a spread of tasks.
  const auto chosen = spread_sample(n_tasks, determinism_docs_total, sample_seed(seed, "", "determinism tasks"));
  const std::int64_t per_task = std::clamp<std::int64_t>(determinism_docs_total / n_tasks, 1, determinism_docs_per_task);
  for (const auto t : chosen) {
    const auto i = static_cast<std::size_t>(t);
    out[i] = spread_sample(task_sizes[i], per_task, sample_seed(seed, task_names[i], "determinism"));
  }
  return out;
}

determinism_record measure_determinism(model_backend& model, const std::vector<determinism_case>& cases,
                                       std::int64_t batch_size) {
  determinism_record rec;
  rec.batch_size = std::max<std::int64_t>(batch_size, 1);
  std::vector<const request*> all;
  for (const auto& c : cases) {
    ++rec.documents;
    for (const auto& r : c.doc->requests) all.push_back(&r);
  }
  rec.requests = static_cast<std::int64_t>(all.size());
  if (all.empty()) return rec;

  std::unordered_map<const request*, response> single, batched;
  for (const auto* r : all) single.emplace(r, ask_model(model, {r}).front());

  std::vector<const request*> ordered = all;
  std::stable_sort(ordered.begin(), ordered.end(), [](const request* a, const request* b) { return sent_before(*a, *b); });
  for (std::size_t begin = 0; begin < ordered.size();) {
    std::vector<const request*> chunk;
    std::size_t end = begin;
    while (end < ordered.size() && static_cast<std::int64_t>(chunk.size()) < rec.batch_size &&
           ordered[end]->args.index() == ordered[begin]->args.index())
      chunk.push_back(ordered[end++]);
    auto got = ask_model(model, chunk);
    for (std::size_t i = 0; i < chunk.size(); ++i) batched.emplace(chunk[i], std::move(got[i]));
    begin = end;
  }

  for (const auto& c : cases) {
    std::vector<response> a, b;
    for (const auto& r : c.doc->requests) {
      a.push_back(single.at(&r));
      b.push_back(batched.at(&r));
      if (!std::holds_alternative<std::string>(a.back()))
        rec.max_abs_logprob_diff = std::max(rec.max_abs_logprob_diff, logprob_diff(logprob_of(a.back()), logprob_of(b.back())));
    }
    if (prediction_differs(c.kind, a, b)) ++rec.predictions_changed;
  }
  rec.prediction_changed = rec.predictions_changed > 0;
  return rec;
}

}  // namespace huashan::harness::eval
