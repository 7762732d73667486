// The subcommands of `huashan`, one file each. main.cpp parses flags (CLI11) and
// calls these with plain option structs; each returns the process exit code.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "arena/domain/attack_simulation.hpp"
#include "arena/domain/sampler_simulation.hpp"
#include <vector>

namespace huashan::cli {

struct global_options {
  std::optional<std::string> database_url;  // --database-url, DATABASE_URL
  std::string log_level = "info";           // --log-level, HUASHAN_LOG_LEVEL
};

// `huashan doctor`: build options, CPU features, CUDA devices, database reachability.
int run_doctor(const global_options& global);

struct db_options {
  std::optional<std::string> migrations_dir;  // default: the migrations compiled in
};
// `huashan db migrate`: applies pending migrations; a second run is a no-op.
int run_db_migrate(const global_options& global, const db_options& options);
// `huashan db status`: each migration's state; exit 1 if any is pending or changed.
int run_db_status(const global_options& global, const db_options& options);
struct db_export_options {
  std::optional<std::string> output;  // -o FILE; default stdout
};
// `huashan db export-battles`: the counted votes as of the newest overall
// snapshot as CSV in LMArena's columns (the bytes GET /api/battles.csv serves).
int run_db_export_battles(const global_options& global, const db_export_options& options);
// `huashan db recompute-snapshot N`: rebuilds stored snapshot N from the votes
// as of its last_vote_event; exit 0 when byte-identical, 1 (naming the first
// difference) when not; an unknown N is an error (exit 1).
int run_db_recompute_snapshot(const global_options& global, std::int64_t snapshot_id);

// The live leaderboards' options (arena::leaderboard_settings), shared by
// `huashan serve` and `huashan leaderboards`.
struct leaderboard_options {
  double interval_s = 10;         // --leaderboard-interval: seconds between recompute checks
  std::uint32_t bootstrap = 200;  // --leaderboard-bootstrap: rounds per board
  std::string style_intervals = "sandwich";  // --leaderboard-style-intervals: sandwich | bootstrap
  std::uint64_t seed = 42;        // --leaderboard-seed
  bool ipw = false;               // --leaderboard-ipw: inverse-propensity weighted boards
};

// `huashan leaderboards`: recomputes the live leaderboards whenever votes move
// (holding the database's advisory lock, as a serving process would) and
// serves nothing, until SIGTERM or SIGINT. `exit_with_parent`: also ends when
// the process that started it does (serve's child).
int run_leaderboards(const global_options& global, const leaderboard_options& options, bool exit_with_parent);

struct serve_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  int threads = 2;
  bool migrate = false;  // apply pending migrations before serving
  std::vector<std::string> models_files;   // --models models.yaml (repeatable)
  std::optional<std::string> models_dir;   // --models-dir: every *.gguf there is a local model
  std::optional<std::string> session_secret_hex;  // HUASHAN_SESSION_SECRET (64 hex digits)
  bool secure_cookie = false;
  std::vector<std::string> allowed_origins;  // --allowed-origin: pages that may start battles and vote
  int engine_threads = 0;                  // per local model; 0 = all cores
  // Vote and battle limits (arena::battle_settings); each bucket holds half a minute's worth.
  std::int64_t min_vote_delay_ms = 2000;      // after both answers finished
  double votes_per_session_minute = 20;
  double votes_per_address_minute = 60;
  double battles_per_session_minute = 10;
  double battles_per_address_minute = 30;
  leaderboard_options leaderboards;
  // --leaderboard-recompute: "process" (a `huashan leaderboards` child process
  // recomputes, so no recompute shares this process's memory), "thread" (a
  // thread of this process does) or "off" (another arena process does).
  std::string leaderboard_recompute = "process";
  // Pair sampling (arena::battle_settings).
  arena::sampling_policy sampler = arena::sampling_policy::weighted;  // --sampler
  std::optional<std::uint64_t> sampler_seed;  // --sampler-seed; nullopt: random per start
  // Eval runs (arena::eval_service_options).
  std::vector<std::string> eval_suites_dirs;  // --suites-dir; default ./benchmarks or the installed ones
  std::string eval_data_dir = ".";            // --data-dir
  std::int64_t eval_lease_ms = 60'000;        // --eval-lease-ms
  std::int32_t eval_shard_size = 100;         // --eval-shard-size
  std::int32_t eval_max_attempts = 5;         // --eval-max-attempts
  std::int64_t eval_body_mb = 64;             // --eval-body-mb: largest published run or answers post
  std::int64_t max_connections = 1024;        // --max-connections: open at once; the longest idle gives way
  std::optional<std::string> web_dir;         // --web-dir: serve web/ from this folder, read on each request
};
// Where suite names are looked up: the folders given, else ./benchmarks, else
// the suites installed with huashan.
std::vector<std::filesystem::path> suite_search_dirs(const std::vector<std::string>& given);
// The contamination hint's control passages: benchmarks/control beside the suites, else the installed ones.
std::filesystem::path control_texts_dir(const std::vector<std::filesystem::path>& suites_dirs);

