// What an eval run is, apart from its model: the suites and the settings that
// change its prompts or numbers. The arena stores it with a queued run and
// hands it to the workers that take the run's shards, so every shard is
// prepared exactly as a single `huashan eval` with these settings would be.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "harness/eval/results.hpp"
#include "harness/eval/runner.hpp"

namespace huashan::harness::eval {

struct run_spec {
  std::vector<std::string> suites;          // task or group names, as --suite
  std::optional<std::int32_t> num_fewshot;
  std::optional<std::int64_t> limit;
  std::optional<std::uint64_t> seed;
  std::int32_t bootstrap_iters = 1000;
  std::int32_t batch_size = 0;              // 0 = auto
  bool circular = false;                    // CircularEval (circular.hpp)
  bool determinism_check = true;            // determinism.hpp
  bool contamination = false;               // contamination.hpp
};

// {"suites": [...], "num_fewshot": n|null, "limit": n|null, "seed": n|null,
//  "bootstrap_iters": n, "batch_size": "auto"|n, "circular": bool,
//  "determinism_check": bool, "contamination": bool}
boost::json::object run_spec_json(const run_spec& spec);
// The spec `o` describes; input_error naming the field that is missing or
// out of range (suites: 1 to 64 names of at most 200 bytes).
run_spec run_spec_from_json(const boost::json::object& o);
// The runner's options for the spec (no cache: the arena stores answers);
// `control_dir` holds the contamination hint's control passages.
eval_options eval_options_for(const run_spec& spec, const std::filesystem::path& data_dir,
                              const std::filesystem::path& control_dir = {});

// The records a shard's worker sends with it ({"determinism": ..., "contamination": {task: ...}})
// and the run's, merged from its shards' (input_error naming a bad record).
boost::json::object shard_records_json(const eval_outcome& shard);
void merge_shard_records(eval_outcome& run, const boost::json::object& records);
// What results.json's "config" records for the spec run on `model`.
run_settings run_settings_for(const run_spec& spec, const std::string& model);

}  // namespace huashan::harness::eval
