// The determinism record: a few documents of every task are asked again,
// fresh (never from the cache), once one request per backend call and once in
// batches of the run's batch size, and the answers compared. A backend whose
// answers depend on what else is in the batch (padding, batched kernels that
// reduce in another order, a server that mixes requests) shows up here before
// anyone compares two runs' scores.
//
// Every field merges exactly (sums, maxima, ORs), so the arena adds up the
// records its workers send for their shards.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <vector>

#include "harness/eval/task.hpp"
#include "harness/model_backend.hpp"

namespace huashan::harness::eval {

struct determinism_record {
  std::int64_t documents = 0;         // documents re-asked
  std::int64_t requests = 0;          // their requests (each asked twice)
  std::int64_t batch_size = 0;        // the batched pass's requests per call
  double max_abs_logprob_diff = 0.0;  // over loglikelihood and rolling answers
  std::int64_t predictions_changed = 0;  // documents whose prediction differs
  bool prediction_changed = false;

  bool operator==(const determinism_record&) const = default;
};

determinism_record merge(const determinism_record& a, const determinism_record& b);
boost::json::object to_json(const determinism_record& r);
// input_error naming the field for a missing or mistyped one.
determinism_record determinism_from_json(const boost::json::value& v);

// At most this many documents per task and in all (about 64 requests for
// four-choice questions): enough to catch a batch-dependent backend, cheap
// next to the run.
inline constexpr std::int64_t determinism_docs_per_task = 8;
inline constexpr std::int64_t determinism_docs_total = 16;

// Which positions of each task (of `task_sizes[i]` documents, the whole
// task's, not a shard's) are re-asked: spread over the task, seeded, and over
// the tasks when there are more than determinism_docs_total of them.
std::vector<std::vector<std::int64_t>> determinism_positions(const std::vector<std::int64_t>& task_sizes,
                                                             const std::vector<std::string>& task_names,
                                                             std::uint64_t seed);

// One sampled document and how its prediction is read.
struct determinism_case {
  output_type kind = output_type::multiple_choice;
  const prepared_doc* doc = nullptr;
};

// Asks every case's requests at batch 1 and in batches of `batch_size` (in
// the order run_eval sends requests) and compares. Backend errors as thrown.
determinism_record measure_determinism(model_backend& model, const std::vector<determinism_case>& cases,
                                       std::int64_t batch_size);

}  // namespace huashan::harness::eval
