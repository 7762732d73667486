// Signed session tokens for the arena's cookie: "<session id>.<issued unix
// seconds>.<HMAC-SHA256 tag>" in URL-safe base64, signed with a server secret
// (libsodium crypto_auth). A token that was tampered with, signed with another
// secret or is older than its maximum age does not verify.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace huashan::arena {

inline constexpr std::size_t session_secret_bytes = 32;
using session_secret = std::array<std::uint8_t, session_secret_bytes>;

// A new random secret (libsodium randombytes).
session_secret random_session_secret();
// Parses a 64-hex-digit secret (HUASHAN_SESSION_SECRET); throws config_error otherwise.
session_secret parse_session_secret(std::string_view hex);

struct session {
  std::string id;  // 22 URL-safe characters (128 random bits)
  std::int64_t issued_unix_seconds = 0;
};

// A fresh session issued now.
session new_session();
// The signed token for a session.
std::string sign_session(const session& s, const session_secret& secret);
// The session inside `token` when its tag verifies and it is younger than
// `max_age` at `now`; nullopt otherwise (never throws on hostile input).
std::optional<session> verify_session(std::string_view token, const session_secret& secret,
                                      std::chrono::seconds max_age,
                                      std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

}  // namespace huashan::arena
