// The contamination hint: how likely the model finds a task's test questions
// compared with questions of the same task it was never scored on (the
// few-shot split) and with ordinary text in the same language (the project's
// control passages, benchmarks/control). A model trained on the test set
// predicts its questions markedly better than their siblings. It is a hint,
// reported next to the scores; it never stops a run.
//
// Each part is kept as sums, so the arena adds up its workers' records: every
// shard scores the sampled test questions in its own range, and only the shard
// that starts at document 0 scores the few-shot questions and the control.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/eval/suite_config.hpp"
#include "harness/eval/task.hpp"
#include "harness/model_backend.hpp"

namespace huashan::harness::eval {

// Log-likelihood of some texts. The sum is kept in units of 2^-24 nats:
// integer sums are associative, so shards add up to exactly the whole run's
// whatever the order (sums of doubles differ in their last bits), and the
// unit is far below any difference the hint looks at.
struct likelihood_total {
  std::int64_t logprob_units = 0;
  std::int64_t tokens = 0;
  std::int64_t documents = 0;

  void add(double logprob, std::int64_t n_tokens);  // one text
  double logprob_sum() const;
  std::optional<double> mean_per_token() const;  // none without tokens
  bool operator==(const likelihood_total&) const = default;
};

struct contamination_record {
  likelihood_total test;     // (a) sampled test questions, without few-shot context
  likelihood_total fewshot;  // (b) sampled few-shot split questions (empty: no few-shot split)
  likelihood_total control;  // (c) the control passages
  std::string control_language;  // "zh" | "en"; "" where this shard did not score the control

  // Never without few-shot questions: the control alone differs from the
  // questions in format and topic as much as in familiarity.
  bool flagged() const;
  bool operator==(const contamination_record&) const = default;
};

// Nats per token the test questions must beat both references by (see
// docs/eval.md, "Contamination hint").
inline constexpr double contamination_margin = 0.5;
// Questions sampled per split and task.
inline constexpr std::int64_t contamination_sample_size = 100;

contamination_record merge(const contamination_record& a, const contamination_record& b);
boost::json::object to_json(const contamination_record& r);
// input_error naming the field for a missing or mistyped one.
contamination_record contamination_from_json(const boost::json::value& v);

// The control passages of each language (files zh.txt and en.txt in `dir`,
// passages separated by blank lines). input_error naming a missing or empty file.
struct control_passages {
  std::vector<std::string> zh, en;
};
control_passages load_control_passages(const std::filesystem::path& dir);

// "zh" when CJK ideographs make up at least 30% of the letters and
// ideographs in `text`, else "en".
std::string text_language(std::string_view text);

struct contamination_inputs {
  const task_config* task = nullptr;
  const std::vector<document>* test_docs = nullptr;     // the whole test split
  const std::vector<document>* fewshot_docs = nullptr;  // null: the task has no few-shot split of its own
  std::int64_t test_count = 0;   // documents the run evaluates (limit applied), whole task
  std::int64_t range_first = 0;  // this shard's positions [first, last)
  std::int64_t range_last = 0;
  std::uint64_t seed = 0;
};

// Scores the parts this shard owns. input_error when a sampled question
// cannot be rendered; backend errors as thrown.
contamination_record measure_contamination(model_backend& model, const contamination_inputs& in,
                                           const control_passages& control, std::int64_t batch_size);

}  // namespace huashan::harness::eval
