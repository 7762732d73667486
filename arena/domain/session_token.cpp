#include "arena/domain/session_token.hpp"

#include <fmt/format.h>
#include <sodium.h>

#include <charconv>

#include "common/error.hpp"

namespace huashan::arena {
namespace {

void ensure_sodium() {
  if (sodium_init() < 0) throw error("libsodium failed to initialise");
}

std::string base64url(const unsigned char* data, std::size_t size) {
  std::string out(sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), data, size, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(std::char_traits<char>::length(out.c_str()));
  return out;
}

std::string tag_of(std::string_view payload, const session_secret& secret) {
  unsigned char tag[crypto_auth_BYTES];
  crypto_auth(tag, reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), secret.data());
  return base64url(tag, sizeof tag);
}

}  // namespace

session_secret random_session_secret() {
  ensure_sodium();
  session_secret secret{};
  randombytes_buf(secret.data(), secret.size());
  return secret;
}

session_secret parse_session_secret(std::string_view hex) {
  ensure_sodium();
  session_secret secret{};
  std::size_t written = 0;
  const char* end = nullptr;
  if (hex.size() != 2 * session_secret_bytes ||
      sodium_hex2bin(secret.data(), secret.size(), hex.data(), hex.size(), nullptr, &written, &end) != 0 ||
      written != secret.size())
    throw config_error(fmt::format("session secret must be {} hexadecimal digits", 2 * session_secret_bytes));
  return secret;
}

session new_session() {
  ensure_sodium();
  unsigned char raw[16];
  randombytes_buf(raw, sizeof raw);
  session s;
  s.id = base64url(raw, sizeof raw);
  s.issued_unix_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  return s;
}

std::string sign_session(const session& s, const session_secret& secret) {
  ensure_sodium();
  const std::string payload = fmt::format("{}.{}", s.id, s.issued_unix_seconds);
  return payload + "." + tag_of(payload, secret);
}

std::optional<session> verify_session(std::string_view token, const session_secret& secret,
                                      std::chrono::seconds max_age, std::chrono::system_clock::time_point now) {
  ensure_sodium();
  if (token.size() > 256) return std::nullopt;
  const auto last_dot = token.rfind('.');
  if (last_dot == std::string_view::npos) return std::nullopt;
  const std::string_view payload = token.substr(0, last_dot);
  const std::string expected = tag_of(payload, secret);
  const std::string_view given = token.substr(last_dot + 1);
  if (given.size() != expected.size() || sodium_memcmp(given.data(), expected.data(), expected.size()) != 0)
    return std::nullopt;
  const auto first_dot = payload.find('.');
  if (first_dot == std::string_view::npos || first_dot == 0) return std::nullopt;
  session s;
  s.id = std::string(payload.substr(0, first_dot));
  const std::string_view issued = payload.substr(first_dot + 1);
  const auto [end, ec] = std::from_chars(issued.data(), issued.data() + issued.size(), s.issued_unix_seconds);
  if (ec != std::errc{} || end != issued.data() + issued.size()) return std::nullopt;
  const auto now_seconds = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  if (s.issued_unix_seconds > now_seconds + 60 || now_seconds - s.issued_unix_seconds > max_age.count())
    return std::nullopt;
  return s;
}

}  // namespace huashan::arena
