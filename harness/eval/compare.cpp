#include "harness/eval/compare.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <utility>

#include "common/error.hpp"
#include "harness/eval/python_text.hpp"

namespace huashan::harness::eval {

namespace json = boost::json;

namespace {

// ---- distributions ----------------------------------------------------------

// I_x(a, b), the regularized incomplete beta function, by its continued
// fraction (evaluated with Lentz's method) where that converges fast, and the
// symmetry I_x(a, b) = 1 - I_{1-x}(b, a) elsewhere.
double regularized_incomplete_beta(double a, double b, double x) {
  if (x <= 0.0) return 0.0;
  if (x >= 1.0) return 1.0;
  if (x > (a + 1.0) / (a + b + 2.0)) return 1.0 - regularized_incomplete_beta(b, a, 1.0 - x);
  const double log_front = a * std::log(x) + b * std::log1p(-x) - (std::lgamma(a) + std::lgamma(b) - std::lgamma(a + b));
  constexpr double tiny = 1e-300;
  constexpr double epsilon = 1e-15;
  // 1 / (1 + d1 / (1 + d2 / (1 + ...))) with d_{2m} and d_{2m+1} as below;
  // the fraction's leading 0 starts as `tiny` so the first step can divide.
  double f = tiny, c = tiny, d = 0.0;
  for (int j = 0; j < 10000; ++j) {
    double coefficient = 1.0;
    if (j > 0) {
      const int m = j / 2;
      coefficient = j % 2 == 0 ? m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
                               : -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
    }
    d = 1.0 + coefficient * d;
    if (std::abs(d) < tiny) d = tiny;
    c = 1.0 + coefficient / c;
    if (std::abs(c) < tiny) c = tiny;
    d = 1.0 / d;
    const double delta = c * d;
    f *= delta;
    if (std::abs(delta - 1.0) < epsilon) break;
  }
  return std::exp(log_front) / a * f;
}

// ---- reading the inputs -----------------------------------------------------

std::string json_text(const json::value& v) {
  if (v.is_double()) return python_float_repr(v.get_double());
  if (v.is_int64()) return std::to_string(v.get_int64());
  if (v.is_uint64()) return std::to_string(v.get_uint64());
  if (v.is_string()) return std::string(v.get_string());
  return json::serialize(v);
}

std::string short_hash(const json::value& v) {
  std::string s = json_text(v);
  return s.size() > 12 ? s.substr(0, 12) + ".." : s;
}

std::optional<double> as_number(const json::value& v) {
  if (v.is_double()) return v.get_double();
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  if (v.is_bool()) return v.get_bool() ? 1.0 : 0.0;
  return std::nullopt;
}

const json::object& task_prompts(const json::object& results, const char* side) {
  const auto* tp = results.if_contains("task_prompts");
  if (!tp || !tp->is_object())
    throw input_error(fmt::format("run {}: results have no \"task_prompts\" object (written by huashan eval), so its prompts cannot be checked", side));
  return tp->get_object();
}

// The task_prompts fields that decide whether two runs asked the same things;
// input_error naming the task and the first difference that explains it.
void check_same_prompts(const std::string& task, const json::object& a, const json::object& b) {
  auto field = [&](const json::object& side, const char* side_name, const char* key) -> const json::value& {
    const auto* v = side.if_contains(key);
    if (!v) throw input_error(fmt::format("run {}: task_prompts.{} has no \"{}\"", side_name, task, key));
    return *v;
  };
  const auto& sha_a = field(a, "A", "prompts_sha256");
  const auto& sha_b = field(b, "B", "prompts_sha256");
  const auto* version_a = a.if_contains("version");
  const auto* version_b = b.if_contains("version");
  const bool versions_differ = version_a && version_b && as_number(*version_a) != as_number(*version_b);
  if (sha_a == sha_b && !versions_differ) return;
  const auto* shots_a = a.if_contains("num_fewshot");
  const auto* shots_b = b.if_contains("num_fewshot");
  std::string why;
  if (shots_a && shots_b && *shots_a != *shots_b) {
    why = fmt::format("prompts differ: num_fewshot {} vs {}", json_text(*shots_a), json_text(*shots_b));
  } else if (versions_differ) {
    why = fmt::format("suite version {} vs {}", json_text(*version_a), json_text(*version_b));
  } else if (const auto *type_a = a.if_contains("output_type"), *type_b = b.if_contains("output_type");
             type_a && type_b && *type_a != *type_b) {
    why = fmt::format("prompts differ: output type {} vs {}", json_text(*type_a), json_text(*type_b));
  } else {
    why = fmt::format("different prompts (sha256 {} vs {})", short_hash(sha_a), short_hash(sha_b));
  }
  throw input_error(fmt::format("task '{}': runs are not comparable: {}", task, why));
}

// One document's sample line under one filter.
struct sample_values {
  std::string doc_hash;
  std::map<std::string, double> values;  // metrics with a number per document
};

struct task_samples {
  // filter -> doc_id -> values
  std::map<std::string, std::map<std::int64_t, sample_values>> by_filter;
  std::map<std::int64_t, std::string> doc_hashes;
};

task_samples read_samples(const std::string& task, const std::vector<json::object>& lines, const char* side) {
  task_samples out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto& line = lines[i];
    auto where = [&] { return fmt::format("run {}: samples_{}.jsonl entry {}", side, task, i + 1); };
    const auto* doc_id = line.if_contains("doc_id");
    if (!doc_id || !(doc_id->is_int64() || doc_id->is_uint64()))
      throw input_error(fmt::format("{}: \"doc_id\" must be an integer", where()));
    const std::int64_t id = doc_id->to_number<std::int64_t>();
    std::string filter = "none";
    if (const auto* f = line.if_contains("filter")) {
      if (!f->is_string()) throw input_error(fmt::format("{}: \"filter\" must be a string", where()));
      filter = std::string(f->get_string());
    }
    sample_values sv;
    if (const auto* h = line.if_contains("doc_hash"); h && h->is_string()) sv.doc_hash = std::string(h->get_string());
    const auto* metrics = line.if_contains("metrics");
    if (!metrics || !metrics->is_array())
      throw input_error(fmt::format("{}: \"metrics\" must be the array of the metric names on the line", where()));
    for (const auto& name : metrics->get_array()) {
      if (!name.is_string()) throw input_error(fmt::format("{}: \"metrics\" holds a non-string", where()));
      const std::string metric(name.get_string());
      const auto* value = line.if_contains(metric);
      if (!value) throw input_error(fmt::format("{}: metric \"{}\" is listed but has no value", where(), metric));
      // Corpus-level metrics (perplexity, bits per byte) store pairs, not a
      // per-document value whose mean is the task's: those are not compared.
      if (const auto number = as_number(*value)) sv.values[metric] = *number;
    }
    if (const auto [it, inserted] = out.doc_hashes.emplace(id, sv.doc_hash); !inserted && it->second != sv.doc_hash)
      throw input_error(fmt::format("{}: doc_id {} has two doc_hash values", where(), id));
    if (!out.by_filter[filter].emplace(id, std::move(sv)).second)
      throw input_error(fmt::format("{}: doc_id {} appears twice under filter \"{}\"", where(), id, filter));
  }
  return out;
}

void check_same_documents(const std::string& task, const task_samples& a, const task_samples& b) {
  for (const auto& [id, hash] : a.doc_hashes) {
    const auto it = b.doc_hashes.find(id);
    if (it == b.doc_hashes.end())
      throw input_error(fmt::format("task '{}': runs are not comparable: different documents (run A has {}, run B has {}; doc_id {} is only in A)",
                                    task, a.doc_hashes.size(), b.doc_hashes.size(), id));
    if (!hash.empty() && !it->second.empty() && hash != it->second)
      throw input_error(fmt::format("task '{}': runs are not comparable: doc_id {} is a different document (doc_hash {} vs {})", task, id,
                                    short_hash(json::value(hash)), short_hash(json::value(it->second))));
  }
  for (const auto& [id, hash] : b.doc_hashes)
    if (!a.doc_hashes.count(id))
      throw input_error(fmt::format("task '{}': runs are not comparable: different documents (run A has {}, run B has {}; doc_id {} is only in B)",
                                    task, a.doc_hashes.size(), b.doc_hashes.size(), id));
}

// ---- the statistics -----------------------------------------------------------

using metric_key = std::pair<std::string, std::string>;  // metric, filter
using paired_values = std::vector<std::pair<double, double>>;

metric_difference summarize(const std::string& name, const metric_key& key, const paired_values& pairs) {
  metric_difference d;
  d.name = name;
  d.metric = key.first;
  d.filter = key.second;
  d.n = static_cast<std::int64_t>(pairs.size());
  if (pairs.empty()) return d;
  const double n = static_cast<double>(pairs.size());
  bool binary = true;
  double sum_a = 0.0, sum_b = 0.0;
  for (const auto& [x, y] : pairs) {
    sum_a += x;
    sum_b += y;
    binary = binary && (x == 0.0 || x == 1.0) && (y == 0.0 || y == 1.0);
    if (x > y) ++d.only_a;
    if (y > x) ++d.only_b;
  }
  d.mean_a = sum_a / n;
  d.mean_b = sum_b / n;
  d.difference = d.mean_a - d.mean_b;
  d.test = binary ? paired_test::mcnemar : paired_test::paired_t;
  if (!binary) d.only_a = d.only_b = 0;
  if (pairs.size() < 2) return d;
  double squares = 0.0;
  for (const auto& [x, y] : pairs) {
    const double deviation = (x - y) - d.difference;
    squares += deviation * deviation;
  }
  const double df = n - 1.0;
  const double se = std::sqrt(squares / df) / std::sqrt(n);
  d.standard_error = se;
  const double half_width = student_t_quantile(0.975, df) * se;
  d.ci_low = d.difference - half_width;
  d.ci_high = d.difference + half_width;
  if (binary) {
    d.p_value = mcnemar_exact_p(d.only_a, d.only_b);
  } else if (se > 0.0) {
    d.p_value = student_t_two_sided_p(d.difference / se, df);
  } else {
    d.p_value = d.difference == 0.0 ? 1.0 : 0.0;
  }
  return d;
}

// Leaf tasks of a group through group_subtasks (groups may hold groups).
void leaf_tasks(const json::object& group_subtasks, const std::string& name, std::vector<std::string>& out, int depth = 0) {
  const auto* members = group_subtasks.if_contains(name);
  if (depth > 32) throw input_error(fmt::format("group_subtasks: group '{}' holds itself", name));
  if (!members || !members->is_array() || members->get_array().empty()) {
    out.push_back(name);
    return;
  }
  for (const auto& m : members->get_array())
    if (m.is_string()) leaf_tasks(group_subtasks, std::string(m.get_string()), out, depth + 1);
}

json::value number_or_null(std::optional<double> v) {
  if (!v || !std::isfinite(*v)) return nullptr;
  return *v;
}

json::object difference_json(const metric_difference& d, const char* name_key) {
  json::object o;
  o[name_key] = d.name;
  o["metric"] = d.metric;
  o["filter"] = d.filter;
  o["n"] = d.n;
  o["mean_a"] = number_or_null(d.mean_a);
  o["mean_b"] = number_or_null(d.mean_b);
  o["difference"] = number_or_null(d.difference);
  o["stderr"] = number_or_null(d.standard_error);
  o["ci95"] = json::array{number_or_null(d.ci_low), number_or_null(d.ci_high)};
  o["p_value"] = number_or_null(d.p_value);
  o["test"] = d.test == paired_test::mcnemar ? "mcnemar" : "paired-t";
  if (d.test == paired_test::mcnemar) {
    o["only_a"] = d.only_a;
    o["only_b"] = d.only_b;
  }
  if (!d.tasks.empty()) {
    json::array members;
    for (const auto& t : d.tasks) members.push_back(json::value(t));
    o["tasks"] = std::move(members);
  }
  return o;
}

}  // namespace

