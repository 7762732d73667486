#include "arena/store/database.hpp"

#include "arena/store/migrations.hpp"
#include "arena/store/pg.hpp"
#include "common/error.hpp"

namespace huashan::arena::store {

database_health check_database(const std::string& url) {
  database_health health;
  try {
    auto conn = open_connection(url);
    pqxx::nontransaction tx(*conn);
    health.server_version = tx.exec1("SHOW server_version")[0].as<std::string>();
    health.reachable = true;
  } catch (const std::exception& e) {
    health.error = first_line(e.what());
    return health;
  }
  try {
    const auto status = migration_status(url, embedded_migrations());
    health.known_migrations = static_cast<int>(status.size());
    bool current = true;
    for (const auto& entry : status) {
      if (entry.state == migration_state::applied) ++health.applied_migrations;
      else current = false;
    }
    health.migrations_current = current;
  } catch (const std::exception& e) {
    health.error = first_line(e.what());
  }
  return health;
}

}  // namespace huashan::arena::store
