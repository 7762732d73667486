// `huashan worker`: works an arena's eval queue with local GGUF models.
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <map>

#include "cli/commands.hpp"
#include "common/error.hpp"
#include "common/log.hpp"
#include "harness/eval/worker.hpp"
#include "harness/local_backend.hpp"

namespace huashan::cli {

int run_worker(const global_options& /*global*/, const worker_options& o) {
  std::map<std::string, std::filesystem::path> files;
  for (const auto& spec : o.models) {
    const auto eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
      throw input_error(fmt::format("--model '{}' must be NAME=FILE.gguf", spec));
    files[spec.substr(0, eq)] = spec.substr(eq + 1);
  }
  if (o.models_dir && std::filesystem::is_directory(*o.models_dir))
    for (const auto& entry : std::filesystem::directory_iterator(*o.models_dir))
      if (entry.is_regular_file() && entry.path().extension() == ".gguf") files.emplace(entry.path().stem().string(), entry.path());
  if (files.empty())
    throw input_error("the worker has no models: give --model NAME=FILE.gguf or a --models-dir holding *.gguf files");

  harness::eval::worker_options w;
  w.arena_url = o.arena;
  if (const char* key = std::getenv(o.key_env.c_str()); key && *key) w.key = key;
  if (o.key) w.key = o.key;
  if (!w.key) throw input_error(fmt::format("the worker needs an arena API key: --key or ${}", o.key_env));
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  w.name = o.name.empty() ? fmt::format("{}-{}", host, ::getpid()) : o.name;
  for (const auto& [name, _] : files) w.models.push_back(name);
  w.suites_dirs = suite_search_dirs(o.suites_dirs);
  w.data_dir = o.data_dir;
  w.control_dir = control_texts_dir(w.suites_dirs);
  w.idle_poll = std::chrono::milliseconds(o.poll_ms);
  w.exit_when_idle = o.once;
  if (o.max_shards > 0) w.max_shards = o.max_shards;
  w.open_model = [&](const std::string& name) -> std::unique_ptr<harness::model_backend> {
    const auto it = files.find(name);
    if (it == files.end()) throw input_error(fmt::format("this worker has no model '{}'", name));
    engine::engine_config cfg;
    cfg.n_threads = o.threads;
    cfg.n_ctx = o.ctx_size;
    auto model = std::make_shared<harness::local_model>(name, it->second, cfg);
    return std::make_unique<harness::local_backend>(model);
  };
  log::info("worker {} on {} with model(s) {}", w.name, w.arena_url, fmt::join(w.models, ", "));
  std::atomic<bool> stop{false};
  const auto stats = harness::eval::run_worker(w, stop);
  log::info("worker {}: {} shard(s) done, {} lost, {} item(s) posted", w.name, stats.shards_done, stats.shards_lost,
            stats.items_posted);
  return 0;
}

}  // namespace huashan::cli
