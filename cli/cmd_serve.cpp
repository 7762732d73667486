// `huashan serve`: wires the store, the model backends (local GGUF models run
// by our engine, OpenAI-compatible endpoints), the services (battles,
// leaderboards, admin model management) and every route, then serves until
// SIGINT/SIGTERM.
#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <filesystem>

#include "arena/domain/session_token.hpp"
#include "arena/http/origin.hpp"
#include "arena/http/routes_arena.hpp"
#include "arena/http/routes_evals.hpp"
#include "arena/http/routes_health.hpp"
#include "arena/http/routes_leaderboard.hpp"
#include "arena/http/routes_openai.hpp"
#include "arena/http/routes_pages.hpp"
#include "arena/http/routes_static.hpp"
#include "arena/http/json.hpp"
#include "arena/http/server.hpp"
#include "arena/service/battle_service.hpp"
#include "arena/service/eval_service.hpp"
#include "arena/service/leaderboard_service.hpp"
#include "arena/service/metrics.hpp"
#include "arena/service/model_admin.hpp"
#include "arena/service/model_registry.hpp"
#include "arena/store/arena_store.hpp"
#include "arena/store/eval_store.hpp"
#include "arena/store/migrations.hpp"
#include "cli/commands.hpp"
#include "cli/leaderboard_process.hpp"
#include "common/config.hpp"
#include "common/error.hpp"
#include "common/log.hpp"
#include "harness/eval/request_cache.hpp"
#include "harness/local_backend.hpp"

namespace huashan::cli {
namespace {

// Each connection holds a descriptor: the soft limit (often 1024) is lifted
// to the hard one, as nginx's worker_rlimit_nofile or Go's runtime do, so the
// connection limit is what refuses connections, not EMFILE.
void raise_descriptor_limit(std::size_t connections) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  }
  // Descriptors beside the connections: database pool, models, logs, the leaderboard process.
  constexpr rlim_t others = 128;
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < connections + others)
    log::warn("open files are limited to {} (ulimit -n); --max-connections {} needs about {}", limit.rlim_cur,
              connections, connections + others);
}

// The registry file's models plus every GGUF in the models folder not already listed.
std::vector<arena::registered_model> registered_models(const serve_options& options) {
  std::vector<arena::registered_model> models;
  for (const auto& file : options.models_files) {
    for (auto& m : arena::load_model_registry(file)) {
      const bool duplicate = std::any_of(models.begin(), models.end(), [&](const auto& x) { return x.name == m.name; });
      if (duplicate) throw input_error(fmt::format("{}: model '{}' is also defined in an earlier --models file", file, m.name));
      models.push_back(std::move(m));
    }
  }
  if (options.models_dir && std::filesystem::is_directory(*options.models_dir)) {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(*options.models_dir))
      if (entry.is_regular_file() && entry.path().extension() == ".gguf") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      const auto name = file.stem().string();
      const bool listed = std::any_of(models.begin(), models.end(), [&](const auto& m) {
        return m.name == name || (m.local && std::filesystem::equivalent(m.local->path, file));
      });
      if (listed) continue;
      arena::registered_model m;
      m.name = name;
      m.display_name = name;
      m.local = arena::local_model_config{file};
      m.identity_words = {name};
      models.push_back(std::move(m));
    }
  }
  return models;
}

}  // namespace

