// Migrations against a real PostgreSQL: apply, no-op, rollback of a failing file,
// refusal of a tampered checksum.
#include <doctest/doctest.h>
#include <pqxx/pqxx>

#include <filesystem>
#include <thread>
#include <fstream>

#include "arena/store/migrations.hpp"
#include "common/error.hpp"
#include "db_fixture.hpp"

using namespace huashan;
using namespace huashan::arena::store;
namespace fs = std::filesystem;

namespace {

struct temp_dir {
  fs::path path;
  temp_dir() {
    path = fs::temp_directory_path() / ("huashan-mig-" + std::to_string(::getpid()) + "-" +
                                        std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    fs::create_directories(path);
  }
  ~temp_dir() { fs::remove_all(path); }
  void write(const std::string& name, const std::string& text) const { std::ofstream(path / name) << text; }
};

long long scalar(const std::string& url, const std::string& sql) {
  pqxx::connection conn(url);
  pqxx::nontransaction tx(conn);
  return tx.exec1(sql)[0].as<long long>();
}

}  // namespace

TEST_CASE("embedded migrations apply to an empty database, and again as a no-op") {
  const auto url = testing::fresh_database();
  const auto migrations = embedded_migrations();
  const auto first = migrate(url, migrations);
  CHECK(first.size() == migrations.size());
  CHECK(scalar(url, "SELECT count(*) FROM schema_migrations") == static_cast<long long>(migrations.size()));
  CHECK(scalar(url, "SELECT count(*) FROM information_schema.tables WHERE table_name IN ('models','battles','votes')") ==
        3);

  const auto second = migrate(url, migrations);
  CHECK(second.empty());
  for (const auto& entry : migration_status(url, migrations)) CHECK(entry.state == migration_state::applied);
}

TEST_CASE("a failing migration rolls back and leaves the recorded version unchanged") {
  const auto url = testing::fresh_database();
  temp_dir dir;
  dir.write("0001_good.sql", "CREATE TABLE good (id int);");
  dir.write("0002_bad.sql", "CREATE TABLE half_done (id int);\nSELECT * FROM no_such_table;");
  const auto migrations = load_migrations(dir.path);

  CHECK_THROWS_AS(migrate(url, migrations), database_error);
  try {
    migrate(url, migrations);
  } catch (const database_error& e) {
    const std::string message = e.what();
    CHECK(message.find("0002_bad.sql") != std::string::npos);
    CHECK(message.find("rolled back") != std::string::npos);
    CHECK(message.find("no_such_table") != std::string::npos);
  }
  CHECK(scalar(url, "SELECT max(version) FROM schema_migrations") == 1);
  CHECK(scalar(url, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'half_done'") == 0);

  const auto status = migration_status(url, migrations);
  REQUIRE(status.size() == 2);
  CHECK(status[0].state == migration_state::applied);
  CHECK(status[1].state == migration_state::pending);
}

TEST_CASE("a migration edited after it was applied is refused with the file's name") {
  const auto url = testing::fresh_database();
  temp_dir dir;
  dir.write("0001_first.sql", "CREATE TABLE first_table (id int);");
  CHECK(migrate(url, load_migrations(dir.path)).size() == 1);

  dir.write("0001_first.sql", "CREATE TABLE first_table (id bigint);");
  dir.write("0002_second.sql", "CREATE TABLE second_table (id int);");
  const auto tampered = load_migrations(dir.path);
  CHECK_THROWS_WITH_AS(migrate(url, tampered), doctest::Contains("migration 0001_first.sql was changed"),
                       database_error);
  // Nothing after the refusal was applied.
  CHECK(scalar(url, "SELECT count(*) FROM schema_migrations") == 1);
  const auto status = migration_status(url, tampered);
  REQUIRE(status.size() == 2);
  CHECK(status[0].state == migration_state::checksum_mismatch);
  CHECK(status[1].state == migration_state::pending);
}

TEST_CASE("two processes migrating at once apply each file once") {
  const auto url = testing::fresh_database();
  const auto migrations = embedded_migrations();
  std::vector<int> a, b;
  std::string error_a, error_b;
  const auto run = [&](std::vector<int>& applied, std::string& error) {
    try {
      applied = migrate(url, migrations);
    } catch (const std::exception& e) {
      error = e.what();
    }
  };
  std::thread t1([&] { run(a, error_a); });
  std::thread t2([&] { run(b, error_b); });
  t1.join();
  t2.join();
  CHECK(error_a == "");
  CHECK(error_b == "");
  CHECK(a.size() + b.size() == migrations.size());
  CHECK(scalar(url, "SELECT count(*) FROM schema_migrations") == static_cast<long long>(migrations.size()));
}
