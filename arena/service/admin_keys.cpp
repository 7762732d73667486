#include "arena/service/admin_keys.hpp"

#include "arena/store/api_keys.hpp"

namespace huashan::arena {

bool is_admin_key(const std::optional<std::string>& database_url, const std::string& key) {
  return database_url && store::verify_api_key(*database_url, key).has_value();
}

}  // namespace huashan::arena
