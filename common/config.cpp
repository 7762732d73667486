#include "common/config.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>

#include "common/error.hpp"

namespace huashan::config {

std::optional<std::string> env(std::string_view name) {
  const char* value = std::getenv(std::string(name).c_str());
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

std::uint16_t parse_port(std::string_view text, std::string_view what) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value == 0 || value > 65535)
    throw config_error(fmt::format("{} '{}' is not a TCP port (1..65535)", what, text));
  return static_cast<std::uint16_t>(value);
}

std::optional<std::string> database_url_from_env() {
  if (auto url = env("DATABASE_URL")) return url;
  return env("HUASHAN_DATABASE_URL");
}

std::string redact_url(std::string_view url) {
  // postgresql://user:secret@host/db -> postgresql://user:***@host/db
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  const auto at = url.find('@', scheme + 3);
  if (at == std::string_view::npos) return std::string(url);
  const auto colon = url.find(':', scheme + 3);
  if (colon == std::string_view::npos || colon > at) return std::string(url);
  return std::string(url.substr(0, colon + 1)) + "***" + std::string(url.substr(at));
}

}  // namespace huashan::config
