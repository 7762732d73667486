#include "arena/domain/model.hpp"

#include <cctype>

namespace huashan::arena {

const char* const model_name_rule =
    "must start with a letter or digit and use only letters, digits and . _ : / - (at most 128)";

bool valid_model_name(std::string_view name) {
  if (name.empty() || name.size() > 128 || !std::isalnum(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != ':' && c != '/' && c != '-')
      return false;
  return true;
}

bool valid_model_backend(std::string_view backend) { return backend == "local" || backend == "openai"; }

}  // namespace huashan::arena
