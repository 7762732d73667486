#include <doctest/doctest.h>

#include "arena/service/model_registry.hpp"
#include "common/error.hpp"

using namespace huashan;
using namespace huashan::arena;

TEST_CASE("a registry with local and remote models parses, with paths relative to the file") {
  const auto models = parse_model_registry(R"(
models:
  - name: qwen3-0.6b
    display_name: Qwen3 0.6B
    organization: Alibaba
    license: apache-2.0
    local: { path: models/q.gguf }
    weight: 2
    identity_words: [Qwen]
  - name: deepseek-chat
    openai: { base_url: "https://api.deepseek.com/v1", api_key_env: DEEPSEEK_API_KEY, max_concurrent_requests: 4 }
    enabled: false
)",
                                           "/etc/huashan/models.yaml");
  REQUIRE(models.size() == 2);
  CHECK(models[0].local->path == "/etc/huashan/models/q.gguf");
  CHECK(models[0].weight == 2.0);
  CHECK(models[0].identity_words == std::vector<std::string>{"Qwen", "qwen3-0.6b", "Qwen3 0.6B", "Alibaba"});
  CHECK(models[1].openai->model == "deepseek-chat");
  CHECK(models[1].openai->api_key_env == std::optional<std::string>("DEEPSEEK_API_KEY"));
  CHECK(models[1].openai->max_concurrent_requests == 4);
  CHECK_FALSE(models[1].enabled);
  CHECK(models[1].display_name == "deepseek-chat");
  CHECK(backend_config_json(models[1]) ==
        R"({"base_url":"https://api.deepseek.com/v1","model":"deepseek-chat","api_key_env":"DEEPSEEK_API_KEY","max_concurrent_requests":4})");
}

TEST_CASE("registry errors name the file, the line and the field") {
  const auto error_of = [](const std::string& yaml) {
    try {
      parse_model_registry(yaml, "m.yaml");
    } catch (const input_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(error_of("models: 3") == "m.yaml:1: expected a top-level 'models:' list");
  CHECK(error_of("models:\n  - display_name: x\n    local: {path: a}\n").find("m.yaml:2: missing field 'name'") == 0);
  CHECK(error_of("models:\n  - name: a\n").find("needs a backend") != std::string::npos);
  CHECK(error_of("models:\n  - name: a\n    local: {path: x}\n  - name: a\n    local: {path: y}\n")
            .find("m.yaml:4: model 'a' is listed twice") == 0);
  CHECK(error_of("models:\n  - name: a\n    local: {path: x}\n    colour: red\n").find("m.yaml:4: unknown field 'colour'") == 0);
  CHECK(error_of("models:\n  - name: a\n    openai: {base_url: ftp://x}\n").find("base_url must start") != std::string::npos);
  CHECK(error_of("models:\n  - name: a\n    openai: {base_url: 'http://x', api_key: sk-123}\n").find("api_key_env") !=
        std::string::npos);
  CHECK(error_of("models:\n  - name: a\n    local: {path: x}\n    weight: -1\n").find("weight must be positive") !=
        std::string::npos);
  CHECK(error_of("models:\n  - name: 'bad name'\n    local: {path: x}\n").find("model name 'bad name'") !=
        std::string::npos);
  CHECK(error_of("models: [\n").find("m.yaml:") == 0);
}