double mcnemar_exact_p(std::int64_t only_a, std::int64_t only_b) {
  const std::int64_t m = only_a + only_b;
  const std::int64_t k = std::min(only_a, only_b);
  if (m == 0 || 2 * k == m) return 1.0;
  // Two-sided: twice the smaller tail of Binomial(m, 1/2). Up to a thousand
  // pairs the binomial coefficients fit a double (exact while below 2^53), so
  // a tail of exactly one half comes out as 0.5; beyond that, in logarithms.
  double tail = 0.0;
  if (m <= 1000) {
    double choose = 1.0;
    for (std::int64_t i = 0; i <= k; ++i) {
      tail += choose;
      choose = choose * static_cast<double>(m - i) / static_cast<double>(i + 1);
    }
    tail = std::ldexp(tail, -static_cast<int>(m));
  } else {
    const double log_half_power = -static_cast<double>(m) * std::log(2.0);
    const double log_m_factorial = std::lgamma(static_cast<double>(m) + 1.0);
    for (std::int64_t i = 0; i <= k; ++i) {
      const double log_choose = log_m_factorial - std::lgamma(static_cast<double>(i) + 1.0) - std::lgamma(static_cast<double>(m - i) + 1.0);
      tail += std::exp(log_choose + log_half_power);
    }
  }
  return std::min(1.0, 2.0 * tail);
}

