// Operations routes: /livez (no dependencies), /readyz (database reachable,
// migrations current) and /metrics.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>

#include "arena/http/server.hpp"
#include "arena/service/metrics.hpp"

namespace huashan::arena::http {

// What /readyz reports about the models: how many are loaded and offered, and
// how many of those are enabled (battles need two).
struct model_readiness {
  std::size_t offered = 0;
  std::size_t enabled = 0;
};

// Adds GET /livez and GET /readyz. Without a database URL, /readyz answers 503
// and says that no database is configured. `models` (optional) reports the
// models: the server listens only after loading them, so they are loaded by
// the time it answers; fewer than two enabled is reported, not a 503 (the
// OpenAI-compatible routes still serve).
void add_health_routes(router& routes, std::optional<std::string> database_url,
                       std::function<model_readiness()> models = {});
// Adds GET /metrics (Prometheus text format) serving `metrics`, which must outlive the router.
void add_metrics_route(router& routes, const arena_metrics& metrics);

}  // namespace huashan::arena::http
