// From documents to requests and from responses to metrics, with
// lm-evaluation-harness's conventions: the prompt is description + few-shot
// examples (text, target_delimiter, target; joined and followed by
// fewshot_delimiter) + the document's text; a multiple-choice document asks
// one loglikelihood per choice (target_delimiter + choice); answers pass the
// filter pipelines, then the metrics; a task's metric is aggregated over its
// documents with lm-evaluation-harness's standard errors.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "harness/eval/suite_config.hpp"
#include "harness/model_backend.hpp"

namespace huashan::harness::eval {

using document = boost::json::object;

// One request to the model; exactly one of the three is set, per output_type.
struct request {
  std::variant<loglikelihood_request, rolling_request, generate_until_request> args;
};
// Its answer: loglikelihood_result, rolling_result or the generated text.
using response = std::variant<loglikelihood_result, rolling_result, std::string>;

// One rotation of a circular run's document (circular.hpp): its choices and
// gold, and where its requests start among the document's.
struct circular_rotation {
  std::vector<std::string> choices;
  boost::json::value target;
  std::size_t first_request = 0;
};

struct prepared_doc {
  std::int64_t doc_id = 0;         // index in the test split
  document doc;
  std::string prompt;              // the full context (description + shots + text)
  std::vector<std::string> choices;  // multiple_choice
  boost::json::value target;       // the gold: choice index (int), text, or list of texts
  std::vector<request> requests;   // in order: one per choice, or one; a circular run's rotations one after another
  std::vector<circular_rotation> rotations;  // a circular run's, rotation 0 (the plain order) first; empty otherwise
  std::string doc_hash, prompt_hash, target_hash;  // sha256 hex, as lm-evaluation-harness's samples
  boost::json::object arguments;   // the samples file's "arguments" ({"gen_args_0": {"arg_0": ..., "arg_1": ...}, ...})
};

struct prepare_options {
  std::optional<std::int32_t> num_fewshot;  // overrides the config's
  std::optional<std::int64_t> limit;        // the first N documents of the test split
  std::optional<std::uint64_t> seed;        // overrides the config's fewshot_seed
  // Every document asked once per rotation of its options (the task's
  // circular block); input_error naming the task when it has none.
  bool circular = false;
};

struct prepared_task {
  std::vector<prepared_doc> docs;
  std::int64_t n_original = 0;     // documents in the test split before limit
  std::int32_t num_fewshot = 0;
  std::string prompts_hash;        // sha256 over every request's arguments in order: equal means same prompts
};

// Renders every document's prompt and requests. `fewshot_docs` is the few-shot
// split (empty when there is none: shots then come from the test split
// without the document itself, as lm-evaluation-harness). input_error naming
// the task, the document and the field: a template error, a missing field, a
// target that is not a choice.
prepared_task prepare_task(const task_config& task, const std::vector<document>& test_docs,
                           const std::vector<document>& fewshot_docs, const prepare_options& options);

// One document's answers after the filters and its metric values, per filter.
// A circular document's plain metrics are its rotation 0's, exactly a plain
// run's; acc_circular (and acc_norm_circular when acc_norm is listed) is 1
// when every rotation's best choice is that rotation's gold.
struct doc_scores {
  std::vector<response> resps;                                     // in request order
  std::map<std::string, std::vector<std::string>> filtered_resps;  // filter -> answers (generate_until)
  std::map<std::string, std::map<std::string, double>> values;     // filter -> metric -> value
  // word/byte counts for weighted perplexities: metric -> (logprob, weight)
  std::map<std::string, std::map<std::string, std::pair<double, double>>> weighted;
};
doc_scores score_doc(const task_config& task, const prepared_doc& doc, std::vector<response> responses);

struct metric_summary {
  std::string metric;
  std::string filter;
  double value = 0.0;
  std::optional<double> stderr_value;  // none when n < 2 (lm-evaluation-harness prints "N/A")
  bool higher_is_better = true;
  std::int64_t n = 0;
};
// bootstrap_iters: for aggregations other than mean (perplexity, ...), the
// resamples behind the standard error (0: none); seeded, so repeatable.
std::vector<metric_summary> aggregate(const task_config& task, const std::vector<doc_scores>& docs,
                                      std::int32_t bootstrap_iters, std::uint64_t seed);

// A group's metric from its members' (value, stderr, n): size-weighted or
// plain mean, the standard error pooled as lm-evaluation-harness's.
metric_summary aggregate_group(const group_metric& spec, const std::vector<metric_summary>& members);

}  // namespace huashan::harness::eval
