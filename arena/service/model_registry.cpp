#include "arena/service/model_registry.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>
#include <sstream>

#include "common/config.hpp"
#include "common/error.hpp"
#include "harness/openai_client.hpp"

namespace huashan::arena {
namespace {

[[noreturn]] void fail(const std::filesystem::path& origin, const YAML::Node& node, const std::string& what) {
  const auto mark = node.Mark();
  if (mark.line >= 0) throw input_error(fmt::format("{}:{}: {}", origin.string(), mark.line + 1, what));
  throw input_error(fmt::format("{}: {}", origin.string(), what));
}

std::string string_field(const std::filesystem::path& origin, const YAML::Node& parent, const char* key,
                         bool required, const std::string& fallback = "") {
  const YAML::Node node = parent[key];
  if (!node) {
    if (required) fail(origin, parent, fmt::format("missing field '{}'", key));
    return fallback;
  }
  if (!node.IsScalar()) fail(origin, node, fmt::format("field '{}' must be a string", key));
  return node.as<std::string>();
}

}  // namespace

std::vector<registered_model> parse_model_registry(const std::string& yaml_text, const std::filesystem::path& origin) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw input_error(fmt::format("{}:{}: not valid YAML: {}", origin.string(), e.mark.line + 1, e.msg));
  }
  if (!root || !root.IsMap() || !root["models"] || !root["models"].IsSequence())
    fail(origin, root, "expected a top-level 'models:' list");
  const auto base_dir = origin.has_parent_path() ? origin.parent_path() : std::filesystem::path(".");
  std::vector<registered_model> out;
  std::set<std::string> names;
  for (const auto& entry : root["models"]) {
    if (!entry.IsMap()) fail(origin, entry, "each model must be a mapping with at least 'name'");
    for (const auto& field : entry) {
      static const std::set<std::string> known{"name", "display_name", "organization", "license", "local", "openai",
                                               "weight", "enabled", "identity_words", "random_weights"};
      const auto key = field.first.as<std::string>();
      if (known.count(key) == 0) fail(origin, field.first, fmt::format("unknown field '{}'", key));
    }
    registered_model m;
    m.name = string_field(origin, entry, "name", true);
    if (!valid_model_name(m.name)) fail(origin, entry["name"], fmt::format("model name '{}' {}", m.name, model_name_rule));
    if (!names.insert(m.name).second) fail(origin, entry["name"], fmt::format("model '{}' is listed twice", m.name));
    m.display_name = string_field(origin, entry, "display_name", false, m.name);
    m.organization = string_field(origin, entry, "organization", false);
    m.license = string_field(origin, entry, "license", false);
    if (entry["local"] && entry["openai"])
      fail(origin, entry, fmt::format("model '{}' has both 'local' and 'openai': choose one backend", m.name));
    if (const auto local = entry["local"]) {
      if (!local.IsMap()) fail(origin, local, fmt::format("model '{}': 'local' must be a mapping with 'path'", m.name));
      std::filesystem::path path = string_field(origin, local, "path", true);
      m.local = local_model_config{path.is_absolute() ? path : base_dir / path};
    } else if (const auto openai = entry["openai"]) {
      if (!openai.IsMap()) fail(origin, openai, fmt::format("model '{}': 'openai' must be a mapping", m.name));
      openai_model_config o;
      o.base_url = string_field(origin, openai, "base_url", true);
      if (o.base_url.rfind("http://", 0) != 0 && o.base_url.rfind("https://", 0) != 0)
        fail(origin, openai["base_url"], fmt::format("model '{}': base_url must start with http:// or https://", m.name));
      o.model = string_field(origin, openai, "model", false, m.name);
      if (openai["api_key_env"]) o.api_key_env = string_field(origin, openai, "api_key_env", true);
      if (openai["api_key"])
        fail(origin, openai["api_key"],
             fmt::format("model '{}': put the key in an environment variable and name it with api_key_env", m.name));
      if (const auto cap = openai["max_concurrent_requests"]) {
        try {
          o.max_concurrent_requests = cap.as<int>();
        } catch (const YAML::Exception&) {
          fail(origin, cap, "max_concurrent_requests must be an integer");
        }
        if (o.max_concurrent_requests < 1) fail(origin, cap, "max_concurrent_requests must be at least 1");
      }
      m.openai = std::move(o);
    } else {
      fail(origin, entry, fmt::format("model '{}' needs a backend: 'local: {{path: ...}}' or 'openai: {{...}}'", m.name));
    }
    if (const auto weight = entry["weight"]) {
      try {
        m.weight = weight.as<double>();
      } catch (const YAML::Exception&) {
        fail(origin, weight, fmt::format("model '{}': weight must be a number", m.name));
      }
      if (!(m.weight > 0)) fail(origin, weight, fmt::format("model '{}': weight must be positive", m.name));
    }
    for (const char* flag : {"enabled", "random_weights"}) {
      if (const auto node = entry[flag]) {
        try {
          (std::string(flag) == "enabled" ? m.enabled : m.random_weights) = node.as<bool>();
        } catch (const YAML::Exception&) {
          fail(origin, node, fmt::format("model '{}': {} must be true or false", m.name, flag));
        }
      }
    }
    if (const auto words = entry["identity_words"]) {
      if (!words.IsSequence()) fail(origin, words, fmt::format("model '{}': identity_words must be a list", m.name));
      for (const auto& w : words) m.identity_words.push_back(w.as<std::string>());
    }
    for (const auto& implied : {m.name, m.display_name, m.organization})
      if (!implied.empty()) m.identity_words.push_back(implied);
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<registered_model> load_model_registry(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw io_error(fmt::format("cannot read model registry {}", file.string()));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_model_registry(text.str(), file);
}

std::string backend_config_json(const registered_model& m) {
  namespace json = boost::json;
  if (m.local) return json::serialize(json::object{{"path", m.local->path.string()}});
  json::object o{{"base_url", m.openai->base_url}, {"model", m.openai->model}, {"api_key_env", nullptr},
                 {"max_concurrent_requests", m.openai->max_concurrent_requests}};
  if (m.openai->api_key_env) o["api_key_env"] = *m.openai->api_key_env;
  return json::serialize(o);
}

registered_model parse_remote_model_entry(const std::string& json_text, const std::string& origin) {
  auto models = parse_model_registry("models:\n  - " + json_text + "\n", origin);
  if (models.size() != 1) throw input_error(fmt::format("{}: expected one model object", origin));
  if (models.front().local)
    throw input_error(fmt::format("{}: field 'local' is not accepted here: local GGUF files are listed in the server's "
                                  "models.yaml or its models folder; add endpoints with 'openai'",
                                  origin));
  return std::move(models.front());
}

std::optional<registered_model> remote_model_from_record(const model_record& record) {
  if (record.backend != "openai") return std::nullopt;
  const std::string origin = fmt::format("models table, model '{}'", record.name);
  YAML::Node config;
  try {
    config = YAML::Load(record.backend_config_json);
  } catch (const YAML::Exception& e) {
    throw input_error(fmt::format("{}: backend_config is not valid JSON: {}", origin, e.msg));
  }
  YAML::Node entry;
  entry["name"] = record.name;
  entry["display_name"] = record.display_name;
  entry["organization"] = record.organization;
  entry["license"] = record.license;
  YAML::Node openai;
  for (const char* key : {"base_url", "model", "api_key_env", "max_concurrent_requests"})
    if (config[key] && !config[key].IsNull()) openai[key] = config[key];
  entry["openai"] = openai;
  entry["enabled"] = record.enabled;
  YAML::Node root;
  root["models"].push_back(entry);
  auto models = parse_model_registry(YAML::Dump(root), origin);
  return std::move(models.front());
}

std::shared_ptr<harness::model_backend> make_remote_backend(const registered_model& m) {
  if (!m.openai) throw input_error(fmt::format("model '{}' is not an openai endpoint", m.name));
  harness::openai_client_options o;
  o.base_url = m.openai->base_url;
  o.model = m.openai->model;
  o.max_concurrent_requests = m.openai->max_concurrent_requests;
  if (m.openai->api_key_env) {
    o.api_key = config::env(*m.openai->api_key_env);
    if (!o.api_key)
      throw config_error(fmt::format("model '{}': environment variable {} (api_key_env) is not set", m.name,
                                     *m.openai->api_key_env));
  }
  return std::make_shared<harness::openai_client>(o);
}

}  // namespace huashan::arena
