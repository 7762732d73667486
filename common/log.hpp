// Leveled logging to stderr, one line per message, safe from any thread.
// The level comes from --log-level or HUASHAN_LOG_LEVEL (trace..error, off).
#pragma once

#include <fmt/format.h>

#include <string_view>

namespace huashan::log {

enum class level { trace, debug, info, warn, error, off };

// Sets the minimum level printed; messages below it cost one comparison.
void set_level(level lvl);
level current_level();
// Parses "trace|debug|info|warn|error|off"; throws config_error naming the value.
level parse_level(std::string_view name);
// Writes "2026-11-29T12:00:00.123Z warn  message" to stderr atomically.
void write(level lvl, std::string_view message);

template <typename... Args>
void at(level lvl, fmt::format_string<Args...> format, Args&&... args) {
  if (lvl < current_level()) return;
  write(lvl, fmt::format(format, std::forward<Args>(args)...));
}
template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... a) { at(level::debug, f, std::forward<Args>(a)...); }
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... a) { at(level::info, f, std::forward<Args>(a)...); }
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... a) { at(level::warn, f, std::forward<Args>(a)...); }
template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... a) { at(level::error, f, std::forward<Args>(a)...); }

}  // namespace huashan::log
