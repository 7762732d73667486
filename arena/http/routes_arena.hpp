// The arena's JSON API: battles (start, follow as server-sent events, more
// turns, vote), the public model list and admin model management. Handlers
// are thin: they parse and validate JSON, manage the session cookie, check the
// admin key and map errors to statuses; battle_service and model_admin do the
// work.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "arena/domain/session_token.hpp"
#include "arena/http/server.hpp"
#include "arena/service/battle_service.hpp"
#include "arena/service/model_admin.hpp"

namespace huashan::arena::http {

struct arena_routes_options {
  session_secret secret{};
  std::chrono::hours session_max_age{24 * 30};
  bool secure_cookie = false;              // add "Secure" (behind https)
  std::optional<std::string> database_url;  // for admin key checks
  // Origins whose pages may start battles and vote; empty: this server's own,
  // as the Host header names it (origin.hpp).
  std::vector<std::string> allowed_origins;
};

// Adds /api/battles..., /api/models and /api/admin/models... to `routes`.
// `battles` and `admin` must outlive the router.
void add_arena_routes(router& routes, battle_service& battles, model_admin& admin, arena_routes_options options);

// Maps an exception from the domain to a problem+json response (400 input,
// 404 not found, 409 conflict, 429 rate limited with Retry-After, 503
// database, 500 otherwise: without internal details).
response problem_from_exception(const std::exception& e);

}  // namespace huashan::arena::http
