#include "arena/service/readiness.hpp"

namespace huashan::arena {

store::database_health database_readiness(const std::string& database_url) {
  return store::check_database(database_url);
}

}  // namespace huashan::arena
