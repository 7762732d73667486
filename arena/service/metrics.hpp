// The arena's Prometheus metrics (prometheus-cpp inside metrics.cpp only):
// requests by route and status, request latency histogram, votes, battles,
// backend errors by model, leaderboard recompute duration. Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace huashan::arena {

class arena_metrics {
 public:
  arena_metrics();
  ~arena_metrics();
  arena_metrics(const arena_metrics&) = delete;
  arena_metrics& operator=(const arena_metrics&) = delete;

  // One finished request; `route` is the matched route pattern (bounded
  // cardinality), "unmatched" otherwise.
  void observe_request(std::string_view method, std::string_view route, int status, double seconds);
  // A vote answered: recorded now, or a repeat of an earlier one.
  void count_vote(bool recorded_now);
  void count_battle();
  void count_backend_error(std::string_view model);
  void observe_recompute(double seconds);
  // Everything in the Prometheus text exposition format (version 0.0.4).
  std::string render() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace huashan::arena
