// Eval routes: the queue workers take shards from and the results people read.
//   POST /api/eval-runs                      (admin key) queue models x suites in shards
//   GET  /api/eval-runs/{id}                 a run's state and progress
//   POST /api/eval-shards/claim              (key) lease the next free shard; 204 when none
//   POST /api/eval-shards/{id}/heartbeat     (key) extend the lease
//   POST /api/eval-shards/{id}/items         (key) answers per document
//   POST /api/eval-shards/{id}/complete      (key) the shard is answered; the run finishes with its last shard
//   POST /api/evals                          (admin key) publish a finished `huashan eval` run
//   GET  /api/evals                          models x suites: metric, stderr, n, fingerprint, run, date
//   GET  /api/evals.csv                      the same as CSV
//   GET  /api/evals/compare?a=&b=            paired comparison of two finished runs
//   GET  /api/evals/{id}                     a finished run's results.json
//   GET  /api/evals/{id}/samples?task=       its samples (JSONL)
// Bodies are JSON objects; errors are problem+json naming the field.
#pragma once

#include <optional>
#include <string>

#include "arena/http/server.hpp"
#include "arena/service/eval_service.hpp"

namespace huashan::arena::http {

// Adds the routes above; `evals` must outlive the router. Keys are checked
// against the database at `database_url` (none: every keyed route is 401).
void add_eval_routes(router& routes, eval_service& evals, std::optional<std::string> database_url);

}  // namespace huashan::arena::http
