// `huashan eval --publish URL --key K`: sends a finished run's results.json
// (its exact text) and samples to an arena, which stores them once however
// often they are sent.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "harness/eval/runner.hpp"

namespace huashan::harness::eval {

struct published_run {
  std::int64_t id = 0;
  bool created = false;  // false: the arena had it already
  std::string results_url;
};

// `results_text` is results.json's text; `model` the name the arena lists.
// backend_error naming the arena and its answer when it refuses.
published_run publish_run(const std::string& arena_url, const std::optional<std::string>& key, const std::string& model,
                          const std::string& results_text, const eval_outcome& outcome);

}  // namespace huashan::harness::eval
