// Database reachability, as /readyz and `huashan doctor` report it.
#pragma once

#include <string>

namespace huashan::arena::store {

struct database_health {
  bool reachable = false;
  std::string server_version;  // e.g. "15.18"; empty when unreachable
  std::string error;           // one line when unreachable
  int applied_migrations = 0;
  int known_migrations = 0;    // compiled into this binary
  bool migrations_current = false;
};

// Connects to `url`, asks the server version and compares applied migrations with
// the embedded ones. Never throws: failures land in `error`.
database_health check_database(const std::string& url);

}  // namespace huashan::arena::store
