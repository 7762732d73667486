#include "arena/store/pg.hpp"

#include <fmt/format.h>

#include "common/config.hpp"
#include "common/error.hpp"

namespace huashan::arena::store {

std::unique_ptr<pqxx::connection> open_connection(const std::string& url) {
  try {
    return std::make_unique<pqxx::connection>(url);
  } catch (const pqxx::broken_connection& e) {
    throw database_error(fmt::format("cannot connect to the database at {}: {}", config::redact_url(url),
                                     first_line(e.what())));
  } catch (const std::exception& e) {
    // libpq rejects malformed URLs with a plain error (e.g. "invalid URI query parameter").
    throw database_error(
        fmt::format("invalid database URL {}: {}", config::redact_url(url), first_line(e.what())));
  }
}

void rethrow_as_database_error(const std::string& context) {
  try {
    throw;
  } catch (const huashan::error&) {
    throw;
  } catch (const pqxx::sql_error& e) {
    throw database_error(fmt::format("{}: {}", context, first_line(e.what())));
  } catch (const pqxx::broken_connection& e) {
    throw database_error(fmt::format("{}: connection lost: {}", context, first_line(e.what())));
  } catch (const std::exception& e) {
    throw database_error(fmt::format("{}: {}", context, first_line(e.what())));
  }
}

}  // namespace huashan::arena::store
