// Entry point: parses flags and HUASHAN_* variables with CLI11 and calls the
// subcommand. Errors the project throws on purpose print as one line.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>

#include "cli/commands.hpp"
#include "common/build_info.hpp"
#include "common/config.hpp"
#include "common/error.hpp"
#include "common/log.hpp"

namespace {

// The leaderboard options `serve` and `leaderboards` share.
void add_leaderboard_options(CLI::App& command, huashan::cli::leaderboard_options& o) {
  command.add_option("--leaderboard-interval", o.interval_s,
                     "Seconds between checks for new votes (a recompute runs only when votes moved)")
      ->envname("HUASHAN_LEADERBOARD_INTERVAL")
      ->check(CLI::Range(0.1, 86400.0))
      ->capture_default_str();
  command.add_option("--leaderboard-bootstrap", o.bootstrap, "Bootstrap rounds per leaderboard (0: sandwich intervals)")
      ->envname("HUASHAN_LEADERBOARD_BOOTSTRAP")
      ->check(CLI::Range(0u, 100000u))
      ->capture_default_str();
  command.add_option("--leaderboard-style-intervals", o.style_intervals,
                     "Style-controlled boards' intervals: sandwich, or bootstrap (as many rounds as the plain boards)")
      ->envname("HUASHAN_LEADERBOARD_STYLE_INTERVALS")
      ->check(CLI::IsMember({"sandwich", "bootstrap"}))
      ->capture_default_str();
  command.add_option("--leaderboard-seed", o.seed, "Bootstrap seed (recorded in each snapshot)")->capture_default_str();
  command.add_flag("--leaderboard-ipw", o.ipw, "Weight each battle by 1 / its sampling probability (inverse propensity)")
      ->envname("HUASHAN_LEADERBOARD_IPW");
}

}  // namespace

