// Entry point: parses flags and HUASHAN_* variables with CLI11 and calls the
// subcommand. Errors the project throws on purpose print as one line.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>

#include "cli/commands.hpp"
#include "common/build_info.hpp"
#include "common/config.hpp"
#include "common/error.hpp"
#include "common/log.hpp"

int main(int argc, char** argv) {
  using namespace huashan;
  CLI::App app{"huashan: model evaluation and arena leaderboard service", "huashan"};
  app.set_version_flag("--version", fmt::format("huashan {}", build_info::version));
  app.require_subcommand(1);

  cli::global_options global;
  global.database_url = config::database_url_from_env();
  std::string database_url_flag;
  app.add_option("--database-url", database_url_flag,
                 "PostgreSQL URL (default: $DATABASE_URL or $HUASHAN_DATABASE_URL)");
  app.add_option("--log-level", global.log_level, "trace|debug|info|warn|error|off")
      ->envname("HUASHAN_LOG_LEVEL")
      ->capture_default_str();

  auto* doctor = app.add_subcommand("doctor", "Show build options, CPU features, CUDA devices and database reachability");

  auto* db = app.add_subcommand("db", "Database schema");
  db->require_subcommand(1);
  cli::db_options db_opts;
  std::string migrations_dir;
  db->add_option("--migrations-dir", migrations_dir, "Read migrations from this folder instead of the built-in ones")
      ->envname("HUASHAN_MIGRATIONS_DIR");
  auto* db_migrate = db->add_subcommand("migrate", "Apply pending migrations (no-op when current)");
  auto* db_status = db->add_subcommand("status", "List migrations and whether each is applied");

  auto* serve = app.add_subcommand("serve", "Serve the arena over HTTP");
  cli::serve_options serve_opts;
  std::string port_text = "8080";
  serve->add_option("--host", serve_opts.host, "Listen address")->envname("HUASHAN_HOST")->capture_default_str();
  serve->add_option("--port", port_text, "Listen port")->envname("HUASHAN_PORT")->capture_default_str();
  serve->add_option("--threads", serve_opts.threads, "HTTP worker threads")
      ->envname("HUASHAN_HTTP_THREADS")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  serve->add_flag("--migrate", serve_opts.migrate, "Apply pending migrations before serving");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  try {
    log::set_level(log::parse_level(global.log_level));
    if (!database_url_flag.empty()) global.database_url = database_url_flag;
    if (!migrations_dir.empty()) db_opts.migrations_dir = migrations_dir;
    if (*doctor) return cli::run_doctor(global);
    if (*db_migrate) return cli::run_db_migrate(global, db_opts);
    if (*db_status) return cli::run_db_status(global, db_opts);
    if (*serve) {
      serve_opts.port = config::parse_port(port_text, "--port");
      return cli::run_serve(global, serve_opts);
    }
  } catch (const huashan::error& e) {
    std::fprintf(stderr, "huashan: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "huashan: unexpected error: %s\n", e.what());
    return 2;
  }
  return 0;
}