int run_serve(const global_options& global, const serve_options& options) {
  const auto url = require_database_url(global);
  if (options.migrate) arena::store::migrate(url, arena::store::embedded_migrations());

  // Models: stored (so battles can reference them) and given a backend each.
  const auto registered = registered_models(options);
  arena::store::arena_store store({url, 8});
  std::vector<arena::model_record> records;
  for (const auto& m : registered)
    records.push_back({0, m.name, m.display_name, m.organization, m.license, m.local ? "local" : "openai",
                       arena::backend_config_json(m), m.enabled});
  // The file's enabled flag only disables: an admin's disable survives a restart.
  const auto stored = store.upsert_models(records, arena::store::arena_store::enabled_rule::keep_stored);

  engine::engine_config engine_config;
  engine_config.n_threads = options.engine_threads;
  std::vector<std::pair<std::string, std::filesystem::path>> local_files;
  for (const auto& m : registered)
    if (m.local && m.enabled) local_files.emplace_back(m.name, m.local->path);
  const auto local_models = harness::load_local_models(local_files, engine_config);

  // Every model the file enables is loaded; the stored flag says whether it is
  // drawn now (an admin can switch it at run time).
  std::vector<arena::arena_model> arena_models;
  for (std::size_t i = 0; i < registered.size(); ++i) {
    const auto& m = registered[i];
    if (!m.enabled) continue;
    arena::arena_model am;
    am.record = stored[i];
    am.weight = m.weight;
    am.identity_words = m.identity_words;
    am.random_weights = m.random_weights;
    am.backend = m.local ? std::make_shared<harness::local_backend>(local_models.at(m.name))
                         : arena::make_remote_backend(m);
    arena_models.push_back(std::move(am));
  }
  // Endpoints an admin added through the API (this process or another): kept
  // in the models table, offered again after a restart.
  std::vector<arena::model_record> table_models;
  try {
    table_models = store.list_models(true);
  } catch (const database_error& e) {
    // As with the vote counts below: serve anyway so /readyz can say what is wrong.
    log::warn("cannot read the models table yet ({})", e.what());
  }
  for (const auto& record : table_models) {
    const bool offered = std::any_of(arena_models.begin(), arena_models.end(),
                                     [&](const auto& am) { return am.record.name == record.name; });
    const bool in_files = std::any_of(registered.begin(), registered.end(),
                                      [&](const auto& m) { return m.name == record.name; });
    if (offered || in_files) continue;
    if (auto am = arena::endpoint_model_from_record(record)) arena_models.push_back(std::move(*am));
  }
  if (arena_models.size() < 2)
    log::warn("{} model(s) enabled: battles need two (add models with --models or --models-dir)", arena_models.size());

  arena::arena_metrics metrics;
  arena::battle_settings settings;
  settings.min_time_before_vote = std::chrono::milliseconds(options.min_vote_delay_ms);
  settings.votes_per_session = {options.votes_per_session_minute, std::max(1.0, options.votes_per_session_minute / 2)};
  settings.votes_per_address = {options.votes_per_address_minute, std::max(1.0, options.votes_per_address_minute / 2)};
  settings.battles_per_session = {options.battles_per_session_minute,
                                  std::max(1.0, options.battles_per_session_minute / 2)};
  settings.battles_per_address = {options.battles_per_address_minute,
                                  std::max(1.0, options.battles_per_address_minute / 2)};
  settings.sampling.policy = options.sampler;
  settings.sampler_seed = options.sampler_seed;
  arena::battle_service battles(store, std::move(arena_models), settings, &metrics);
  arena::model_admin admin(store, battles);  // before `boards`, whose thread uses it
  try {
    battles.load_vote_counts();
  } catch (const database_error& e) {
    // Serving anyway keeps /livez and /readyz up to say what is wrong.
    log::warn("cannot read vote counts yet ({}); is the database migrated? (huashan db migrate)", e.what());
  }

  // Leaderboards: recomputed in the background by whichever process holds the
  // lock, loaded by every process; the overall board feeds the active sampler.
  // With --leaderboard-recompute process (the default) a child process
  // recomputes and this one only loads what it stores.
  auto board_settings = leaderboard_settings_of(options.leaderboards);
  board_settings.recompute = options.leaderboard_recompute == "thread";
  std::optional<leaderboard_process> recompute_process;
  if (options.leaderboard_recompute == "process") recompute_process.emplace(url, options.leaderboards, global.log_level);
  arena::leaderboard_service boards(url, board_settings, &metrics);
  boards.on_overall_reload([&battles](const arena::sampler_leaderboard& board) { battles.set_leaderboard(board); });
  // Admin changes made through another arena process reach this one at the same pace.
  boards.on_background_tick([&admin] {
    if (const auto added = admin.sync(); added > 0)
      log::info("models: {} endpoint(s) added from the models table", added);
  });
  boards.start();

  arena::http::arena_routes_options route_options;
  if (options.session_secret_hex) {
    route_options.secret = arena::parse_session_secret(*options.session_secret_hex);
  } else {
    route_options.secret = arena::random_session_secret();
    log::warn("no HUASHAN_SESSION_SECRET: sessions are signed with a random key and end when the server restarts");
  }
  route_options.secure_cookie = options.secure_cookie;
  for (const auto& origin : options.allowed_origins) {
    if (const auto problem = arena::http::origin_problem(origin))
      throw input_error(fmt::format("--allowed-origin '{}': {}", origin, *problem));
    route_options.allowed_origins.push_back(origin);
  }
  route_options.database_url = url;

  // Eval runs: queued for workers, published by `huashan eval --publish`.
  arena::store::eval_store eval_store(url, 8);
  arena::eval_service_options eval_options;
  eval_options.suites_dirs = suite_search_dirs(options.eval_suites_dirs);
  eval_options.data_dir = options.eval_data_dir;
  eval_options.lease = std::chrono::milliseconds(options.eval_lease_ms);
  eval_options.shard_size = options.eval_shard_size;
  eval_options.max_attempts = options.eval_max_attempts;
  arena::eval_service evals(eval_store, eval_options);
  // A local model's fingerprint ties its arena votes to eval runs of the same weights.
  for (const auto& [name, model] : local_models) {
    try {
      const auto fp = harness::local_backend(model).fingerprint();
      std::string fields = "{";
      for (const auto& [k, v] : fp.fields)
        fields += fmt::format("{}{}:{}", fields.size() > 1 ? "," : "", arena::http::json_quote(k), arena::http::json_quote(v));
      eval_store.link_model_fingerprint(name, {harness::eval::same_model_digest(fp), fp.kind, fields + "}"});
    } catch (const std::exception& e) {
      log::warn("model {}: fingerprint not recorded ({})", name, e.what());
    }
  }

  arena::http::router routes;
  arena::http::add_health_routes(routes, global.database_url, [&battles] {
    arena::http::model_readiness m;
    for (const auto& model : battles.models()) {
      ++m.offered;
      if (model.record.enabled) ++m.enabled;
    }
    return m;
  });
  arena::http::add_metrics_route(routes, metrics);
  const auto web = options.web_dir ? arena::http::web_assets::from_folder(*options.web_dir)
                                   : arena::http::web_assets::compiled_in();
  arena::http::add_static_routes(routes, web);
  arena::http::add_page_routes(routes, {web, &boards, &evals, &admin});
  arena::http::add_arena_routes(routes, battles, admin, route_options);
  arena::http::add_leaderboard_routes(routes, boards);
  arena::http::add_eval_routes(routes, evals, url);
  arena::http::add_openai_routes(routes, local_models);

  arena::http::server_options server_opts;
  server_opts.host = options.host;
  server_opts.port = options.port;
  server_opts.threads = options.threads;
  server_opts.max_connections = static_cast<std::size_t>(options.max_connections);
  raise_descriptor_limit(server_opts.max_connections);
  const auto eval_body = static_cast<std::size_t>(options.eval_body_mb) << 20;
  server_opts.body_limit_by_prefix = {{"/api/evals", eval_body}, {"/api/eval-shards/", eval_body}};
  server_opts.on_response = [&metrics](const arena::http::request& req, const std::string& route, int status,
                                       double seconds) {
    metrics.observe_request(req.method, route, status, seconds);
    // The access log: one structured line per request.
    log::info("access method={} path={} route={} status={} ms={:.1f} peer={}", req.method, req.path, route, status,
              seconds * 1000.0, req.remote_address);
  };
  arena::http::server server(server_opts, std::move(routes));
  server.listen();
  log::info("huashan serving on http://{}:{} with {} model(s) (database {})", options.host, server.port(),
            battles.models().size(), config::redact_url(url));
  server.run();
  if (recompute_process) recompute_process->stop();
  boards.stop();
  return 0;
}

}  // namespace huashan::cli