int main(int argc, char** argv) {
  using namespace huashan;
  CLI::App app{"huashan: model evaluation and arena leaderboard service", "huashan"};
  app.set_version_flag("--version", fmt::format("huashan {}", build_info::version));
  app.require_subcommand(1);

  cli::global_options global;
  global.database_url = config::database_url_from_env();
  std::string database_url_flag;
  app.add_option("--database-url", database_url_flag,
                 "PostgreSQL URL (default: $DATABASE_URL or $HUASHAN_DATABASE_URL)");
  app.add_option("--log-level", global.log_level, "trace|debug|info|warn|error|off")
      ->envname("HUASHAN_LOG_LEVEL")
      ->capture_default_str();

  auto* doctor = app.add_subcommand("doctor", "Show build options, CPU features, CUDA devices and database reachability");

  auto* db = app.add_subcommand("db", "Database schema");
  db->require_subcommand(1);
  cli::db_options db_opts;
  std::string migrations_dir;
  db->add_option("--migrations-dir", migrations_dir, "Read migrations from this folder instead of the built-in ones")
      ->envname("HUASHAN_MIGRATIONS_DIR");
  auto* db_migrate = db->add_subcommand("migrate", "Apply pending migrations (no-op when current)");
  auto* db_status = db->add_subcommand("status", "List migrations and whether each is applied");
  auto* db_export = db->add_subcommand("export-battles", "Write the counted votes as CSV in LMArena's columns (GET /api/battles.csv)");
  cli::db_export_options db_export_opts;
  std::string db_export_output;
  db_export->add_option("-o,--output", db_export_output, "Output file (default: stdout)");
  auto* db_recompute = db->add_subcommand("recompute-snapshot", "Recompute a stored leaderboard snapshot and compare it byte for byte");
  std::int64_t db_recompute_id = 0;
  db_recompute->add_option("snapshot", db_recompute_id, "Snapshot id")->required();

  auto* leaderboards = app.add_subcommand(
      "leaderboards", "Recompute the live leaderboards whenever votes move, serving nothing (serve starts one)");
  cli::leaderboard_options leaderboards_opts;
  add_leaderboard_options(*leaderboards, leaderboards_opts);
  bool exit_with_parent = false;
  leaderboards->add_flag("--exit-with-parent", exit_with_parent, "End when the process that started this one ends");

  auto* serve = app.add_subcommand("serve", "Serve the arena over HTTP");
  cli::serve_options serve_opts;
  std::string port_text = "8080";
  serve->add_option("--host", serve_opts.host, "Listen address")->envname("HUASHAN_HOST")->capture_default_str();
  serve->add_option("--port", port_text, "Listen port")->envname("HUASHAN_PORT")->capture_default_str();
  serve->add_option("--threads", serve_opts.threads, "HTTP worker threads")
      ->envname("HUASHAN_HTTP_THREADS")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  serve->add_flag("--migrate", serve_opts.migrate, "Apply pending migrations before serving");
  std::string models_dir, session_secret;
  serve->add_option("--models", serve_opts.models_files,
                    "Model registry YAML (local GGUF files and OpenAI-compatible endpoints); repeatable")
      ->envname("HUASHAN_MODELS");
  serve->add_option("--models-dir", models_dir, "Also offer every *.gguf in this folder as a local model")
      ->envname("HUASHAN_MODELS_DIR");
  serve->add_option("--session-secret", session_secret, "64 hex digits signing session cookies (default: random per start)")
      ->envname("HUASHAN_SESSION_SECRET");
  serve->add_flag("--secure-cookie", serve_opts.secure_cookie, "Mark the session cookie Secure (behind https)");
  serve->add_option("--allowed-origin", serve_opts.allowed_origins,
                    "Origin (scheme://host[:port]) whose pages may start battles and vote; repeatable "
                    "(default: this server's own, from the Host header)")
      ->envname("HUASHAN_ALLOWED_ORIGINS")
      ->delimiter(',');
  serve->add_option("--engine-threads", serve_opts.engine_threads, "Threads per local model (0: all cores)")
      ->envname("HUASHAN_ENGINE_THREADS");
  serve->add_option("--min-vote-delay-ms", serve_opts.min_vote_delay_ms,
                    "Milliseconds a vote must wait after both answers finished")
      ->envname("HUASHAN_MIN_VOTE_DELAY_MS")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{3600000}))
      ->capture_default_str();
  serve->add_option("--votes-per-session-minute", serve_opts.votes_per_session_minute,
                    "Votes a session may cast a minute (bursts of half that)")
      ->envname("HUASHAN_VOTES_PER_SESSION_MINUTE")
      ->check(CLI::Range(1.0, 1e9))
      ->capture_default_str();
  serve->add_option("--votes-per-address-minute", serve_opts.votes_per_address_minute,
                    "Votes one client address may cast a minute (bursts of half that)")
      ->envname("HUASHAN_VOTES_PER_ADDRESS_MINUTE")
      ->check(CLI::Range(1.0, 1e9))
      ->capture_default_str();
  serve->add_option("--battles-per-session-minute", serve_opts.battles_per_session_minute,
                    "Battles a session may start a minute (bursts of half that)")
      ->envname("HUASHAN_BATTLES_PER_SESSION_MINUTE")
      ->check(CLI::Range(1.0, 1e9))
      ->capture_default_str();
  serve->add_option("--battles-per-address-minute", serve_opts.battles_per_address_minute,
                    "Battles and turns one client address may start a minute (bursts of half that)")
      ->envname("HUASHAN_BATTLES_PER_ADDRESS_MINUTE")
      ->check(CLI::Range(1.0, 1e9))
      ->capture_default_str();
  add_leaderboard_options(*serve, serve_opts.leaderboards);
  serve->add_option("--leaderboard-recompute", serve_opts.leaderboard_recompute,
                    "Where the leaderboards are recomputed when votes move: process (a `huashan leaderboards` child "
                    "process, restarted if it exits), thread (in this process) or off (another arena process on "
                    "the same database does; this one serves what it stores)")
      ->envname("HUASHAN_LEADERBOARD_RECOMPUTE")
      ->check(CLI::IsMember({"process", "thread", "off"}))
      ->capture_default_str();
  std::string sampler_text = "weighted";
  std::uint64_t sampler_seed = 0;
  serve->add_option("--sampler", sampler_text, "Pair-sampling policy: uniform, weighted or active")
      ->envname("HUASHAN_SAMPLER")
      ->capture_default_str();
  auto* sampler_seed_opt =
      serve->add_option("--sampler-seed", sampler_seed, "Seed for the pair draws (default: random per start)")
          ->envname("HUASHAN_SAMPLER_SEED");
  serve->add_option("--suites-dir", serve_opts.eval_suites_dirs, "Eval runs: where suite names are looked up (repeatable; default ./benchmarks)");
  serve->add_option("--data-dir", serve_opts.eval_data_dir, "Eval runs: the suites' datasets (dataset_path)")
      ->envname("HUASHAN_DATA_DIR")->capture_default_str();
  serve->add_option("--eval-lease-ms", serve_opts.eval_lease_ms, "Eval runs: a worker's lease on a shard, renewed by its heartbeats")
      ->check(CLI::Range(std::int64_t{100}, std::int64_t{86'400'000}))->capture_default_str();
  serve->add_option("--eval-shard-size", serve_opts.eval_shard_size, "Eval runs: documents per shard unless the request says")
      ->check(CLI::Range(1, 1'000'000))->capture_default_str();
  serve->add_option("--eval-max-attempts", serve_opts.eval_max_attempts, "Eval runs: leases of one shard before it fails")
      ->check(CLI::Range(1, 1000))->capture_default_str();
  serve->add_option("--eval-body-mb", serve_opts.eval_body_mb, "Eval runs: largest request body on /api/evals and /api/eval-shards (MiB)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{4096}))->capture_default_str();
  serve->add_option("--max-connections", serve_opts.max_connections,
                    "Connections open at once; at the limit the one waiting longest for a request is closed for a new one")
      ->check(CLI::Range(std::int64_t{4}, std::int64_t{1'000'000}))->capture_default_str();
  serve->add_option("--web-dir", serve_opts.web_dir,
                    "Serve the pages' files (web/) from this folder, read on every request, instead of the "
                    "copies built into the binary: for working on the pages")
      ->check(CLI::ExistingDirectory);

  auto* simulate = app.add_subcommand(
      "simulate",
      "Votes each pair-sampling policy needs in a synthetic arena to get the top-k order right; "
      "`simulate attack`: votes a bloc of sessions needs to move one model up a rank");
  cli::simulate_options sim;
  simulate->add_option("--models", sim.simulation.models, "Models in the synthetic arena")->capture_default_str();
  simulate->add_option("--top-k", sim.simulation.top_k, "Top of the board whose order must be right")->capture_default_str();
  simulate->add_option("--target", sim.simulation.target_probability, "Share of replicates that must get it right")
      ->capture_default_str();
  simulate->add_option("--replicates", sim.simulation.replicates, "Independent arenas per policy")->capture_default_str();
  simulate->add_option("--max-votes", sim.simulation.max_votes, "Votes simulated per arena")->capture_default_str();
  simulate->add_option("--checkpoint", sim.simulation.checkpoint_every, "Votes between leaderboard checks")
      ->capture_default_str();
  simulate->add_option("--rating-sd", sim.simulation.rating_sd, "Spread of the true ratings (log10 units)")
      ->capture_default_str();
  simulate->add_option("--tie-rate", sim.simulation.tie_rate, "Share of ties")->capture_default_str();
  simulate->add_option("--policies", sim.policies, "Comma-separated: uniform, weighted, active")->capture_default_str();
  simulate->add_option("--seed", sim.simulation.seed, "Seed")->capture_default_str();
  auto* simulate_attack = simulate->add_subcommand(
      "attack",
      "Votes a bloc of sessions that always votes for one model (recognised by its style) needs to move it up one "
      "rank: with battles of its choosing, against the arena's random anonymous pairing, and with the per-session "
      "consensus test on top (docs/reliability.md)");
  arena::attack_options attack;
  simulate_attack->add_option("--models", attack.models, "Models in the synthetic arena")->capture_default_str();
  simulate_attack->add_option("--rating-sd", attack.rating_sd, "Spread of the true ratings (log10 units)")
      ->capture_default_str();
  simulate_attack->add_option("--tie-rate", attack.tie_rate, "Share of honest votes that are ties")->capture_default_str();
  simulate_attack->add_option("--target-rank", attack.target_rank, "True rank of the attacked model (1 = best)")
      ->capture_default_str();
  simulate_attack->add_option("--honest-votes", attack.honest_votes, "Honest votes before the attack")
      ->capture_default_str();
  simulate_attack->add_option("--honest-session-votes", attack.honest_session_votes,
                              "Mean votes of an honest session (1 + geometric)")
      ->capture_default_str();
  simulate_attack->add_option("--recognition", attack.recognition,
                              "Chance the attacker recognises the target's answer")
      ->capture_default_str();
  simulate_attack->add_option("--false-alarm", attack.false_alarm,
                              "Chance the attacker takes another model's answer for the target's")
      ->capture_default_str();
  simulate_attack->add_option("--votes-per-session", attack.votes_per_session,
                              "Attacker votes per session (the per-session vote limit as a session total)")
      ->capture_default_str();
  simulate_attack->add_option("--max-sessions", attack.max_sessions,
                              "Attacker sessions; the attack stops at sessions x votes per session")
      ->capture_default_str();
  simulate_attack->add_option("--check-every", attack.check_every, "Attacker votes between refits")
      ->capture_default_str();
  simulate_attack->add_option("--replicates", attack.replicates, "Independent arenas (the figures are medians)")
      ->capture_default_str();
  simulate_attack->add_option("--seed", attack.seed, "Seed")->capture_default_str();
  simulate_attack->add_option("--consensus-threshold", attack.consensus.threshold,
                              "Flag a session whose likelihood z-score is below minus this")
      ->capture_default_str();
  simulate_attack->add_option("--consensus-min-votes", attack.consensus.min_votes,
                              "Decisive votes a session needs to be tested")
      ->capture_default_str();
  simulate_attack->add_option("--consensus-floor", attack.consensus.floor, "Weight of a flagged session's battles")
      ->capture_default_str();
  simulate_attack->add_option("--consensus-rounds", attack.consensus.rounds, "Score-and-refit passes per recompute")
      ->capture_default_str();

  auto* admin = app.add_subcommand("admin", "Administration");
  admin->require_subcommand(1);
  std::string key_name;
  auto* admin_create = admin->add_subcommand("create-key", "Create an admin API key (printed once)");
  admin_create->add_option("--name", key_name, "A name for the key")->required();
  auto* admin_revoke = admin->add_subcommand("revoke-key", "Revoke an admin API key");
  admin_revoke->add_option("--name", key_name, "The key's name")->required();

  auto* generate = app.add_subcommand("generate", "Run a GGUF model on a prompt, streaming the text");
  cli::generate_options gen_opts;
  std::string prompt_file;
  generate->add_option("--model,-m", gen_opts.model, "GGUF model file")->required();
  generate->add_option("--prompt,-p", gen_opts.prompt, "Prompt text");
  generate->add_option("-f,--file", prompt_file, "Read the prompt from this file");
  generate->add_option("-n,--n-predict", gen_opts.n_predict, "Tokens to generate")->capture_default_str();
  generate->add_option("--temp", gen_opts.temperature, "Temperature (0 = greedy)")->capture_default_str();
  generate->add_option("--top-k", gen_opts.top_k, "Top-k (0 = off)")->capture_default_str();
  generate->add_option("--top-p", gen_opts.top_p, "Top-p (1 = off)")->capture_default_str();
  generate->add_option("--min-p", gen_opts.min_p, "Min-p (0 = off)")->capture_default_str();
  generate->add_option("--repeat-penalty", gen_opts.repeat_penalty, "Repetition penalty (1 = off)")->capture_default_str();
  generate->add_option("--seed,-s", gen_opts.seed, "Sampling seed (< 0: random)")->capture_default_str();
  generate->add_option("--stop", gen_opts.stop, "Stop string (repeatable)");
  generate->add_flag("--ignore-eos", gen_opts.ignore_eos, "Keep generating past end-of-generation tokens");
  generate->add_flag("--chat", gen_opts.chat, "Wrap the prompt in the model's own chat template (its tokenizer.chat_template)");
  generate->add_option("--threads,-t", gen_opts.threads, "CPU threads (0 = all)")->capture_default_str();
  generate->add_option("--ctx-size,-c", gen_opts.ctx_size, "Context size in tokens")->capture_default_str();
  generate->add_option("--kv-budget-mib", gen_opts.kv_budget_mib, "KV cache memory budget (MiB)")->capture_default_str();

  auto* score = app.add_subcommand("score", "Teacher-forced log-probabilities of a continuation after a prompt");
  cli::score_options score_opts;
  std::string continuation_ids;
  score->add_option("--model,-m", score_opts.model, "GGUF model file")->required();
  score->add_option("--prompt,-p", score_opts.prompt, "Context text (BOS added as the vocab says)")->required();
  auto* cont_text = score->add_option("--continuation", score_opts.continuation, "Continuation text");
  auto* cont_ids = score->add_option("--continuation-ids", continuation_ids, "Continuation token ids, e.g. 1,2,3");
  cont_text->excludes(cont_ids);
  score->add_option("--top", score_opts.top_n, "Alternatives shown per token")->capture_default_str();
  score->add_flag("--json", score_opts.json, "Print JSON");
  score->add_option("--threads,-t", score_opts.threads, "CPU threads (0 = all)")->capture_default_str();
  score->add_option("--ctx-size,-c", score_opts.ctx_size, "Context size in tokens")->capture_default_str();

  auto* eval = app.add_subcommand("eval", "Run benchmark suites (lm-evaluation-harness task YAML) against a model");
  cli::eval_options eval_opts;
  std::string eval_output, eval_cache_dir, eval_base_url;
  std::int32_t eval_num_fewshot = 0;
  std::int64_t eval_limit = 0;
  std::uint64_t eval_seed = 0;
  auto* eval_model_opt = eval->add_option("--model,-m", eval_opts.model, "GGUF model file, or the model name at --base-url")->required();
  auto* eval_suite_opt = eval->add_option("--suite,-s", eval_opts.suites, "Suites: task or group names, or YAML files (comma-separated, repeatable)")->required();
  auto* eval_num_fewshot_opt = eval->add_option("--num-fewshot", eval_num_fewshot, "Few-shot examples (default: each suite's num_fewshot)");
  auto* eval_limit_opt = eval->add_option("--limit", eval_limit, "Only the first N documents of each task");
  eval->add_option("--batch-size", eval_opts.batch_size, "Requests per backend call: auto or N")->capture_default_str();
  auto* eval_seed_opt = eval->add_option("--seed", eval_seed, "Seed for few-shot sampling, bootstrap and sampled generation");
  eval->add_option("--output,-o", eval_output, "Folder for results.json and samples_{task}.jsonl");
  eval->add_option("--data-dir", eval_opts.data_dir, "Folder holding the suites' datasets (dataset_path)")->envname("HUASHAN_DATA_DIR")->capture_default_str();
  eval->add_option("--suites-dir", eval_opts.suites_dirs, "Where suite names are looked up (repeatable; default ./benchmarks)");
  eval->add_option("--cache-dir", eval_cache_dir, "Answers cache (default $XDG_CACHE_HOME/huashan/eval)")->envname("HUASHAN_EVAL_CACHE");
  eval->add_flag("--no-cache", eval_opts.no_cache, "Neither read nor write the answers cache");
  eval->add_flag("--circular", eval_opts.circular, "Ask each multiple-choice question once per rotation of its options; acc_circular counts those right in all");
  eval->add_option("--bootstrap-iters", eval_opts.bootstrap_iters, "Resamples for non-mean metrics' standard errors")->capture_default_str();
  eval->add_option("--base-url", eval_base_url, "An OpenAI-compatible server (e.g. http://127.0.0.1:8080/v1) instead of a local file");
  eval->add_option("--api-key-env", eval_opts.api_key_env, "Environment variable holding the server's API key")->capture_default_str();
  eval->add_option("--concurrency", eval_opts.concurrency, "Requests in flight to --base-url")->capture_default_str();
  eval->add_option("--threads,-t", eval_opts.threads, "Local model: CPU threads (0 = all)")->capture_default_str();
  eval->add_option("--ctx-size,-c", eval_opts.ctx_size, "Local model: context size in tokens")->capture_default_str();
  std::string eval_publish, eval_publish_key, eval_publish_model;
  eval->add_option("--publish", eval_publish, "Send the finished run to this arena (http://host:port)");
  eval->add_option("--key", eval_publish_key, "The arena's API key for --publish (default $HUASHAN_API_KEY)");
  eval->add_option("--publish-model", eval_publish_model, "The model's name at the arena (default: the file's stem, or --model)");

  auto* worker = app.add_subcommand("worker", "Take eval shards from an arena's queue and run them with local models");
  cli::worker_options worker_opts;
  std::string worker_key, worker_models_dir;
  worker->add_option("--arena", worker_opts.arena, "The arena (http://host:port)")->required();
  worker->add_option("--key", worker_key, "An API key of the arena (default $HUASHAN_API_KEY)");
  worker->add_option("--name", worker_opts.name, "This worker's name in leases and logs (default host-pid)");
  worker->add_option("--model", worker_opts.models, "NAME=FILE.gguf: a model this worker runs (repeatable)");
  worker->add_option("--models-dir", worker_models_dir, "Every *.gguf here, named by its file name without .gguf");
  worker->add_option("--suites-dir", worker_opts.suites_dirs, "Where suite names are looked up (repeatable; default ./benchmarks)");
  worker->add_option("--data-dir", worker_opts.data_dir, "The suites' datasets (dataset_path)")->envname("HUASHAN_DATA_DIR")->capture_default_str();
  worker->add_option("--threads,-t", worker_opts.threads, "CPU threads per model (0 = all)")->capture_default_str();
  worker->add_option("--ctx-size,-c", worker_opts.ctx_size, "Context size in tokens")->capture_default_str();
  worker->add_option("--poll-ms", worker_opts.poll_ms, "Milliseconds between claims while the queue is empty")
      ->check(CLI::Range(std::int64_t{10}, std::int64_t{600'000}))->capture_default_str();
  worker->add_flag("--once", worker_opts.once, "Stop when the queue is empty");
  worker->add_option("--max-shards", worker_opts.max_shards, "Stop after this many shards (0: no limit)")->capture_default_str();
  std::string eval_prefix_cache = "on";
  eval->add_option("--prefix-cache", eval_prefix_cache, "Local model: reuse shared prompt prefixes' K/V: on|off")->capture_default_str();
  auto* eval_compare = eval->add_subcommand("compare", "Paired comparison of two eval runs (results.json or --output folders)");
  cli::eval_compare_options eval_compare_opts;
  std::string eval_compare_json;
  eval_compare->add_option("A", eval_compare_opts.run_a, "First run: results.json or its folder")->required();
  eval_compare->add_option("B", eval_compare_opts.run_b, "Second run: results.json or its folder")->required();
  eval_compare->add_option("--json", eval_compare_json, "Also write the comparison as JSON to this file");
  // A comparison runs no model: eval's own required options do not apply.
  eval_compare->preparse_callback([eval_model_opt, eval_suite_opt](std::size_t) {
    eval_model_opt->required(false);
    eval_suite_opt->required(false);
  });
  eval->add_flag("--no-determinism-check", eval_opts.no_determinism_check,
                 "Do not re-ask a few documents at batch 1 and batched to record whether answers depend on the batch");
  eval->add_flag("--contamination", eval_opts.contamination,
                 "Compare the model's likelihood of test questions with few-shot questions and control text (a hint per task)");

  auto* rank = app.add_subcommand("rank", "Leaderboard (Bradley-Terry, bootstrap intervals, Elo, style control) from a battles file");
  cli::rank_options rank_opts;
  std::string rank_category, rank_language, rank_anchor;
  rank->add_option("file", rank_opts.file, "Battles file: CSV or JSONL (LMArena columns model_a,model_b,winner,...)")->required();
  rank->add_option("--bootstrap", rank_opts.bootstrap, "Bootstrap rounds (0 = sandwich intervals)")->capture_default_str();
  rank->add_option("--intervals", rank_opts.intervals,
                   "bootstrap (quantiles of --bootstrap rounds) | sandwich (robust covariance, no resampling)")
      ->check(CLI::IsMember({"bootstrap", "sandwich"}))
      ->capture_default_str();
  rank->add_option("--seed", rank_opts.seed, "Bootstrap seed")->capture_default_str();
  rank->add_option("--threads", rank_opts.threads, "Worker threads (0 = all cores)")->capture_default_str();
  rank->add_flag("--style-control", rank_opts.style_control, "Style-adjusted ratings (length, headers, lists, bold)");
  rank->add_option("--style-penalty", rank_opts.style_penalty, "all (FastChat) | coefficients (LMArena's newer variant)")->capture_default_str();
  rank->add_option("--category", rank_category, "Only battles tagged with this category");
  rank->add_option("--language", rank_language, "Only battles in this language (detected from the prompt when absent)");
  rank->add_option("--anchor", rank_anchor, "Pin a model's rating: MODEL=RATING");
  rank->add_option("--min-votes", rank_opts.min_votes, "Hide models with fewer battles")->capture_default_str();
  rank->add_flag("--reweight", rank_opts.reweight, "Pair weights 1/max(pair battles, 50)");
  rank->add_flag("--ipw", rank_opts.inverse_propensity,
                 "Weight each battle by 1 / its sampling_probability column (inverse propensity)");
  rank->add_flag("--elo", rank_opts.elo, "Add online Elo (chronological)");
  rank->add_option("--elo-k", rank_opts.elo_k, "Online Elo K")->capture_default_str();
  rank->add_option("--ties", rank_opts.ties, "half | rao-kupper | davidson")->capture_default_str();
  rank->add_flag("--robustness", rank_opts.robustness, "Votes needed to swap each adjacent pair");
  rank->add_flag("--matrices", rank_opts.matrices, "Battle counts, win fractions and predicted win probabilities");
  rank->add_option("--format", rank_opts.format, "table | json | csv")->capture_default_str();
  rank->add_flag("--session-consensus", rank_opts.session_consensus,
                 "Leave out the battles of judges whose votes are improbable under the ratings (needs a judge column)");
  rank->add_option("--consensus-threshold", rank_opts.consensus_threshold,
                   "--session-consensus: flag a judge whose likelihood z-score is below minus this")
      ->capture_default_str();
  rank->add_option("--consensus-min-votes", rank_opts.consensus_min_votes,
                   "--session-consensus: decisive votes a judge needs to be tested")
      ->capture_default_str();

  auto* model = app.add_subcommand("model", "GGUF models: inspect, write a synthetic one, download");
  model->require_subcommand(1);
  auto* model_info = model->add_subcommand("info", "Architecture, parameters, tensor types, tokenizer of a GGUF file");
  cli::model_info_options model_info_opts;
  model_info->add_option("file", model_info_opts.file, "GGUF file")->required();
  model_info->add_flag("-v,--verbose", model_info_opts.verbose, "Also list every metadata key and tensor");
  auto* model_synth = model->add_subcommand("synth", "Write a GGUF of a real architecture's shape with seeded random weights");
  cli::model_synth_options synth_opts;
  std::string synth_tokenizer;
  model_synth->add_option("--arch", synth_opts.arch, "qwen3 | qwen2 | llama")->capture_default_str();
  model_synth->add_option("--layers", synth_opts.layers, "Blocks")->capture_default_str();
  model_synth->add_option("--dim", synth_opts.dim, "Embedding length")->capture_default_str();
  model_synth->add_option("--heads", synth_opts.heads, "Attention heads")->capture_default_str();
  model_synth->add_option("--kv-heads", synth_opts.kv_heads, "Key/value heads")->capture_default_str();
  model_synth->add_option("--ffn", synth_opts.ffn, "Feed-forward length")->capture_default_str();
  model_synth->add_option("--vocab", synth_opts.vocab, "Vocabulary size (0: the tokenizer's; synthetic 4096)")->capture_default_str();
  model_synth->add_option("--head-dim", synth_opts.head_dim, "Head dimension (0: dim / heads)")->capture_default_str();
  model_synth->add_option("--ctx", synth_opts.ctx, "Context length (0: the architecture's default)")->capture_default_str();
  model_synth->add_option("--type", synth_opts.type, "f16 | q8_0 | q4_k")->capture_default_str();
  model_synth->add_option("--seed", synth_opts.seed, "Seed of the weights")->capture_default_str();
  model_synth->add_flag("--tied", synth_opts.tied, "Output projection tied to the token embedding");
  model_synth->add_flag("--untied", synth_opts.untied, "Separate output.weight");
  model_synth->add_option("--tokenizer-from", synth_tokenizer, "Copy the tokenizer from FILE.gguf or a tokenizer.json");
  model_synth->add_option("--threads", synth_opts.threads, "Threads (0: all cores)")->capture_default_str();
  model_synth->add_option("-o,--output", synth_opts.output, "Output .gguf file")->required();
  auto* model_quantize = model->add_subcommand("quantize", "Rewrite a GGUF with its weight matrices in another type");
  cli::model_quantize_options quantize_opts;
  model_quantize->add_option("input", quantize_opts.input, "Input .gguf")->required();
  model_quantize->add_option("output", quantize_opts.output, "Output .gguf")->required();
  model_quantize->add_option("--type", quantize_opts.type, "f16 | bf16 | q8_0 | q4_0 | q4_k | q6_k")->capture_default_str();
  model_quantize->add_flag("-v,--verbose", quantize_opts.verbose, "List the tensors kept in their own type");
  auto* model_pull = model->add_subcommand("pull", "Download a GGUF (resume, progress, sha256) into the models folder");
  cli::model_pull_options pull_opts;
  std::string pull_sha;
  model_pull->add_option("source", pull_opts.source, "URL or hf:OWNER/REPO/FILE.gguf")->required();
  model_pull->add_option("--models-dir", pull_opts.models_dir, "Folder to save into")
      ->envname("HUASHAN_MODELS_DIR")
      ->capture_default_str();
  model_pull->add_option("--sha256", pull_sha, "Expected sha256 (64 hex digits)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  try {
    log::set_level(log::parse_level(global.log_level));
    if (!database_url_flag.empty()) global.database_url = database_url_flag;
    if (!migrations_dir.empty()) db_opts.migrations_dir = migrations_dir;
    if (*doctor) return cli::run_doctor(global);
    if (*db_migrate) return cli::run_db_migrate(global, db_opts);
    if (*db_status) return cli::run_db_status(global, db_opts);
    if (*db_export) {
      if (!db_export_output.empty()) db_export_opts.output = db_export_output;
      return cli::run_db_export_battles(global, db_export_opts);
    }
    if (*db_recompute) return cli::run_db_recompute_snapshot(global, db_recompute_id);
    if (*generate) {
      if (!prompt_file.empty()) gen_opts.prompt_file = prompt_file;
      if (gen_opts.prompt.empty() && !gen_opts.prompt_file) throw input_error("generate: give --prompt TEXT or -f FILE");
      return cli::run_generate(global, gen_opts);
    }
    if (*score) {
      if (!continuation_ids.empty()) score_opts.continuation_ids = continuation_ids;
      if (score_opts.continuation.empty() && !score_opts.continuation_ids) {
        throw input_error("score: give --continuation TEXT or --continuation-ids 1,2,3");
      }
      return cli::run_score(global, score_opts);
    }
    if (*eval_compare) {
      if (!eval_compare_json.empty()) eval_compare_opts.json_output = eval_compare_json;
      return cli::run_eval_compare(global, eval_compare_opts);
    }
    if (*eval) {
      if (!eval_output.empty()) eval_opts.output = eval_output;
      if (!eval_cache_dir.empty()) eval_opts.cache_dir = eval_cache_dir;
      if (!eval_base_url.empty()) eval_opts.base_url = eval_base_url;
      if (eval_num_fewshot_opt->count() > 0) eval_opts.num_fewshot = eval_num_fewshot;
      if (eval_limit_opt->count() > 0) eval_opts.limit = eval_limit;
      if (eval_seed_opt->count() > 0) eval_opts.seed = eval_seed;
      if (eval_prefix_cache != "on" && eval_prefix_cache != "off")
        throw input_error(fmt::format("--prefix-cache '{}' is neither on nor off", eval_prefix_cache));
      eval_opts.prefix_cache = eval_prefix_cache == "on";
      if (!eval_publish.empty()) eval_opts.publish = eval_publish;
      if (!eval_publish_key.empty()) eval_opts.publish_key = eval_publish_key;
      if (!eval_publish_model.empty()) eval_opts.publish_model = eval_publish_model;
      return cli::run_eval(global, eval_opts);
    }
    if (*worker) {
      if (!worker_key.empty()) worker_opts.key = worker_key;
      if (!worker_models_dir.empty()) worker_opts.models_dir = worker_models_dir;
      return cli::run_worker(global, worker_opts);
    }
    if (*rank) {
      if (!rank_category.empty()) rank_opts.category = rank_category;
      if (!rank_language.empty()) rank_opts.language = rank_language;
      if (!rank_anchor.empty()) rank_opts.anchor = rank_anchor;
      return cli::run_rank(global, rank_opts);
    }
    if (*model_info) return cli::run_model_info(global, model_info_opts);
    if (*model_synth) {
      if (!synth_tokenizer.empty()) synth_opts.tokenizer_from = synth_tokenizer;
      if (synth_opts.tied && synth_opts.untied) throw config_error("model synth: --tied and --untied exclude each other");
      return cli::run_model_synth(global, synth_opts);
    }
    if (*model_quantize) return cli::run_model_quantize(global, quantize_opts);
    if (*model_pull) {
      if (!pull_sha.empty()) pull_opts.sha256 = pull_sha;
      return cli::run_model_pull(global, pull_opts);
    }
    if (*simulate_attack) return cli::run_simulate_attack(attack);
    if (*simulate) return cli::run_simulate(sim);
    if (*admin_create) return cli::run_admin_create_key(global, key_name);
    if (*admin_revoke) return cli::run_admin_revoke_key(global, key_name);
    if (*leaderboards) return cli::run_leaderboards(global, leaderboards_opts, exit_with_parent);
    if (*serve) {
      serve_opts.port = config::parse_port(port_text, "--port");
      if (!models_dir.empty()) serve_opts.models_dir = models_dir;
      if (!session_secret.empty()) serve_opts.session_secret_hex = session_secret;
      try {
        serve_opts.sampler = arena::parse_sampling_policy(sampler_text);
      } catch (const config_error&) {
        throw config_error(fmt::format("--sampler '{}' is not one of uniform, weighted, active", sampler_text));
      }
      if (sampler_seed_opt->count() > 0) serve_opts.sampler_seed = sampler_seed;
      return cli::run_serve(global, serve_opts);
    }
  } catch (const huashan::error& e) {
    std::fprintf(stderr, "huashan: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "huashan: unexpected error: %s\n", e.what());
    return 2;
  }
  return 0;
}
