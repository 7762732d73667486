#include "common/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>

#include "common/error.hpp"

namespace huashan::log {
namespace {
std::atomic<level> g_level{level::info};
std::mutex g_write_mutex;

const char* level_name(level lvl) {
  switch (lvl) {
    case level::trace: return "trace";
    case level::debug: return "debug";
    case level::info: return "info ";
    case level::warn: return "warn ";
    case level::error: return "error";
    case level::off: return "off  ";
  }
  return "?";
}
}  // namespace

void set_level(level lvl) { g_level.store(lvl, std::memory_order_relaxed); }
level current_level() { return g_level.load(std::memory_order_relaxed); }

level parse_level(std::string_view name) {
  if (name == "trace") return level::trace;
  if (name == "debug") return level::debug;
  if (name == "info") return level::info;
  if (name == "warn" || name == "warning") return level::warn;
  if (name == "error") return level::error;
  if (name == "off") return level::off;
  throw config_error(fmt::format("log level '{}' is not one of trace, debug, info, warn, error, off", name));
}

void write(level lvl, std::string_view message) {
  const auto now = std::chrono::system_clock::now();
  const auto seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  const std::string line = fmt::format("{}.{:03}Z {} {}\n", stamp, millis, level_name(lvl), message);
  const std::lock_guard lock(g_write_mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace huashan::log
