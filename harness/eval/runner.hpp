// Runs suites against one model: renders every document's requests, removes
// duplicates, answers what the cache has, sends the rest through the model
// interface longest first in batches (storing each batch's answers before the
// next), then scores documents and aggregates tasks and groups.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "harness/eval/contamination.hpp"
#include "harness/eval/determinism.hpp"
#include "harness/eval/suite_loader.hpp"
#include "harness/eval/task.hpp"
#include "harness/model_backend.hpp"

namespace huashan::harness::eval {

struct eval_options {
  std::optional<std::int32_t> num_fewshot;  // overrides every task's
  std::optional<std::int64_t> limit;        // first N documents per task
  std::int32_t batch_size = 0;              // requests per backend call; 0 = auto
  std::optional<std::uint64_t> seed;        // few-shot sampling (else each task's fewshot_seed), bootstrap, sampled generation (else 1234)
  std::int32_t bootstrap_iters = 1000;      // for non-mean aggregations
  std::filesystem::path data_dir;           // where dataset_path folders are
  std::optional<std::filesystem::path> cache_dir;  // none: no cache
  // Only the prepared documents at positions [first, second) of each task (a
  // shard). Prompts are rendered for the whole task first, so a shard's
  // prompts equal the whole run's (few-shot draws depend on earlier documents).
  std::optional<std::pair<std::int64_t, std::int64_t>> doc_range;
  // CircularEval (circular.hpp): tasks with a circular block asked once per
  // rotation of their options; a group runs its members that have one.
  bool circular = false;
  // Re-ask a few documents at batch 1 and batched (determinism.hpp).
  bool determinism_check = true;
  // Score test, few-shot and control texts (contamination.hpp); control_dir
  // holds the control passages (benchmarks/control).
  bool contamination = false;
  std::filesystem::path control_dir;
};

// How the requests were answered.
struct request_stats {
  std::int64_t total = 0;     // requests of every document
  std::int64_t unique = 0;    // after removing duplicates
  std::int64_t cached = 0;    // unique requests answered from the cache
  std::int64_t computed = 0;  // unique requests the model answered in this run
};

// Called after each batch: unique requests done (cached ones included) of all.
using progress_callback = std::function<void(std::int64_t done, std::int64_t total)>;

struct task_outcome {
  task_config config;
  prepared_task prepared;
  std::vector<doc_scores> scores;  // per prepared doc
  std::vector<metric_summary> metrics;
};

struct group_outcome {
  group_config config;
  std::vector<metric_summary> metrics;
  std::int64_t n = 0;  // documents over every member task
};

struct eval_outcome {
  model_fingerprint fingerprint;
  std::string model_description;
  std::vector<task_outcome> tasks;
  std::vector<group_outcome> groups;  // members before the groups that hold them
  request_stats stats;
  double seconds = 0.0;
  std::optional<determinism_record> determinism;  // none when the check was off
  std::map<std::string, contamination_record> contamination;  // task -> hint; empty unless asked for
};

// Errors: input_error from loading documents and rendering prompts (before
// the model is asked anything), capability_error when the backend cannot
// answer a request kind, backend errors as thrown. Answers stored before an
// error stay in the cache.
eval_outcome run_eval(model_backend& model, const suite_selection& suites, const eval_options& options,
                      const progress_callback& progress = {});

// The steps of run_eval, for the arena (which prepares and aggregates but
// never asks a model) and for workers (which answer one shard):
// Renders every task's documents and requests (doc_range applied), with the
// seeds of sampled generations fixed. input_error as run_eval.
std::vector<task_outcome> prepare_tasks(const suite_selection& suites, const eval_options& options);
// Fills each task's metrics from its scores, then the groups'. `out.tasks`
// must hold every member the groups name. input_error for a bad group.
void aggregate_outcome(eval_outcome& out, const suite_selection& suites, const eval_options& options);

// The order run_eval sends requests in: kinds apart (scoring first), longest
// context first (a context too long for the model fails at once), equal
// contexts together (the backend then computes their prefix once).
bool sent_before(const request& a, const request& b);
// Sends `batch` (all of one kind) to the model; answers in the batch's order.
std::vector<response> ask_model(model_backend& model, const std::vector<const request*>& batch);

// Requests per backend call for `batch_size` 0: large enough for the backend
// to batch and share prefixes, small enough that a killed run loses little.
std::int32_t auto_batch_size(std::int64_t unique_requests);

}  // namespace huashan::harness::eval