// `huashan serve`: the arena's HTTP service, until SIGINT/SIGTERM.
int run_serve(const global_options& global, const serve_options& options);

struct generate_options {
  std::string model;                       // --model FILE.gguf
  std::string prompt;                      // --prompt TEXT
  std::optional<std::string> prompt_file;  // -f FILE (wins over --prompt)
  int n_predict = 128;                     // -n
  float temperature = 0.8f;                // --temp (0 = greedy)
  int top_k = 40;
  float top_p = 0.95f;
  float min_p = 0.05f;
  float repeat_penalty = 1.0f;
  long long seed = -1;                     // --seed (< 0: random)
  std::vector<std::string> stop;           // --stop (repeatable)
  bool ignore_eos = false;
  bool chat = false;                       // apply the model's chat template
  int threads = 0;                         // 0: all hardware threads
  int ctx_size = 4096;
  int kv_budget_mib = 1024;
};
// `huashan generate`: streams the continuation to stdout, speed to stderr.
int run_generate(const global_options& global, const generate_options& options);

struct score_options {
  std::string model;
  std::string prompt;                           // --prompt TEXT (the context; BOS added per the vocab)
  std::string continuation;                     // --continuation TEXT
  std::optional<std::string> continuation_ids;  // --continuation-ids 1,2,3
  int top_n = 5;
  bool json = false;
  int threads = 0;
  int ctx_size = 4096;
};
// `huashan score`: each continuation token's teacher-forced logprob, rank and top-n.
int run_score(const global_options& global, const score_options& options);

struct eval_options {
  std::string model;                        // a GGUF file, or the model's name at --base-url
  std::vector<std::string> suites;          // --suite S[,S...] (repeatable): task or group names, or YAML paths
  std::optional<std::int32_t> num_fewshot;
  std::optional<std::int64_t> limit;        // the first N documents of each task
  std::string batch_size = "auto";          // requests per backend call
  std::optional<std::uint64_t> seed;
  std::optional<std::filesystem::path> output;  // results.json and samples_{task}.jsonl there
  std::string data_dir = ".";               // where the suites' dataset_path folders are
  std::vector<std::string> suites_dirs;     // where suite names are looked up (default ./benchmarks)
  std::optional<std::string> cache_dir;     // default $XDG_CACHE_HOME/huashan/eval
  bool no_cache = false;
  std::int32_t bootstrap_iters = 1000;
  std::optional<std::string> base_url;      // an OpenAI-compatible server instead of a local file
  std::string api_key_env = "OPENAI_API_KEY";
  int concurrency = 8;                      // requests in flight to --base-url
  int threads = 0;                          // local: CPU threads (0 = all)
  int ctx_size = 4096;                      // local: context size
  std::optional<std::string> publish;       // --publish URL: send the finished run to this arena
  std::optional<std::string> publish_key;   // --key (else $HUASHAN_API_KEY)
  std::optional<std::string> publish_model; // --publish-model: the name the arena lists (default: the file's stem)
  bool prefix_cache = true;                 // local: reuse the K/V of shared prompt prefixes
  bool circular = false;                    // --circular: CircularEval (acc_circular beside acc)
  bool no_determinism_check = false;        // skip re-asking a few documents at batch 1 and batched
  bool contamination = false;               // score test vs few-shot vs control texts per task
};
// `huashan eval`: suites against one model; table on stdout, files in --output.
int run_eval(const global_options& global, const eval_options& options);

struct worker_options {
  std::string arena;                        // --arena URL
  std::optional<std::string> key;           // --key (else $key_env)
  std::string key_env = "HUASHAN_API_KEY";
  std::string name;                         // --name (default host-pid)
  std::vector<std::string> models;          // --model NAME=FILE.gguf (repeatable)
  std::optional<std::string> models_dir;    // --models-dir: every *.gguf, named by its stem
  std::vector<std::string> suites_dirs;
  std::string data_dir = ".";
  int threads = 0;
  int ctx_size = 4096;
  std::int64_t poll_ms = 2000;
  bool once = false;                        // stop when the queue is empty
  std::int64_t max_shards = 0;              // 0 = no limit
};
// `huashan worker`: takes eval shards from an arena and runs them.
int run_worker(const global_options& global, const worker_options& options);
struct eval_compare_options {
  std::filesystem::path run_a;                       // results.json or an eval --output folder
  std::filesystem::path run_b;
  std::optional<std::filesystem::path> json_output;  // --json FILE
};
// `huashan eval compare A B`: paired differences per task, metric and group;
// input_error when the runs are not comparable or a samples file is missing.
int run_eval_compare(const global_options& global, const eval_compare_options& options);

