#include "arena/http/routes_health.hpp"

#include <boost/json.hpp>

#include "arena/service/readiness.hpp"
#include "common/build_info.hpp"

namespace huashan::arena::http {

void add_health_routes(router& routes, std::optional<std::string> database_url,
                       std::function<model_readiness()> models) {
  routes.add("GET", "/livez", [](const request&) {
    response r;
    r.body = boost::json::serialize(boost::json::object{{"status", "ok"}, {"version", build_info::version}});
    return r;
  }, handler_mode::never_blocks);
  routes.add("GET", "/readyz", [url = std::move(database_url), models = std::move(models)](const request&) {
    boost::json::object database;
    bool ready = false;
    if (!url) {
      database = {{"reachable", false}, {"error", "no database configured (set DATABASE_URL or --database-url)"}};
    } else {
      const auto health = database_readiness(*url);
      database = {{"reachable", health.reachable},
                  {"server_version", health.server_version},
                  {"migrations_applied", health.applied_migrations},
                  {"migrations_known", health.known_migrations},
                  {"migrations_current", health.migrations_current}};
      if (!health.error.empty()) database["error"] = health.error;
      ready = health.reachable && health.migrations_current;
    }
    boost::json::object body{{"status", ready ? "ready" : "not ready"}, {"database", std::move(database)}};
    if (models) {
      const auto m = models();
      boost::json::object section{{"loaded", true}, {"offered", m.offered}, {"enabled", m.enabled}};
      if (m.enabled < 2) section["warning"] = "battles need two enabled models";
      body["models"] = std::move(section);
    }
    response r;
    r.status = ready ? 200 : 503;
    r.headers.emplace_back("Cache-Control", "no-store");
    r.body = boost::json::serialize(body);
    return r;
  });
}

void add_metrics_route(router& routes, const arena_metrics& metrics) {
  routes.add("GET", "/metrics", [&metrics](const request&) {
    response r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = metrics.render();
    return r;
  }, handler_mode::never_blocks);
}

}  // namespace huashan::arena::http