double student_t_two_sided_p(double t, double df) {
  if (std::isnan(t)) return std::numeric_limits<double>::quiet_NaN();
  if (std::isinf(t)) return 0.0;
  return regularized_incomplete_beta(df / 2.0, 0.5, df / (df + t * t));
}

double student_t_quantile(double probability, double df) {
  if (probability == 0.5) return 0.0;
  if (probability < 0.5) return -student_t_quantile(1.0 - probability, df);
  const double two_sided = 2.0 * (1.0 - probability);
  double low = 0.0, high = 1.0;
  while (student_t_two_sided_p(high, df) > two_sided && high < 1e300) high *= 2.0;
  // The two-sided p falls as t grows: bisection to the last bit.
  for (int i = 0; i < 200 && high - low > 1e-14 * high; ++i) {
    const double mid = 0.5 * (low + high);
    (student_t_two_sided_p(mid, df) > two_sided ? low : high) = mid;
  }
  return 0.5 * (low + high);
}

std::vector<std::string> tasks_in_both(const boost::json::object& results_a, const boost::json::object& results_b) {
  const auto& prompts_a = task_prompts(results_a, "A");
  const auto& prompts_b = task_prompts(results_b, "B");
  std::vector<std::string> out;
  for (const auto& entry : prompts_a)
    if (prompts_b.contains(entry.key())) out.emplace_back(entry.key());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> check_comparable_prompts(const boost::json::object& results_a, const boost::json::object& results_b) {
  const auto tasks = tasks_in_both(results_a, results_b);
  if (tasks.empty()) throw input_error("the runs have no task in common (task_prompts keys)");
  const auto& prompts_a = task_prompts(results_a, "A");
  const auto& prompts_b = task_prompts(results_b, "B");
  for (const auto& task : tasks) {
    const auto& pa = prompts_a.at(task);
    const auto& pb = prompts_b.at(task);
    if (!pa.is_object()) throw input_error(fmt::format("run A: task_prompts.{} must be an object", task));
    if (!pb.is_object()) throw input_error(fmt::format("run B: task_prompts.{} must be an object", task));
    check_same_prompts(task, pa.get_object(), pb.get_object());
  }
  return tasks;
}

run_comparison compare_runs(const run_for_comparison& a, const run_for_comparison& b) {
  run_comparison out;
  const auto tasks = check_comparable_prompts(a.results, b.results);
  const auto& prompts_a = task_prompts(a.results, "A");
  const auto& prompts_b = task_prompts(b.results, "B");
  for (const auto& entry : prompts_a)
    if (!prompts_b.contains(entry.key())) out.notes.push_back(fmt::format("task '{}' is only in run A", std::string(entry.key())));
  for (const auto& entry : prompts_b)
    if (!prompts_a.contains(entry.key())) out.notes.push_back(fmt::format("task '{}' is only in run B", std::string(entry.key())));

  // Every refusal before any number, so a partial comparison is never shown.
  std::map<std::string, std::map<metric_key, paired_values>> paired;  // task -> metric, filter -> pairs
  for (const auto& task : tasks) {
    const auto lines_a = a.samples.find(task);
    const auto lines_b = b.samples.find(task);
    if (lines_a == a.samples.end()) throw input_error(fmt::format("run A: no samples for task '{}' (samples_{}.jsonl)", task, task));
    if (lines_b == b.samples.end()) throw input_error(fmt::format("run B: no samples for task '{}' (samples_{}.jsonl)", task, task));
    const auto samples_a = read_samples(task, lines_a->second, "A");
    const auto samples_b = read_samples(task, lines_b->second, "B");
    check_same_documents(task, samples_a, samples_b);
    auto& task_pairs = paired[task];
    for (const auto& [filter, docs_a] : samples_a.by_filter) {
      const auto docs_b = samples_b.by_filter.find(filter);
      if (docs_b == samples_b.by_filter.end()) {
        out.notes.push_back(fmt::format("task '{}': filter \"{}\" is only in run A", task, filter));
        continue;
      }
      for (const auto& [id, values_a] : docs_a) {
        const auto doc_b = docs_b->second.find(id);
        if (doc_b == docs_b->second.end()) continue;  // the filter's lines cover the same documents on both sides (checked above)
        for (const auto& [metric, value_a] : values_a.values) {
          const auto value_b = doc_b->second.values.find(metric);
          if (value_b != doc_b->second.values.end()) task_pairs[{metric, filter}].emplace_back(value_a, value_b->second);
        }
      }
    }
    for (const auto& [key, pairs] : task_pairs) out.tasks.push_back(summarize(task, key, pairs));
  }

  // Groups both runs report: their members' documents pooled, which is the
  // group's value when lm-evaluation-harness weights members by size.
  const auto* groups_a = a.results.if_contains("groups");
  const auto* groups_b = b.results.if_contains("groups");
  const auto* subtasks = a.results.if_contains("group_subtasks");
  if (groups_a && groups_b && groups_a->is_object() && groups_b->is_object() && subtasks && subtasks->is_object()) {
    for (const auto& group_entry : groups_a->get_object()) {
      const std::string group(group_entry.key());
      const auto* entry_b = groups_b->get_object().if_contains(group);
      if (!entry_b || !entry_b->is_object() || !group_entry.value().is_object()) continue;
      std::vector<std::string> members;
      leaf_tasks(subtasks->get_object(), group, members);
      std::sort(members.begin(), members.end());
      members.erase(std::unique(members.begin(), members.end()), members.end());
      const auto missing = std::find_if(members.begin(), members.end(), [&](const std::string& m) { return !paired.count(m); });
      if (members.empty() || missing != members.end()) {
        out.notes.push_back(fmt::format("group '{}' not pooled: member '{}' is not in both runs", group, members.empty() ? "" : *missing));
        continue;
      }
      // The metrics every member has and both runs report for the group.
      for (const auto& [key, first_pairs] : paired[members.front()]) {
        const std::string result_key = key.first + "," + key.second;
        if (!group_entry.value().get_object().contains(result_key) || !entry_b->get_object().contains(result_key)) continue;
        paired_values pooled;
        bool complete = true;
        for (const auto& m : members) {
          const auto it = paired[m].find(key);
          if (it == paired[m].end()) {
            complete = false;
            break;
          }
          pooled.insert(pooled.end(), it->second.begin(), it->second.end());
        }
        if (!complete) continue;
        auto d = summarize(group, key, pooled);
        d.tasks = members;
        out.groups.push_back(std::move(d));
      }
    }
  }

  const auto* fingerprint_a = a.results.if_contains("model_fingerprint");
  const auto* fingerprint_b = b.results.if_contains("model_fingerprint");
  if (fingerprint_a && fingerprint_b && *fingerprint_a == *fingerprint_b) {
    out.same_model = true;
    out.notes.push_back("both runs have the same model fingerprint: the differences come from settings or sampling, not the model");
  }
  return out;
}

boost::json::object comparison_json(const run_comparison& comparison, const run_for_comparison& a, const run_for_comparison& b) {
  json::object o;
  auto model_name = [](const run_for_comparison& r) -> json::value {
    if (const auto* n = r.results.if_contains("model_name")) return *n;
    return nullptr;
  };
  o["model_a"] = model_name(a);
  o["model_b"] = model_name(b);
  o["same_model"] = comparison.same_model;
  json::array tasks, groups, notes;
  for (const auto& d : comparison.tasks) tasks.push_back(difference_json(d, "task"));
  for (const auto& d : comparison.groups) groups.push_back(difference_json(d, "group"));
  for (const auto& n : comparison.notes) notes.push_back(json::value(n));
  o["tasks"] = std::move(tasks);
  o["groups"] = std::move(groups);
  o["notes"] = std::move(notes);
  return o;
}

}  // namespace huashan::harness::eval
