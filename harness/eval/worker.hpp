// `huashan worker`: takes eval shards from an arena over HTTP (it needs no
// database credentials), runs each with the same runner as `huashan eval`
// (the run's suites and settings, only the shard's documents), posts the
// answers per document while heartbeats keep its lease, and completes the
// shard. A shard whose lease was lost (the worker stalled past it and another
// took it) is dropped; the arena keeps the first answers for every item.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harness/model_backend.hpp"

namespace huashan::harness::eval {

struct worker_options {
  std::string arena_url;              // http(s)://host:port
  std::optional<std::string> key;     // an API key of the arena
  std::string name;                   // shown in the arena's leases and logs
  std::vector<std::string> models;    // the models this worker runs (it claims only their shards)
  // Opens a model by the name a run gives; input_error when it cannot.
  std::function<std::unique_ptr<model_backend>(const std::string& model)> open_model;
  std::vector<std::filesystem::path> suites_dirs;
  std::filesystem::path data_dir;
  std::filesystem::path control_dir;  // the contamination hint's control passages
  std::chrono::milliseconds idle_poll{2000};  // between claims while the queue is empty
  bool exit_when_idle = false;                // stop at the first empty claim
  std::optional<std::int64_t> max_shards;     // stop after this many
  std::int32_t items_per_post = 256;
};

struct worker_stats {
  std::int64_t shards_done = 0;
  std::int64_t shards_lost = 0;  // lease lost before completion
  std::int64_t items_posted = 0;
};

// Runs until the queue is empty (exit_when_idle), max_shards, or `stop` is
// set. Errors that stop the worker: input_error for a suite or model it
// cannot load, backend_error when the arena stays unreachable.
worker_stats run_worker(const worker_options& options, const std::atomic<bool>& stop);

}  // namespace huashan::harness::eval