struct rank_options {
  std::string file;                       // CSV or JSONL battles
  std::uint32_t bootstrap = 1000;         // rounds; 0 = sandwich intervals
  std::string intervals = "bootstrap";    // bootstrap | sandwich (then no rounds)
  std::uint64_t seed = 42;
  unsigned threads = 0;                   // 0 = all cores
  bool style_control = false;
  std::string style_penalty = "all";      // all | coefficients
  std::optional<std::string> category;    // keep battles with this tag
  std::optional<std::string> language;    // keep battles in this language
  std::optional<std::string> anchor;      // MODEL=RATING
  std::uint64_t min_votes = 0;
  bool reweight = false;
  bool inverse_propensity = false;        // --ipw: weight 1 / sampling_probability
  bool elo = false;
  double elo_k = 4.0;
  std::string ties = "half";              // half | rao-kupper | davidson
  bool robustness = false;
  bool matrices = false;
  std::string format = "table";           // table | json | csv
  // --session-consensus: leave out the battles of judges whose votes are
  // improbable under the ratings (ranking/session_consensus.hpp, floor 0).
  bool session_consensus = false;
  double consensus_threshold = 3.0;
  std::uint32_t consensus_min_votes = 10;
};
// `huashan rank FILE`: leaderboard from a battles file; throws input_error / io_error naming the file.
int run_rank(const global_options& global, const rank_options& options);

struct model_info_options {
  std::string file;
  bool verbose = false;  // -v: every metadata key and tensor
};
// `huashan model info FILE`: architecture, parameters, shape, tensor types,
// tokenizer and special tokens, chat template. input_error for a malformed file.
int run_model_info(const global_options& global, const model_info_options& options);

struct model_synth_options {
  std::string arch = "qwen3";  // qwen3 | qwen2 | llama
  int layers = 2;
  int dim = 256;
  int heads = 4;
  int kv_heads = 2;
  int ffn = 512;
  int vocab = 0;               // 0: the tokenizer's size (synthetic: 4096)
  int head_dim = 0;            // 0: dim / heads
  int ctx = 0;                 // 0: the architecture's default
  std::string type = "f16";    // f16 | q8_0 | q4_k
  std::uint64_t seed = 0;
  bool tied = false;           // --tied / --untied override the architecture's default
  bool untied = false;
  std::optional<std::string> tokenizer_from;  // FILE.gguf or tokenizer.json
  std::string output;          // -o
  int threads = 0;
};
// `huashan model synth`: writes a GGUF with seeded random weights; config_error for a bad shape.
int run_model_synth(const global_options& global, const model_synth_options& options);

struct model_quantize_options {
  std::filesystem::path input;
  std::filesystem::path output;
  std::string type = "q8_0";  // f16 | bf16 | q8_0 | q4_0 | q4_k | q6_k
  bool verbose = false;       // -v: the tensors kept in their type, and why
};
// `huashan model quantize IN OUT --type T`: config_error for an unknown type or
// OUT naming IN, input_error for a malformed input, io_error when writing fails.
int run_model_quantize(const global_options& global, const model_quantize_options& options);

struct model_pull_options {
  std::string source;                  // URL or hf:OWNER/REPO/FILE.gguf
  std::string models_dir = "models";   // --models-dir, HUASHAN_MODELS_DIR
  std::optional<std::string> sha256;   // --sha256 HEX
};
// `huashan model pull`: download with resume and progress; io_error on network
// failure (the partial file is kept), input_error on a sha256 mismatch.
int run_model_pull(const global_options& global, const model_pull_options& options);

// `huashan admin create-key --name N` / `revoke-key --name N`.
int run_admin_create_key(const global_options& global, const std::string& name);
int run_admin_revoke_key(const global_options& global, const std::string& name);

struct simulate_options {
  arena::simulation_options simulation;
  std::string policies = "uniform,weighted,active";
};
// `huashan simulate`: votes each sampling policy needs to get the top-k right.
int run_simulate(const simulate_options& options);
// `huashan simulate attack`: votes a bloc needs to move one model up a rank,
// without defences, against the arena's, and with the session consensus test.
int run_simulate_attack(const arena::attack_options& options);

// Throws config_error when no database URL was given.
std::string require_database_url(const global_options& global);

}  // namespace huashan::cli
