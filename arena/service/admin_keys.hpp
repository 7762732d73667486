// Who may use the admin routes: a bearer key that is a live admin API key
// (created with `huashan admin create-key`; only its hash is stored).
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace huashan::arena {

// Whether `key` is a live admin API key in the database at `database_url`;
// false without a database. database_error when the database fails.
bool is_admin_key(const std::optional<std::string>& database_url, const std::string& key);

// is_admin_key for routes called many times a second (eval workers): a key
// found live is believed for `remember` before the database is asked again,
// so a revoked key stops working within that time. Refusals are never
// remembered (a key created a moment ago works at once).
class admin_key_checker {
 public:
  explicit admin_key_checker(std::optional<std::string> database_url,
                             std::chrono::milliseconds remember = std::chrono::seconds(10))
      : database_url_(std::move(database_url)), remember_(remember) {}
  bool allows(const std::string& key);

 private:
  std::optional<std::string> database_url_;
  std::chrono::milliseconds remember_;
  std::mutex mutex_;
  std::map<std::string, std::chrono::steady_clock::time_point> live_until_;  // key hash -> when to ask again
};

}  // namespace huashan::arena
