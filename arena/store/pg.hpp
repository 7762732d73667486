// Private to arena/store: opening libpqxx connections with errors translated to
// database_error (one line, password redacted). Never include outside store/.
#pragma once

#include <pqxx/pqxx>

#include <memory>
#include <string>

namespace huashan::arena::store {

// The advisory lock that settles vote events: every transaction that draws an
// event from vote_events holds it shared until it commits, and a reader takes
// it exclusively for a moment before reading the sequence, so every event up
// to the value it reads belongs to a finished transaction. "HuaEvnt1".
constexpr long long vote_event_fence_key = 0x48756145'766e7431LL;

// Connects to `url` (a libpq URI or key=value string); throws database_error.
std::unique_ptr<pqxx::connection> open_connection(const std::string& url);

// Rethrows the current pqxx exception as database_error prefixed with `context`.
[[noreturn]] void rethrow_as_database_error(const std::string& context);

}  // namespace huashan::arena::store
