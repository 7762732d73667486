// What /readyz and `huashan doctor` say about the database: reachable, its
// version, and whether the migrations this binary carries are all applied.
#pragma once

#include <string>

#include "arena/store/database.hpp"

namespace huashan::arena {

// store::check_database for the service's callers. Never throws: failures
// land in `error`.
store::database_health database_readiness(const std::string& database_url);

}  // namespace huashan::arena
