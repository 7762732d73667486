#include <doctest/doctest.h>

#include "arena/store/database.hpp"
#include "arena/store/migrations.hpp"
#include "common/error.hpp"
#include "db_fixture.hpp"

using namespace huashan;
using namespace huashan::arena::store;

TEST_CASE("health reports reachability and whether migrations are current") {
  const auto url = testing::fresh_database();
  auto health = check_database(url);
  CHECK(health.reachable);
  CHECK_FALSE(health.server_version.empty());
  CHECK_FALSE(health.migrations_current);
  CHECK(health.applied_migrations == 0);

  migrate(url, embedded_migrations());
  health = check_database(url);
  CHECK(health.migrations_current);
  CHECK(health.applied_migrations == health.known_migrations);
}

TEST_CASE("an unreachable database is a one-line error, not an exception") {
  const auto health = check_database("postgresql://nobody:pw@127.0.0.1:1/none?connect_timeout=2");
  CHECK_FALSE(health.reachable);
  CHECK(health.error.find('\n') == std::string::npos);
  CHECK(health.error.find("pw") == std::string::npos);
  CHECK(health.error.find("cannot connect") != std::string::npos);
}

TEST_CASE("migrate against a bad URL throws database_error naming the redacted URL") {
  CHECK_THROWS_WITH_AS(migrate("postgresql://u:secret@127.0.0.1:1/x?connect_timeout=2", embedded_migrations()),
                       doctest::Contains("postgresql://u:***@127.0.0.1:1/x"), database_error);
}
