#include <fmt/format.h>

#include "arena/http/routes_health.hpp"
#include "arena/http/server.hpp"
#include "arena/metrics.hpp"
#include "arena/store/migrations.hpp"
#include "cli/commands.hpp"
#include "common/config.hpp"
#include "common/log.hpp"

namespace huashan::cli {

int run_serve(const global_options& global, const serve_options& options) {
  if (options.migrate) arena::store::migrate(require_database_url(global), arena::store::embedded_migrations());
  if (!global.database_url) log::warn("no database configured: /readyz will answer 503 until DATABASE_URL is set");

  arena::arena_metrics metrics;
  arena::http::router routes;
  arena::http::add_health_routes(routes, global.database_url);
  arena::http::add_metrics_route(routes, metrics);

  arena::http::server_options server_opts;
  server_opts.host = options.host;
  server_opts.port = options.port;
  server_opts.threads = options.threads;
  server_opts.on_response = [&metrics](const arena::http::request& req, const std::string& route, int status,
                                       double seconds) {
    metrics.observe_request(req.method, route, status, seconds);
    // The access log: one structured line per request.
    log::info("access method={} path={} route={} status={} ms={:.1f} peer={}", req.method, req.path, route, status,
              seconds * 1000.0, req.remote_address);
  };
  arena::http::server server(server_opts, std::move(routes));
  server.listen();
  log::info("huashan serving on http://{}:{} (database {})", options.host, server.port(),
            global.database_url ? config::redact_url(*global.database_url) : "not configured");
  server.run();
  return 0;
}

}  // namespace huashan::cli
