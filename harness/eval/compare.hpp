// Paired comparison of two eval runs of the same suites: for every task both
// runs hold and every metric whose per-document values are in the samples,
// the two means, their difference with a paired standard error and 95%
// interval, and a p-value (exact McNemar for 0/1 values, a paired t-test
// otherwise). Documents are matched by doc_id, so the variation the two
// models share (hard questions are hard for both) cancels out of the
// difference's error. Works on parsed JSON only; reading files is the caller's.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace huashan::harness::eval {

// One finished run: its results.json and, per task, the objects of
// samples_{task}.jsonl (one per document and filter).
struct run_for_comparison {
  boost::json::object results;
  std::map<std::string, std::vector<boost::json::object>> samples;
};

enum class paired_test { mcnemar, paired_t };

// One metric under one filter of a task, or of a group pooled over its tasks.
struct metric_difference {
  std::string name;    // task or group
  std::string metric;  // e.g. "acc"
  std::string filter;  // e.g. "none"
  std::int64_t n = 0;  // paired documents
  double mean_a = 0.0;
  double mean_b = 0.0;
  double difference = 0.0;  // mean_a - mean_b
  // Unset with fewer than two documents.
  std::optional<double> standard_error;  // sd of per-document differences / sqrt(n)
  std::optional<double> ci_low;          // difference -/+ t(0.975, n-1) * standard_error
  std::optional<double> ci_high;
  std::optional<double> p_value;  // two-sided; null hypothesis: no difference
  paired_test test = paired_test::paired_t;
  // McNemar's discordant pairs: documents only A got right, only B got right.
  std::int64_t only_a = 0;
  std::int64_t only_b = 0;
  std::vector<std::string> tasks;  // a group's member tasks; empty for a task
};

struct run_comparison {
  std::vector<metric_difference> tasks;
  std::vector<metric_difference> groups;
  bool same_model = false;         // equal model_fingerprint on both sides
  std::vector<std::string> notes;  // what was left out and why, same model
};

// Tasks both results hold (their task_prompts keys), sorted: the samples a
// caller must supply. input_error when a results object has no task_prompts.
std::vector<std::string> tasks_in_both(const boost::json::object& results_a, const boost::json::object& results_b);

// Tasks both runs hold, as tasks_in_both, once their prompts were found to be
// the same: a caller can refuse before reading any samples. input_error, as
// compare_runs, for no task in common and for differing prompts.
std::vector<std::string> check_comparable_prompts(const boost::json::object& results_a, const boost::json::object& results_b);

// input_error, naming the task and the reason, when no task is in both runs,
// when a task's prompts differ (shots, suite version, or the prompts' hash),
// when a task's documents differ (doc_id sets or a doc_hash), or when a
// task's samples are missing or malformed.
run_comparison compare_runs(const run_for_comparison& a, const run_for_comparison& b);

// {"tasks": [...], "groups": [...], "same_model", "notes", "model_a", "model_b"};
// non-finite and unset numbers are null.
boost::json::object comparison_json(const run_comparison& comparison, const run_for_comparison& a,
                                    const run_for_comparison& b);

// Exposed for tests: two-sided exact McNemar p-value for `only_a` and `only_b`
// discordant pairs, and the two-sided p-value of Student's t with `df` degrees
// of freedom, and its quantile.
double mcnemar_exact_p(std::int64_t only_a, std::int64_t only_b);
double student_t_two_sided_p(double t, double df);
double student_t_quantile(double probability, double df);

}  // namespace huashan::harness::eval
