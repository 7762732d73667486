// `huashan eval`: runs suites against a local GGUF model or a model behind an
// OpenAI-compatible server, prints lm-evaluation-harness's table, and writes
// results.json and per-item samples when given --output.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>

#include "cli/commands.hpp"
#include "common/build_info.hpp"
#include "common/error.hpp"
#include "harness/eval/circular.hpp"
#include "harness/eval/publish.hpp"
#include "harness/eval/results.hpp"
#include "harness/eval/runner.hpp"
#include "harness/eval/suite_loader.hpp"
#include "harness/local_backend.hpp"
#include "harness/openai_client.hpp"

namespace huashan::cli {

namespace {

// Requests done out of all: a redrawn bar on a terminal, a line every ten
// seconds (and at the end) elsewhere, so logs stay readable.
class progress_meter {
 public:
  progress_meter() : tty_(::isatty(2) != 0), start_(clock::now()), last_(start_) {}

  void update(std::int64_t done, std::int64_t total) {
    const auto now = clock::now();
    const double since_draw = std::chrono::duration<double>(now - last_).count();
    const bool final = done >= total;
    if (!first_ && !final && since_draw < (tty_ ? 0.2 : 10.0)) return;
    if (first_) base_ = done;  // answers from the cache do not count towards the rate
    first_ = false;
    last_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double rate = elapsed > 0 ? static_cast<double>(done - base_) / elapsed : 0.0;
    const double eta = rate > 0 ? static_cast<double>(total - done) / rate : 0.0;
    const double fraction = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
    const std::string eta_text = rate > 0 ? fmt::format("{}:{:02d}", static_cast<int>(eta) / 60, static_cast<int>(eta) % 60) : "?";
    if (tty_) {
      const int width = 30;
      const int filled = static_cast<int>(fraction * width);
      std::fprintf(stderr, "\r[%s%s] %3d%% %lld/%lld requests  %.1f/s  ETA %s ", std::string(static_cast<std::size_t>(filled), '#').c_str(),
                   std::string(static_cast<std::size_t>(width - filled), '.').c_str(), static_cast<int>(fraction * 100),
                   static_cast<long long>(done), static_cast<long long>(total), rate, eta_text.c_str());
      if (final) std::fputc('\n', stderr);
    } else {
      std::fprintf(stderr, "eval: %lld/%lld requests (%d%%), %.1f/s, ETA %s\n", static_cast<long long>(done),
                   static_cast<long long>(total), static_cast<int>(fraction * 100), rate, eta_text.c_str());
    }
    std::fflush(stderr);
  }

 private:
  using clock = std::chrono::steady_clock;
  bool tty_;
  bool first_ = true;
  std::int64_t base_ = 0;
  clock::time_point start_, last_;
};

std::vector<std::string> split_commas(const std::vector<std::string>& items) {
  std::vector<std::string> out;
  for (const auto& item : items) {
    std::size_t pos = 0;
    while (pos <= item.size()) {
      const auto comma = std::min(item.find(',', pos), item.size());
      if (comma > pos) out.push_back(item.substr(pos, comma - pos));
      pos = comma + 1;
    }
  }
  return out;
}

std::filesystem::path default_cache_dir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::filesystem::path(xdg) / "huashan" / "eval";
  if (const char* home = std::getenv("HOME"); home && *home) return std::filesystem::path(home) / ".cache" / "huashan" / "eval";
  return std::filesystem::path(".huashan-cache") / "eval";
}

void print_contamination(const harness::eval::eval_outcome& outcome) {
  for (const auto& [task, record] : outcome.contamination) {
    if (!record.flagged()) continue;
    const auto mean = [](const harness::eval::likelihood_total& t) {
      const auto m = t.mean_per_token();
      return m ? fmt::format("{:.3f}", *m) : std::string("n/a");
    };
    std::printf("%s\n", fmt::format("contamination hint: {}: test questions {} nats/token, few-shot questions {}, control ({}) {}: "
                                     "the test set may have been in the training data",
                                     task, mean(record.test), mean(record.fewshot), record.control_language, mean(record.control))
                            .c_str());
  }
}

}  // namespace

std::vector<std::filesystem::path> suite_search_dirs(const std::vector<std::string>& given) {
  std::vector<std::filesystem::path> dirs;
  for (const auto& d : given) dirs.emplace_back(d);
  if (dirs.empty()) {
    if (std::filesystem::is_directory("benchmarks")) dirs.emplace_back("benchmarks");
    else if (std::filesystem::is_directory(HUASHAN_BENCHMARKS_DIR)) dirs.emplace_back(HUASHAN_BENCHMARKS_DIR);
  }
  return dirs;
}

// benchmarks/control beside the suites, else the source tree's.
std::filesystem::path control_texts_dir(const std::vector<std::filesystem::path>& suites_dirs) {
  for (const auto& d : suites_dirs)
    if (std::filesystem::is_directory(d / "control")) return d / "control";
  return std::filesystem::path(HUASHAN_BENCHMARKS_DIR) / "control";
}

