// Database tests run against a real PostgreSQL: $DATABASE_URL names a server the
// tests may create databases on (./dev test starts a private one under .var/).
// Each call to fresh_database() creates an empty database that is dropped when
// the test binary exits.
#pragma once

#include <string>

namespace huashan::testing {

// A connection string for a new, empty database; dropped at exit.
std::string fresh_database();
// The server-level URL the tests were given.
const std::string& admin_url();

}  // namespace huashan::testing
