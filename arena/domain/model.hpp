// A model the arena offers, as the `models` table keeps it, and the rule its
// name follows (the registry file, the admin API and the table's CHECK agree).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace huashan::arena {

struct model_record {
  std::int64_t id = 0;  // assigned by the database
  std::string name;     // unique, [A-Za-z0-9][A-Za-z0-9._:/-]{0,127}
  std::string display_name;
  std::string organization;
  std::string license;
  std::string backend;              // "local" | "openai"
  std::string backend_config_json;  // the backend's settings as a JSON object
  bool enabled = true;
};

// An admin's edit of a stored model: the fields given change, the rest stay.
struct model_changes {
  std::optional<std::string> display_name;
  std::optional<std::string> organization;
  std::optional<std::string> license;
  std::optional<bool> enabled;
};

// What a model name must be, for messages: "must start with a letter or digit
// and use only letters, digits and . _ : / - (at most 128)".
extern const char* const model_name_rule;
// Whether `name` follows model_name_rule.
bool valid_model_name(std::string_view name);
// Whether `backend` is one the arena runs: "local" (a GGUF file) or "openai" (an endpoint).
bool valid_model_backend(std::string_view backend);

}  // namespace huashan::arena
