#include <fmt/format.h>

#include "arena/store/migrations.hpp"
#include "cli/commands.hpp"
#include "common/config.hpp"
#include "common/error.hpp"

namespace huashan::cli {
namespace {

std::vector<arena::store::migration> chosen_migrations(const db_options& options) {
  if (options.migrations_dir) return arena::store::load_migrations(*options.migrations_dir);
  return arena::store::embedded_migrations();
}

}  // namespace

std::string require_database_url(const global_options& global) {
  if (!global.database_url)
    throw config_error("no database configured: set DATABASE_URL or pass --database-url (./dev db start prints one)");
  return *global.database_url;
}

int run_db_migrate(const global_options& global, const db_options& options) {
  const auto url = require_database_url(global);
  const auto migrations = chosen_migrations(options);
  const auto applied = arena::store::migrate(url, migrations);
  if (applied.empty())
    fmt::print("database is current: {} migrations applied, nothing to do\n", migrations.size());
  else
    fmt::print("applied {} migration(s); database is current at version {}\n", applied.size(), applied.back());
  return 0;
}

int run_db_status(const global_options& global, const db_options& options) {
  const auto url = require_database_url(global);
  const auto status = arena::store::migration_status(url, chosen_migrations(options));
  bool current = true;
  for (const auto& entry : status) {
    fmt::print("{:04}  {:<32} {}{}\n", entry.version, entry.name, arena::store::state_name(entry.state),
               entry.applied_at.empty() ? "" : "  " + entry.applied_at);
    if (entry.state != arena::store::migration_state::applied) current = false;
  }
  fmt::print("{}\n", current ? "database is current" : "database is NOT current");
  return current ? 0 : 1;
}

}  // namespace huashan::cli
