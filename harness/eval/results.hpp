// A finished eval as files other tools read: results.json in lm-evaluation-
// harness's shape (results.{task}."acc,none", "acc_stderr,none", groups,
// configs, versions, n-shot, higher_is_better, n-samples, config, date) plus
// the model's fingerprint and each task's prompt hash; samples_{task}.jsonl
// in its --log_samples shape; and its markdown table.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "harness/eval/runner.hpp"

namespace huashan::harness::eval {

// What the results' "config" records about how the run was made.
struct run_settings {
  std::string model;         // what --model said
  std::string model_args;    // e.g. "base_url=...,model=..." for remote models; "" for local
  std::string batch_size;    // "auto" or N
  std::optional<std::int64_t> limit;
  std::optional<std::int32_t> num_fewshot;
  std::optional<std::uint64_t> seed;
  std::int32_t bootstrap_iters = 1000;
  bool circular = false;  // --circular
  std::string engine_version;
  double date = 0.0;  // unix seconds when the run started
};

boost::json::object results_json(const eval_outcome& outcome, const run_settings& settings);
// results.json's text as written: Python's json.dumps with indent 2 (NaN and
// Infinity as Python writes them) and a final newline.
std::string results_text(const eval_outcome& outcome, const run_settings& settings);
// One line per document and filter.
std::string samples_jsonl(const task_outcome& task);
// lm-evaluation-harness's table: Tasks | Version | Filter | n-shot | Metric | | Value | | Stderr.
std::string markdown_table(const eval_outcome& outcome);

// Writes DIR/results.json and DIR/samples_{task}.jsonl (each written to a
// temporary name, then renamed). io_error naming the path.
void write_results(const std::filesystem::path& dir, const eval_outcome& outcome, const run_settings& settings);

}  // namespace huashan::harness::eval
