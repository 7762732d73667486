#include "arena/service/admin_keys.hpp"

#include "arena/store/api_keys.hpp"

namespace huashan::arena {

bool is_admin_key(const std::optional<std::string>& database_url, const std::string& key) {
  return database_url && store::verify_api_key(*database_url, key).has_value();
}

bool admin_key_checker::allows(const std::string& key) {
  const auto hash = store::hash_api_key(key);
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mutex_);
    if (const auto it = live_until_.find(hash); it != live_until_.end()) {
      if (it->second > now) return true;
      live_until_.erase(it);
    }
  }
  if (!is_admin_key(database_url_, key)) return false;
  std::lock_guard lock(mutex_);
  if (live_until_.size() > 1024) live_until_.clear();  // keys are few; this bounds a flood of distinct ones
  live_until_[hash] = now + remember_;
  return true;
}

}  // namespace huashan::arena
