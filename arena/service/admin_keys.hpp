// Who may use the admin routes: a bearer key that is a live admin API key
// (created with `huashan admin create-key`; only its hash is stored).
#pragma once

#include <optional>
#include <string>

namespace huashan::arena {

// Whether `key` is a live admin API key in the database at `database_url`;
// false without a database. database_error when the database fails.
bool is_admin_key(const std::optional<std::string>& database_url, const std::string& key);

}  // namespace huashan::arena
