// The subcommands of `huashan`, one file each. main.cpp parses flags (CLI11) and
// calls these with plain option structs; each returns the process exit code.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace huashan::cli {

struct global_options {
  std::optional<std::string> database_url;  // --database-url, DATABASE_URL
  std::string log_level = "info";           // --log-level, HUASHAN_LOG_LEVEL
};

// `huashan doctor`: build options, CPU features, CUDA devices, database reachability.
int run_doctor(const global_options& global);

struct db_options {
  std::optional<std::string> migrations_dir;  // default: the migrations compiled in
};
// `huashan db migrate`: applies pending migrations; a second run is a no-op.
int run_db_migrate(const global_options& global, const db_options& options);
// `huashan db status`: each migration's state; exit 1 if any is pending or changed.
int run_db_status(const global_options& global, const db_options& options);

struct serve_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  int threads = 2;
  bool migrate = false;  // apply pending migrations before serving
};
// `huashan serve`: the arena's HTTP service, until SIGINT/SIGTERM.
int run_serve(const global_options& global, const serve_options& options);

// Throws config_error when no database URL was given.
std::string require_database_url(const global_options& global);

}  // namespace huashan::cli
