#include "arena/store/admin.hpp"

#include <fmt/format.h>
#include <libpq-fe.h>


#include "arena/store/pg.hpp"
#include "common/config.hpp"
#include "common/error.hpp"

namespace huashan::arena::store {
namespace {

void require_identifier(const std::string& database) {
  bool ok = !database.empty() && database.size() <= 63 && !(database[0] >= '0' && database[0] <= '9');
  for (char c : database) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  if (!ok)
    throw input_error(fmt::format("database name '{}' is not a plain lower-case identifier", database));
}

std::string quote_conninfo_value(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

}  // namespace

std::string url_with_database(const std::string& url, const std::string& database) {
  char* error_message = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error_message);
  if (options == nullptr) {
    std::string detail = error_message != nullptr ? first_line(error_message) : "out of memory";
    PQfreemem(error_message);
    throw input_error(fmt::format("cannot parse database URL {}: {}", config::redact_url(url), detail));
  }
  std::string out;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (std::string(o->keyword) == "dbname" || o->val == nullptr) continue;
    out += fmt::format("{}={} ", o->keyword, quote_conninfo_value(o->val));
  }
  PQconninfoFree(options);
  return out + "dbname=" + quote_conninfo_value(database);
}

void create_database(const std::string& url, const std::string& database) {
  require_identifier(database);
  auto conn = open_connection(url);
  try {
    pqxx::nontransaction tx(*conn);
    tx.exec("CREATE DATABASE " + database);
  } catch (...) {
    rethrow_as_database_error(fmt::format("creating database {}", database));
  }
}

void drop_database(const std::string& url, const std::string& database) {
  require_identifier(database);
  auto conn = open_connection(url);
  try {
    pqxx::nontransaction tx(*conn);
    tx.exec("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
  } catch (...) {
    rethrow_as_database_error(fmt::format("dropping database {}", database));
  }
}

}  // namespace huashan::arena::store
