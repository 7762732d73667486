// /livez and /readyz: liveness (no dependencies) and readiness (database
// reachable, migrations current).
#pragma once

#include <optional>
#include <string>

#include "arena/http/server.hpp"

namespace huashan::arena::http {

// Adds GET /livez and GET /readyz. Without a database URL, /readyz answers 503
// and says that no database is configured.
void add_health_routes(router& routes, std::optional<std::string> database_url);

}  // namespace huashan::arena::http
