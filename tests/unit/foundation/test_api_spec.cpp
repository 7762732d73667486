// docs/api.yaml must describe every route the server registers (and no route
// the server does not have): the spec is read with yaml-cpp and compared with
// the router built exactly as `huashan serve` builds it.
#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "arena/http/routes_arena.hpp"
#include "arena/http/routes_evals.hpp"
#include "arena/http/routes_health.hpp"
#include "arena/http/routes_leaderboard.hpp"
#include "arena/http/routes_openai.hpp"
#include "arena/http/routes_pages.hpp"
#include "arena/http/routes_static.hpp"
#include "arena/store/arena_store.hpp"
#include "arena/store/eval_store.hpp"

using namespace huashan::arena::http;

TEST_CASE("docs/api.yaml lists exactly the routes the server registers") {
  router routes;
  huashan::arena::arena_metrics metrics;
  add_health_routes(routes, std::nullopt);
  // The /v1 routes do not depend on which models are loaded.
  add_openai_routes(routes, {});
  add_metrics_route(routes, metrics);
  const auto web = web_assets::compiled_in();
  add_static_routes(routes, web);
  // The arena's routes do not depend on the models or the database (the store
  // connects lazily and nothing here sends a request).
  huashan::arena::store::arena_store store({"postgresql:///unused", 1});
  huashan::arena::battle_service battles(store, {}, {}, nullptr);
  huashan::arena::model_admin admin(store, battles);
  add_arena_routes(routes, battles, admin, {});
  // The leaderboard service only connects when started or asked for a snapshot.
  huashan::arena::leaderboard_service boards("postgresql:///unused", {}, nullptr);
  add_leaderboard_routes(routes, boards);
  // The eval routes do not depend on the suites or the database either (the
  // eval store's pool connects on its first query).
  huashan::arena::store::eval_store evals_store("postgresql:///unused", 1);
  huashan::arena::eval_service evals(evals_store, {});
  add_eval_routes(routes, evals, std::nullopt);
  add_page_routes(routes, {web, &boards, &evals, &admin});

  const YAML::Node spec = YAML::LoadFile(HUASHAN_SOURCE_DIR "/docs/api.yaml");
  REQUIRE(spec["openapi"].as<std::string>().rfind("3.1", 0) == 0);
  std::set<std::pair<std::string, std::string>> documented;
  for (const auto& path : spec["paths"]) {
    for (const auto& op : path.second) {
      std::string method = op.first.as<std::string>();
      std::transform(method.begin(), method.end(), method.begin(), [](unsigned char c) { return std::toupper(c); });
      documented.emplace(method, path.first.as<std::string>());
    }
  }
  std::set<std::pair<std::string, std::string>> registered;
  // OpenAPI has no rest-of-path parameter: /models/{name...} is documented as /models/{name}.
  for (auto route : routes.list()) {
    if (const auto rest = route.second.find("...}"); rest != std::string::npos) route.second.erase(rest, 3);
    registered.insert(route);
  }

  for (const auto& route : registered)
    CHECK_MESSAGE(documented.count(route) == 1, route.first << " " << route.second << " is missing from docs/api.yaml");
  for (const auto& route : documented)
    CHECK_MESSAGE(registered.count(route) == 1, route.first << " " << route.second << " is documented but not served");
}
