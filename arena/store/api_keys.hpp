// Admin API keys: "hsk_" + 43 URL-safe characters (256 random bits). Only the
// SHA-256 of a key is stored; the key is shown once, when created.
#pragma once

#include <optional>
#include <string>

namespace huashan::arena::store {

struct created_key {
  std::string name;
  std::string key;  // the secret: print it once, never log it
};

// Creates a key named `name` (unique); throws input_error if the name is taken
// or empty, database_error when the database fails.
created_key create_api_key(const std::string& url, const std::string& name);
// Revokes the key named `name`; throws not_found_error when there is none.
void revoke_api_key(const std::string& url, const std::string& name);
// The name of the live key equal to `key`, or nullopt (constant-time compare of hashes).
std::optional<std::string> verify_api_key(const std::string& url, const std::string& key);
// SHA-256 of a key, hex: what the database stores.
std::string hash_api_key(const std::string& key);

}  // namespace huashan::arena::store
