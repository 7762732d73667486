// Operations routes: /livez (no dependencies), /readyz (database reachable,
// migrations current) and /metrics.
#pragma once

#include <optional>
#include <string>

#include "arena/http/server.hpp"
#include "arena/metrics.hpp"

namespace huashan::arena::http {

// Adds GET /livez and GET /readyz. Without a database URL, /readyz answers 503
// and says that no database is configured.
void add_health_routes(router& routes, std::optional<std::string> database_url);
// Adds GET /metrics (Prometheus text format) serving `metrics`, which must outlive the router.
void add_metrics_route(router& routes, const arena_metrics& metrics);

}  // namespace huashan::arena::http
