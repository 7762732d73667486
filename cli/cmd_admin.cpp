#include <fmt/format.h>

#include "arena/store/api_keys.hpp"
#include "cli/commands.hpp"

namespace huashan::cli {

int run_admin_create_key(const global_options& global, const std::string& name) {
  const auto created = arena::store::create_api_key(require_database_url(global), name);
  fmt::print("{}\n", created.key);
  fmt::print(stderr, "created API key '{}'; it is shown only now: keep it secret, send it as "
                     "'Authorization: Bearer <key>'\n", created.name);
  return 0;
}

int run_admin_revoke_key(const global_options& global, const std::string& name) {
  arena::store::revoke_api_key(require_database_url(global), name);
  fmt::print("revoked API key '{}'\n", name);
  return 0;
}

}  // namespace huashan::cli
