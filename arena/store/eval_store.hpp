// Eval runs in PostgreSQL: the queue of shards workers lease (FOR UPDATE SKIP
// LOCKED, with an expiring lease), the answers they return per item (stored
// once; a different second answer is refused), finished and published runs
// with their results, samples and metrics, and model fingerprints. Plain
// structs in and out; libpqxx stays inside store/.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace huashan::arena::store {

struct fingerprint_value {
  std::string digest;  // sha256 of kind and fields
  std::string kind;
  std::string fields_json;
};

struct eval_run_record {
  std::int64_t id = 0;
  std::string model;
  std::string suites_json;    // JSON array
  std::string settings_json;  // JSON object (the run spec)
  std::string source;         // queue | published
  std::string state;          // queued | running | done | failed
  std::optional<fingerprint_value> fingerprint;
  std::optional<std::string> results;  // results.json text once done
  std::optional<std::string> failure;
  std::string created_at;              // ISO 8601 UTC
  double created_unix = 0.0;
  std::optional<std::string> finished_at;
};

struct new_shard {
  std::string task;
  std::int32_t doc_begin = 0;
  std::int32_t doc_end = 0;
};

struct shard_lease {
  std::int64_t shard_id = 0;
  std::int64_t run_id = 0;
  std::string model;
  std::string task;
  std::int32_t doc_begin = 0;
  std::int32_t doc_end = 0;
  std::string settings_json;
  std::string lease_token;
  std::int32_t attempts = 0;
};

struct shard_counts {
  std::int64_t queued = 0, leased = 0, done = 0, failed = 0;
  std::int64_t items_expected = 0;  // documents over all shards
  std::int64_t items_stored = 0;
};

struct item_answer {
  std::string task;
  std::int32_t doc_id = 0;
  std::string answer;         // canonical JSON
  std::string answer_sha256;
};

struct stored_item {
  std::string task;
  std::int32_t doc_id = 0;
  std::string answer;
};

struct eval_metric_row {
  std::string task;  // or group
  bool is_group = false;
  std::string metric;
  std::string filter;
  std::optional<double> value;
  std::optional<double> stderr_value;
  std::int64_t n = 0;
  bool higher_is_better = true;
};

// What a finished run stores: its results.json, per-task samples and metrics.
struct finished_run {
  std::string results;
  std::vector<std::pair<std::string, std::string>> samples;  // task -> JSONL
  std::vector<eval_metric_row> metrics;
  std::optional<fingerprint_value> fingerprint;
};

struct eval_table_row {
  std::int64_t run_id = 0;
  std::string model;
  eval_metric_row metric;
  std::optional<std::string> fingerprint_digest;
  std::string finished_at;
  std::string arena_models;  // arena models of the same fingerprint, comma-separated ("" when none)
};

class eval_store {
 public:
  eval_store(std::string url, std::size_t pool_size);
  ~eval_store();
  eval_store(const eval_store&) = delete;
  eval_store& operator=(const eval_store&) = delete;

  // A queued run of `model` and its shards, in one transaction; its id.
  std::int64_t create_queued_run(const std::string& model, const std::string& suites_json,
                                 const std::string& settings_json, const std::vector<new_shard>& shards);

  // Leases the oldest shard that is queued or whose lease expired, of a run
  // whose model is in `models` (empty: any), to `worker` for `lease`. A shard
  // whose lease expired after `max_attempts` leases is failed instead (and
  // its run with it). nullopt when no shard is free.
  std::optional<shard_lease> claim_shard(const std::string& worker, const std::vector<std::string>& models,
                                         std::chrono::milliseconds lease, std::int32_t max_attempts);
  // Extends the lease held with `token`. not_found_error for an unknown
  // shard; conflict_error when the token no longer holds it.
  void extend_lease(std::int64_t shard_id, const std::string& token, std::chrono::milliseconds lease);
  // The shard's lease facts (for validating a worker's items), whoever holds it;
  // not_found_error when unknown.
  shard_lease shard(std::int64_t shard_id);

  struct items_stored {
    std::int64_t stored = 0;     // new rows
    std::int64_t unchanged = 0;  // equal to a stored answer
  };
  // Stores the items in one transaction while `token` holds the shard, and
  // the run's fingerprint (the first one stays; a different one is refused).
  // conflict_error (nothing stored) when the lease is lost, an item already
  // has a different answer (naming task and document), or the fingerprint
  // differs; not_found_error for an unknown shard.
  items_stored store_items(std::int64_t shard_id, const std::string& token, const fingerprint_value& fingerprint,
                           const std::vector<item_answer>& items);

  struct shard_completion {
    std::int64_t run_id = 0;
    bool run_ready = false;  // every shard of the run is done: aggregate it
  };
  // Marks the shard done with the worker's records once every item in its
  // range is stored; repeating it is harmless. conflict_error when the lease
  // is lost or items are missing (saying how many); not_found_error.
  shard_completion complete_shard(std::int64_t shard_id, const std::string& token, const std::string& records_json);

  std::optional<eval_run_record> run(std::int64_t run_id);
  shard_counts counts(std::int64_t run_id);
  // Every stored item of the run, ordered by task and document.
  std::vector<stored_item> items(std::int64_t run_id);
  // The records of the run's done shards, ordered by task and first document.
  std::vector<std::pair<std::string, std::string>> shard_records(std::int64_t run_id);
  // Stores the finished run (once: false when it was already done).
  bool finish_run(std::int64_t run_id, const finished_run& finished);
  // Marks a run failed with `why` (a run that cannot be aggregated).
  void fail_run(std::int64_t run_id, const std::string& why);

  struct published {
    std::int64_t run_id = 0;
    bool created = false;  // false: the same content was published before
  };
  published publish_run(const std::string& model, const std::string& suites_json, const std::string& settings_json,
                        const std::string& content_sha256, const finished_run& finished);

  // The latest finished run's row per model, task, metric and filter.
  std::vector<eval_table_row> latest_metrics();
  // The run's samples JSONL per task (ordered by task), or only `task`'s.
  std::vector<std::pair<std::string, std::string>> samples(std::int64_t run_id, const std::optional<std::string>& task);

  // The fingerprint tied to arena model `model_name`; nullopt when none is.
  std::optional<fingerprint_value> model_fingerprint(const std::string& model_name);
  // Records `fingerprint` and ties it to the arena model `model_name`.
  void link_model_fingerprint(const std::string& model_name, const fingerprint_value& fingerprint);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace huashan::arena::store
