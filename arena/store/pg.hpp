// Private to arena/store: opening libpqxx connections with errors translated to
// database_error (one line, password redacted). Never include outside store/.
#pragma once

#include <pqxx/pqxx>

#include <memory>
#include <string>

namespace huashan::arena::store {

// Connects to `url` (a libpq URI or key=value string); throws database_error.
std::unique_ptr<pqxx::connection> open_connection(const std::string& url);

// Rethrows the current pqxx exception as database_error prefixed with `context`.
[[noreturn]] void rethrow_as_database_error(const std::string& context);

}  // namespace huashan::arena::store
