#include <fmt/format.h>

#include <cstdio>
#include <fstream>

#include "arena/service/snapshot_compute.hpp"
#include "arena/service/snapshot_recompute.hpp"
#include "arena/store/leaderboard_store.hpp"
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

int run_db_export_battles(const global_options& global, const db_export_options& options) {
  const arena::store::leaderboard_store store(require_database_url(global), 1);
  const auto csv = arena::export_battles_csv(store);
  if (!options.output) {
    std::fwrite(csv.data(), 1, csv.size(), stdout);
    std::fflush(stdout);
    return 0;
  }
  std::ofstream out(*options.output, std::ios::binary | std::ios::trunc);
  out.write(csv.data(), static_cast<std::streamsize>(csv.size()));
  out.close();
  if (!out) throw io_error(fmt::format("{}: cannot write the battles export", *options.output));
  return 0;
}

int run_db_recompute_snapshot(const global_options& global, std::int64_t snapshot_id) {
  const arena::store::leaderboard_store store(require_database_url(global), 1);
  const auto check = arena::recompute_snapshot(store, snapshot_id);
  if (check.identical) {
    fmt::print("snapshot {}: identical (recomputed from {} votes as of vote event {})\n", check.id,
               check.recomputed_votes, check.last_vote_event);
    return 0;
  }
  fmt::print("snapshot {}: different (as of vote event {}; {} votes stored, {} recomputed)\n  {}\n", check.id,
             check.last_vote_event, check.stored_votes, check.recomputed_votes, check.difference);
  if (check.stored_votes != check.recomputed_votes)
    fmt::print("  a vote that drew its event before this snapshot and committed after it is counted by the "
               "recompute but was not by the snapshot: such a snapshot is not reproducible\n");
  return 1;
}

}  // namespace huashan::cli