int run_eval(const global_options& /*global*/, const eval_options& o) {
  const auto started = std::chrono::system_clock::now();
  if (o.limit && *o.limit < 1) throw input_error(fmt::format("--limit {} must be at least 1", *o.limit));
  if (o.num_fewshot && *o.num_fewshot < 0) throw input_error(fmt::format("--num-fewshot {} must not be negative", *o.num_fewshot));
  harness::eval::eval_options run;
  run.num_fewshot = o.num_fewshot;
  run.limit = o.limit;
  if (o.batch_size != "auto") {
    try {
      std::size_t used = 0;
      const long n = std::stol(o.batch_size, &used);
      if (used != o.batch_size.size() || n < 1 || n > 1'000'000) throw std::invalid_argument(o.batch_size);
      run.batch_size = static_cast<std::int32_t>(n);
    } catch (const std::exception&) {
      throw input_error(fmt::format("--batch-size '{}' is neither auto nor a whole number from 1", o.batch_size));
    }
  }
  run.seed = o.seed;
  run.bootstrap_iters = o.bootstrap_iters;
  run.data_dir = o.data_dir;
  run.circular = o.circular;
  run.determinism_check = !o.no_determinism_check;
  run.contamination = o.contamination;
  if (!o.no_cache) run.cache_dir = o.cache_dir ? std::filesystem::path(*o.cache_dir) : default_cache_dir();

  // Suites load before the model, so a bad suite fails fast.
  const auto dirs = suite_search_dirs(o.suites_dirs);
  const auto suites = harness::eval::load_suites(split_commas(o.suites), dirs);
  if (o.circular) (void)harness::eval::circular_selection(suites);
  run.control_dir = control_texts_dir(dirs);

  std::unique_ptr<harness::model_backend> backend;
  std::string model_args;
  if (o.base_url) {
    harness::openai_client_options c;
    c.base_url = *o.base_url;
    c.model = o.model;
    if (const char* key = std::getenv(o.api_key_env.c_str()); key && *key) c.api_key = key;
    c.max_concurrent_requests = o.concurrency;
    backend = std::make_unique<harness::openai_client>(c);
    model_args = fmt::format("base_url={},model={}", *o.base_url, o.model);
  } else {
    engine::engine_config cfg;
    cfg.n_threads = o.threads;
    cfg.n_ctx = o.ctx_size;
    cfg.kv.prefix_reuse = o.prefix_cache;
    auto model = std::make_shared<harness::local_model>(std::filesystem::path(o.model).stem().string(), o.model, cfg);
    backend = std::make_unique<harness::local_backend>(model);
  }

  // Hashing the model file belongs to loading it, not to the run's time.
  (void)backend->fingerprint();

  progress_meter meter;
  const auto outcome = harness::eval::run_eval(*backend, suites, run, [&](std::int64_t done, std::int64_t total) { meter.update(done, total); });

  const auto& s = outcome.stats;
  std::fprintf(stderr, "eval: %lld requests, %lld unique: %lld from the cache, %lld computed, in %.1f s\n",
               static_cast<long long>(s.total), static_cast<long long>(s.unique), static_cast<long long>(s.cached),
               static_cast<long long>(s.computed), outcome.seconds);
  if (const auto& d = outcome.determinism)
    std::fprintf(stderr, "eval: determinism check: %lld documents (%lld requests) asked at batch 1 and %lld: largest log-likelihood difference %g, %lld predictions changed\n",
                 static_cast<long long>(d->documents), static_cast<long long>(d->requests), static_cast<long long>(d->batch_size),
                 d->max_abs_logprob_diff, static_cast<long long>(d->predictions_changed));

  harness::eval::run_settings settings;
  settings.model = o.model;
  settings.model_args = model_args;
  settings.batch_size = o.batch_size;
  settings.limit = o.limit;
  settings.num_fewshot = o.num_fewshot;
  settings.seed = o.seed;
  settings.bootstrap_iters = o.bootstrap_iters;
  settings.circular = o.circular;
  settings.engine_version = std::string(build_info::version);
  settings.date = std::chrono::duration<double>(started.time_since_epoch()).count();
  if (o.output) {
    harness::eval::write_results(*o.output, outcome, settings);
    std::fprintf(stderr, "eval: wrote %s/results.json and the samples\n", o.output->c_str());
  }
  std::printf("%s", harness::eval::markdown_table(outcome).c_str());
  print_contamination(outcome);
  if (o.publish) {
    std::optional<std::string> key = o.publish_key;
    if (const char* env = std::getenv("HUASHAN_API_KEY"); !key && env && *env) key = env;
    const auto name = o.publish_model ? *o.publish_model : o.base_url ? o.model : std::filesystem::path(o.model).stem().string();
    const auto published = harness::eval::publish_run(*o.publish, key, name,
                                                      harness::eval::results_text(outcome, settings), outcome);
    std::fflush(stdout);
    std::fprintf(stderr, "eval: %s %s as run %lld\n", published.created ? "published to" : "already at", published.results_url.c_str(),
                 static_cast<long long>(published.id));
  }
  return 0;
}

}  // namespace huashan::cli
