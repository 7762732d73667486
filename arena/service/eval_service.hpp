// Evaluations as a service, without HTTP: queues runs (models x suites, in
// shards of documents), hands shards to workers under leases, checks and
// stores the answers they return, aggregates a run whose shards are all done
// with the same code as `huashan eval` (so the numbers are the same), takes
// whole runs published by `huashan eval --publish`, and serves the results.
// Requests and answers are JSON objects (the worker protocol's shapes);
// errors are input_error (400), not_found_error (404) and conflict_error (409)
// naming what is wrong; nothing stored changes when a request is refused.
#pragma once

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "arena/store/eval_store.hpp"

namespace huashan::arena {

struct eval_service_options {
  std::vector<std::filesystem::path> suites_dirs;  // where suite names are found
  std::filesystem::path data_dir;                  // the suites' datasets
  std::chrono::milliseconds lease{60'000};         // a shard's lease; workers heartbeat well within it
  std::int32_t max_attempts = 5;                   // leases of one shard before it (and its run) fails
  std::int32_t shard_size = 100;                   // documents per shard unless the request says
  std::int64_t max_items_per_request = 10'000;
};

class eval_service {
 public:
  eval_service(store::eval_store& store, eval_service_options options);
  ~eval_service();

  // POST /api/eval-runs: {"models": [...], "suites": [...], "shard_size": n,
  // run spec fields} -> {"runs": [{"id", "model", "shards", "items"}]}.
  boost::json::object queue_runs(const boost::json::object& request);
  // POST /api/eval-shards/claim: {"worker": name, "models": [...]} -> the
  // shard leased, or nullopt when none is free.
  std::optional<boost::json::object> claim(const boost::json::object& request);
  // POST /api/eval-shards/{id}/heartbeat: {"lease": token}.
  boost::json::object heartbeat(std::int64_t shard_id, const boost::json::object& request);
  // POST /api/eval-shards/{id}/items: {"lease", "fingerprint": {"kind", ...},
  // "items": [{"task", "doc_id", "answers": [...]}]} -> {"stored", "unchanged"}.
  boost::json::object post_items(std::int64_t shard_id, const boost::json::object& request);
  // POST /api/eval-shards/{id}/complete: {"lease", "records": {...}} ->
  // {"shard", "run", "run_state"}; the last shard's answer is the run's whole status.
  boost::json::object complete(std::int64_t shard_id, const boost::json::object& request);

  // GET /api/eval-runs/{id}: state, shard and item counts, failure.
  boost::json::object run_status(std::int64_t run_id);
  // GET /api/evals/{id}: the finished run's results.json text. not_found_error
  // for an unknown run, conflict_error for one not finished.
  std::string results(std::int64_t run_id);
  // GET /api/evals/{id}/samples[?task=]: samples JSONL.
  std::string samples(std::int64_t run_id, const std::optional<std::string>& task);
  // POST /api/evals: {"model", "results_json": text, "samples": {task: jsonl}}
  // -> {"id", "created"}; the same content twice is stored once.
  boost::json::object publish(const boost::json::object& request);
  // GET /api/evals/compare?a=&b=: huashan eval compare on two finished runs.
  boost::json::object compare(std::int64_t run_a, std::int64_t run_b);
  // GET /api/evals and /api/evals.csv: the latest finished run's numbers per
  // model, task (or group), metric and filter.
  boost::json::object table();
  // The same rows, typed (the pages).
  std::vector<store::eval_table_row> table_rows();
  // The fingerprint recorded for an arena model (local models); nullopt when none.
  std::optional<store::fingerprint_value> model_fingerprint(const std::string& model_name);
  std::string table_csv();

 private:
  struct prepared_run;
  std::shared_ptr<const prepared_run> prepared(std::int64_t run_id, const std::string& settings_json);
  // Aggregates a run whose shards are all done and stores its results (once).
  void finish(std::int64_t run_id);

  store::eval_store& store_;
  eval_service_options options_;
  std::mutex mutex_;
  std::map<std::int64_t, std::shared_ptr<const prepared_run>> prepared_;  // a few recent runs
};

}  // namespace huashan::arena
