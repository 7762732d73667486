#include "arena/store/api_keys.hpp"

#include <fmt/format.h>
#include <sodium.h>

#include "arena/store/pg.hpp"
#include "common/error.hpp"

namespace huashan::arena::store {

std::string hash_api_key(const std::string& key) {
  if (sodium_init() < 0) throw error("libsodium failed to initialise");
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(key.data()), key.size());
  char hex[2 * sizeof digest + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

created_key create_api_key(const std::string& url, const std::string& name) {
  if (name.empty() || name.size() > 64) throw input_error("API key name must be 1 to 64 characters");
  if (sodium_init() < 0) throw error("libsodium failed to initialise");
  unsigned char raw[32];
  randombytes_buf(raw, sizeof raw);
  char encoded[sodium_base64_ENCODED_LEN(sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  sodium_bin2base64(encoded, sizeof encoded, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  created_key created{name, std::string("hsk_") + encoded};
  auto conn = open_connection(url);
  try {
    pqxx::work tx(*conn);
    const auto taken = tx.exec_params("SELECT 1 FROM api_keys WHERE name = $1", name);
    if (!taken.empty()) throw input_error(fmt::format("an API key named '{}' exists already", name));
    tx.exec_params("INSERT INTO api_keys (name, key_hash, key_prefix) VALUES ($1, $2, $3)", name,
                   hash_api_key(created.key), created.key.substr(0, 8));
    tx.commit();
  } catch (...) {
    rethrow_as_database_error("creating API key " + name);
  }
  return created;
}

void revoke_api_key(const std::string& url, const std::string& name) {
  auto conn = open_connection(url);
  pqxx::result updated;
  try {
    pqxx::work tx(*conn);
    updated = tx.exec_params("UPDATE api_keys SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL", name);
    tx.commit();
  } catch (...) {
    rethrow_as_database_error("revoking API key " + name);
  }
  if (updated.affected_rows() == 0) throw not_found_error(fmt::format("no live API key named '{}'", name));
}

std::optional<std::string> verify_api_key(const std::string& url, const std::string& key) {
  if (key.size() < 8 || key.size() > 128) return std::nullopt;
  const auto hash = hash_api_key(key);
  auto conn = open_connection(url);
  try {
    pqxx::read_transaction tx(*conn);
    const auto rows = tx.exec_params(
        "SELECT name, key_hash FROM api_keys WHERE key_prefix = $1 AND revoked_at IS NULL", key.substr(0, 8));
    for (const auto& row : rows) {
      const auto stored = row[1].as<std::string>();
      if (stored.size() == hash.size() && sodium_memcmp(stored.data(), hash.data(), hash.size()) == 0)
        return row[0].as<std::string>();
    }
  } catch (...) {
    rethrow_as_database_error("checking an API key");
  }
  return std::nullopt;
}

}  // namespace huashan::arena::store
