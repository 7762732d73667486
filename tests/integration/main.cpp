#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <pqxx/pqxx>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include <chrono>
#include <cstdio>
#include <vector>

#include "arena/store/admin.hpp"
#include "common/config.hpp"
#include "db_fixture.hpp"

namespace huashan::testing {
namespace {
std::string g_admin_url;
std::vector<std::string> g_created;
}  // namespace

const std::string& admin_url() { return g_admin_url; }

std::string fresh_database() {
  const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
  const std::string name = fmt::format("huashan_test_{}_{}_{}", getpid(), g_created.size(), stamp % 1000000);
  arena::store::create_database(g_admin_url, name);
  g_created.push_back(name);
  return arena::store::url_with_database(g_admin_url, name);
}

// A run that crashed could not drop its databases; the next run does, when the
// process that made them (its pid is in the name) is gone.
void drop_leftovers_of_dead_runs() {
  try {
    pqxx::connection conn(g_admin_url);
    pqxx::nontransaction tx(conn);
    for (const auto& row : tx.exec("SELECT datname FROM pg_database WHERE datname LIKE 'huashan_test_%'")) {
      const auto name = row[0].as<std::string>();
      const long pid = std::strtol(name.c_str() + std::strlen("huashan_test_"), nullptr, 10);
      if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0) arena::store::drop_database(g_admin_url, name);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "note: could not clean up old test databases: %s\n", e.what());
  }
}

}  // namespace huashan::testing

int main(int argc, char** argv) {
  auto url = huashan::config::database_url_from_env();
  if (!url) {
    std::fprintf(stderr, "database tests need DATABASE_URL (./dev test starts a private PostgreSQL)\n");
    return 1;
  }
  huashan::testing::g_admin_url = *url;
  huashan::testing::drop_leftovers_of_dead_runs();
  doctest::Context context(argc, argv);
  const int result = context.run();
  for (const auto& name : huashan::testing::g_created) {
    try {
      huashan::arena::store::drop_database(*url, name);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "could not drop test database %s: %s\n", name.c_str(), e.what());
    }
  }
  return result;
}
