// Configuration helpers: HUASHAN_* environment variables and the database URL.
// Flags win over environment variables, which win over defaults (the CLI wires this).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace huashan::config {

// The value of environment variable `name`, or nullopt when unset or empty.
std::optional<std::string> env(std::string_view name);

// Parses a TCP port "1".."65535"; throws config_error naming `what` and the value.
std::uint16_t parse_port(std::string_view text, std::string_view what);

// The database URL from DATABASE_URL or HUASHAN_DATABASE_URL; nullopt if neither is set.
std::optional<std::string> database_url_from_env();

// The URL with any password replaced by "***", for logs and error messages.
std::string redact_url(std::string_view url);

}  // namespace huashan::config
