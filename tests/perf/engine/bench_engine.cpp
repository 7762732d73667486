// Engine throughput: prompt (prefill) and generation tokens/s at batch 1 and
// aggregate generation tokens/s at batch B, on random prompt tokens (seeded),
// greedy decoding with EOS ignored, measured as llama-bench (pp, tg from an
// empty context) and llama-batched-bench (decode after a pp-token prompt) do.
// Prints one JSON object per measurement. Checks its answer: sequence 0 of the
// batched run has batch 1's prompt and must generate the same tokens.
//
//   huashan_bench_engine MODEL.gguf [--threads N] [--pp 128] [--tg 64] [--batch 16] [--runs 3]
#include <fmt/format.h>

#include <algorithm>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/xoshiro256.hpp"
#include "harness/engine/engine.hpp"

using namespace huashan::engine;
using clock_type = std::chrono::steady_clock;

namespace {

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

// CPU seconds (user + system) this process has used: on a machine shared with
// other work, tokens per CPU-second x threads estimates the speed it would have alone.
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

std::vector<std::int32_t> random_prompt(std::int32_t n, std::int32_t n_vocab, std::uint64_t seed) {
  huashan::xoshiro256ss r(seed);
  std::vector<std::int32_t> p(static_cast<std::size_t>(n));
  for (auto& t : p) t = static_cast<std::int32_t>(r.next() % static_cast<std::uint64_t>(n_vocab));
  return p;
}

struct run_figures {
  double pp_tps = 0;  // prompt tokens / prefill seconds
  double tg_tps = 0;  // generated tokens after prefill / decode seconds (aggregate over the batch)
  double pp_cpu_tps = 0;  // the same per CPU-second, times the thread count
  double tg_cpu_tps = 0;
  std::vector<std::int32_t> first_tokens;
};

// Runs `batch` sequences of pp prompt tokens + tg generated tokens on a fresh cache state.
run_figures run(inference_engine& eng, std::int32_t batch, std::int32_t pp, std::int32_t tg, std::uint64_t seed) {
  std::vector<std::future<generate_result>> futures;
  for (std::int32_t b = 0; b < batch; ++b) {
    generate_request r;
    r.prompt = random_prompt(pp, eng.model().hp.n_vocab, seed + static_cast<std::uint64_t>(b));
    r.max_tokens = tg;
    r.ignore_eos = true;
    futures.push_back(eng.submit(std::move(r)));
  }
  const auto gen0 = eng.stats().generated_tokens;
  const auto prompt0 = eng.stats().prompt_tokens;
  const auto t0 = clock_type::now();
  const double c0 = cpu_seconds();
  double t_prefill = 0, c_prefill = 0;
  std::int64_t gen_at_prefill = 0;
  while (eng.step()) {
    // Prefill is done when every prompt row has been computed (each sequence
    // then has its first token). The scheduler already decodes sequences whose
    // prompts are in while others still prefill; those tokens and that time
    // count as prefill, so the decode rate below is of decode steps alone.
    if (t_prefill == 0 && eng.stats().prompt_tokens - prompt0 >= static_cast<std::int64_t>(batch) * pp) {
      t_prefill = seconds_since(t0);
      c_prefill = cpu_seconds() - c0;
      gen_at_prefill = eng.stats().generated_tokens - gen0;
    }
  }
  const double t_total = seconds_since(t0);
  const double c_total = cpu_seconds() - c0;
  run_figures f;
  const auto generated = eng.stats().generated_tokens - gen0;
  const double n = eng.n_threads();
  f.pp_tps = static_cast<double>(batch) * pp / t_prefill;
  f.tg_tps = static_cast<double>(generated - gen_at_prefill) / (t_total - t_prefill);
  f.pp_cpu_tps = static_cast<double>(batch) * pp / (c_prefill / n);
  f.tg_cpu_tps = static_cast<double>(generated - gen_at_prefill) / ((c_total - c_prefill) / n);
  f.first_tokens = futures.front().get().tokens;
  for (std::size_t i = 1; i < futures.size(); ++i) futures[i].get();
  return f;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL.gguf [--threads N] [--pp 128] [--tg 64] [--batch 16] [--runs 3]\n", argv[0]);
    return 2;
  }
  std::string model = argv[1];
  int threads = 0, pp = 128, tg = 64, batch = 16, runs = 3;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const int v = std::atoi(argv[i + 1]);
    if (k == "--threads") threads = v;
    else if (k == "--pp") pp = v;
    else if (k == "--tg") tg = v;
    else if (k == "--batch") batch = v;
    else if (k == "--runs") runs = v;
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  try {
    engine_config cfg;
    cfg.n_threads = threads;
    cfg.n_ctx = pp + tg + 16;
    cfg.max_batch_tokens = 512;
    cfg.max_sequences = std::max(batch, 1);
    cfg.kv.prefix_reuse = false;  // distinct random prompts anyway; measure compute, not reuse
    cfg.kv.memory_budget_bytes = std::size_t{1} << 30;
    inference_engine eng(model, cfg);
    // pp: prefill of pp tokens (llama-bench pp). tg: tg tokens decoded from an
    // empty context (llama-bench tg). tg@pp: decode after a pp-token prompt, at
    // batch 1 and batch B (llama-batched-bench's S_TG, aggregate over sequences).
    std::vector<double> pp1, tg1, tg_at_pp1, ppb, tgb;
    std::vector<double> pp1c, tg1c, tg_at_pp1c, ppbc, tgbc;  // per CPU-second x threads
    std::vector<std::int32_t> reference;
    bool answers_ok = true;
    // Batch 1 and batch B alternate run by run, so that a slow spell of this
    // shared machine (its memory speed varies by tens of percent) falls on
    // both sides of the b16 / b1 ratio rather than on one.
    for (int r = 0; r < runs; ++r) {
      const auto empty = run(eng, 1, 1, tg + 1, 99);
      tg1.push_back(empty.tg_tps);
      tg1c.push_back(empty.tg_cpu_tps);
      const auto one = run(eng, 1, pp, tg, 1234);
      pp1.push_back(one.pp_tps);
      tg_at_pp1.push_back(one.tg_tps);
      pp1c.push_back(one.pp_cpu_tps);
      tg_at_pp1c.push_back(one.tg_cpu_tps);
      if (reference.empty()) reference = one.first_tokens;
      answers_ok = answers_ok && one.first_tokens == reference;
      if (batch <= 1) continue;
      const auto many = run(eng, batch, pp, tg, 1234);
      ppb.push_back(many.pp_tps);
      tgb.push_back(many.tg_tps);
      ppbc.push_back(many.pp_cpu_tps);
      tgbc.push_back(many.tg_cpu_tps);
      answers_ok = answers_ok && many.first_tokens == reference;
    }
    auto line = [&](const std::string& test, int b, const std::vector<double>& v, const std::vector<double>& c) {
      std::printf("{\"model\": \"%s\", \"test\": \"%s\", \"batch\": %d, \"threads\": %d, \"runs\": %d, \"median_tps\": %.2f, "
                  "\"min_tps\": %.2f, \"max_tps\": %.2f, \"median_cpu_tps\": %.2f}\n",
                  model.c_str(), test.c_str(), b, eng.n_threads(), runs, median(v), *std::min_element(v.begin(), v.end()),
                  *std::max_element(v.begin(), v.end()), median(c));
    };
    line(fmt::format("pp{}", pp), 1, pp1, pp1c);
    line(fmt::format("tg{}", tg), 1, tg1, tg1c);
    line(fmt::format("tg{}@pp{}", tg, pp), 1, tg_at_pp1, tg_at_pp1c);
    if (batch > 1) {
      line(fmt::format("pp{}", pp), batch, ppb, ppbc);
      line(fmt::format("tg{}@pp{}", tg, pp), batch, tgb, tgbc);
    }
    std::fflush(stdout);
    if (!answers_ok) {
      std::fprintf(stderr, "bench_engine: batched/repeated greedy tokens differ from the batch-1 run (batch invariance broken)\n");
      return 1;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_engine: %s\n", e.what());
    return 1;
  }
  return 0;
}
