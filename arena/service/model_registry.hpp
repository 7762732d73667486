// The model registry file (`huashan serve --models models.yaml`): which models
// the arena offers and how to reach each. Parsed and validated here; the store
// keeps the `models` table in step with it.
//
//   models:
//     - name: qwen3-0.6b                 # unique id: [A-Za-z0-9][A-Za-z0-9._:/-]*
//       display_name: Qwen3 0.6B
//       organization: Alibaba
//       license: apache-2.0
//       local: { path: models/qwen3-0.6b-q8_0.gguf }
//       weight: 1.0                      # sampling weight (default 1)
//       identity_words: [Qwen, Alibaba]  # an answer naming these flags its battle
//     - name: deepseek-chat
//       openai: { base_url: https://api.deepseek.com/v1, model: deepseek-chat,
//                 api_key_env: DEEPSEEK_API_KEY }
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "arena/domain/model.hpp"
#include "harness/model_backend.hpp"

namespace huashan::arena {

struct local_model_config {
  std::filesystem::path path;  // relative paths are relative to the registry file
};

struct openai_model_config {
  std::string base_url;
  std::string model;
  std::optional<std::string> api_key_env;  // name of the environment variable holding the key
  int max_concurrent_requests = 8;
};

struct registered_model {
  std::string name;
  std::string display_name;
  std::string organization;
  std::string license;
  std::optional<local_model_config> local;    // exactly one of local / openai
  std::optional<openai_model_config> openai;
  double weight = 1.0;
  bool enabled = true;
  std::vector<std::string> identity_words;    // the name, display name and organization are always added
  bool random_weights = false;                // a synthetic demo model: the pages say so
};

// Parses a registry document; `origin` names it in errors and anchors relative
// paths. Throws input_error naming the file, line and field that is wrong.
std::vector<registered_model> parse_model_registry(const std::string& yaml_text, const std::filesystem::path& origin);
// Reads and parses a registry file; io_error when it cannot be read.
std::vector<registered_model> load_model_registry(const std::filesystem::path& file);
// The backend's JSON settings as stored in models.backend_config (no secrets:
// the key's variable name, never its value).
std::string backend_config_json(const registered_model& model);

// One model sent by an admin as a JSON object with the registry's fields
// (JSON is YAML's flow style, so the file's rules and messages apply; `origin`
// names it in errors). Only `openai` endpoints: a local file is the server's
// business (models.yaml or the models folder). input_error naming the field.
registered_model parse_remote_model_entry(const std::string& json_text, const std::string& origin);
// An `openai` model as the `models` table stores it (added by an admin,
// possibly through another arena process); nullopt for a local model.
// input_error when its stored settings are unreadable.
std::optional<registered_model> remote_model_from_record(const model_record& record);
// The HTTP client for an `openai` model. config_error when its api_key_env
// variable is not set.
std::shared_ptr<harness::model_backend> make_remote_backend(const registered_model& model);

}  // namespace huashan::arena
