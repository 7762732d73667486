// bench_ranking MODELS BATTLES [--reps N] [--rounds R] [--style-rounds S] [--write FILE]
// Generates BATTLES synthetic battles among MODELS models (planted log10
// strengths, skewed popularity, 8% ties, style counts with a planted length
// effect), writes them as LMArena CSV in memory, then times, REPS times each:
// CSV parse, pair counting + MLE fit, R bootstrap rounds, and style control
// (fit + S rounds). Prints the median of each, one line per stage, and checks
// the answers (Spearman with the truth, bootstrap coverage of the MLE).
// --write FILE also saves the CSV for an end-to-end `huashan rank` timing.
//
// bench_ranking --compare-ties FILE [HOLDOUT]: the tie-model comparison of
// docs/ranking.md (rankings and held-out calibration MAE of half, Rao-Kupper
// and Davidson) on a battles file.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <sys/resource.h>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "ranking/battle_reader.hpp"
#include "ranking/battle.hpp"
#include "ranking/bootstrap.hpp"
#include "ranking/bradley_terry.hpp"
#include "ranking/random.hpp"
#include "ranking/style_control.hpp"
#include "ranking/ties.hpp"

using namespace huashan::ranking;
using clock_type = std::chrono::steady_clock;

namespace {

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

// Process CPU time (user + system, all threads): on a shared machine the
// wall time depends on the load, CPU time much less.
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::string generate_csv(std::size_t m, std::size_t n, std::vector<double>& truth) {
  rng g(2026, m * 1000003 + n);
  truth.resize(m);
  for (auto& t : truth) t = (g.uniform() - 0.5) * 2.5;
  std::string csv = "model_a,model_b,winner,len_a,len_b,header_a,header_b,list_a,list_b,bold_a,bold_b\n";
  csv.reserve(n * 64);
  for (std::size_t b = 0; b < n; ++b) {
    const double u = g.uniform();
    const auto a = static_cast<std::size_t>(u * u * static_cast<double>(m));
    auto c = g.below(m);
    if (c == a) c = (a + 1) % m;
    const auto la = 100 + g.below(900), lb = 100 + g.below(900);
    const double f = (double(la) - double(lb)) / double(la + lb + 1);
    const double logit = std::log(10.0) * (truth[a] - truth[c]) + 0.8 * f;
    const double p = 1 / (1 + std::exp(-logit));
    const double w = g.uniform();
    const char* winner = w < 0.05 ? "tie" : w < 0.08 ? "tie (bothbad)" : g.uniform() < p ? "model_a" : "model_b";
    fmt::format_to(std::back_inserter(csv), "model-{:03},model-{:03},{},{},{},{},{},{},{},{},{}\n", a, c, winner, la, lb,
                   g.below(8), g.below(8), g.below(10), g.below(10), g.below(12), g.below(12));
  }
  return csv;
}

}  // namespace

int compare_ties(const std::string& path, double holdout) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return 1;
  std::string text;
  char buf[1 << 16];
  std::size_t got = 0;
  while ((got = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, got);
  std::fclose(f);
  const battle_table t = read_battles(text, path);
  fmt::print("model,calibration_mae,tie_param,spearman_vs_half,max_rank_shift,top5\n");
  for (const auto& row : compare_tie_models(t, holdout, 42)) {
    std::string top;
    for (std::size_t k = 0; k < 5 && k < row.order.size(); ++k) top += (k ? " " : "") + t.models.name(row.order[k]);
    fmt::print("{},{:.5f},{:.4f},{:.4f},{},{}\n", tie_model_name(row.model), row.calibration_mae, row.tie_param,
               row.spearman_vs_half, row.max_rank_shift, top);
  }
  return 0;
}

int main(int argc, char** argv) {
  if (argc >= 3 && std::string(argv[1]) == "--compare-ties")
    return compare_ties(argv[2], argc >= 4 ? std::atof(argv[3]) : 0.2);
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_ranking MODELS BATTLES [--reps N] [--rounds R] [--style-rounds S] [--write FILE]\n");
    return 2;
  }
  const auto m = std::strtoull(argv[1], nullptr, 10), n = std::strtoull(argv[2], nullptr, 10);
  int reps = 5;
  std::uint32_t rounds = 1000, style_rounds = 100;
  std::string write;
  for (int k = 3; k + 1 < argc; k += 2) {
    const std::string flag = argv[k];
    if (flag == "--reps") reps = std::atoi(argv[k + 1]);
    else if (flag == "--rounds") rounds = static_cast<std::uint32_t>(std::atoi(argv[k + 1]));
    else if (flag == "--style-rounds") style_rounds = static_cast<std::uint32_t>(std::atoi(argv[k + 1]));
    else if (flag == "--write") write = argv[k + 1];
  }
  std::vector<double> truth;
  const std::string csv = generate_csv(m, n, truth);
  if (!write.empty()) {
    std::FILE* f = std::fopen(write.c_str(), "wb");
    if (f == nullptr || std::fwrite(csv.data(), 1, csv.size(), f) != csv.size()) return 1;
    std::fclose(f);
  }
  std::vector<double> t_parse, t_fit, t_boot, t_style_fit, t_style_boot;
  std::vector<double> c_boot, c_style;  // CPU seconds
  battle_table t;
  bt_fit fit;
  bootstrap_samples boot;
  Eigen::VectorXd truth_by_index;
  for (int r = 0; r < reps; ++r) {
    auto t0 = clock_type::now();
    t = read_battles_csv(csv, "synthetic.csv");
    t_parse.push_back(seconds_since(t0));
    t0 = clock_type::now();
    const pair_counts pc = count_pairs(t);
    fit = fit_bradley_terry(pc);
    t_fit.push_back(seconds_since(t0));
    t0 = clock_type::now();
    double c0 = cpu_seconds();
    boot = bootstrap_bradley_terry(pc, fit, {}, bootstrap_options{rounds, 42, 0});
    t_boot.push_back(seconds_since(t0));
    c_boot.push_back(cpu_seconds() - c0);
    if (style_rounds > 0 || r == 0) {
      t0 = clock_type::now();
      c0 = cpu_seconds();
      const style_design d = build_style_design(t);
      const style_fit sf = fit_style(d, d.count, {});
      t_style_fit.push_back(seconds_since(t0));
      t0 = clock_type::now();
      if (style_rounds > 0) bootstrap_style(d, sf, {}, bootstrap_options{style_rounds, 42, 0});
      t_style_boot.push_back(seconds_since(t0));
      c_style.push_back(cpu_seconds() - c0);
    }
  }
  // Answers: ranking vs the planted truth (the planted style effect attenuates
  // plain BT slightly, so Spearman, not the scale, is checked).
  truth_by_index.resize(static_cast<Eigen::Index>(t.n_models()));
  for (std::size_t k = 0; k < t.n_models(); ++k)
    truth_by_index[static_cast<Eigen::Index>(k)] = truth[std::stoul(t.models.name(static_cast<std::uint32_t>(k)).substr(6))];
  const double rho = spearman(fit.r, truth_by_index);
  // The MLE must lie inside its own bootstrap interval for (nearly) every model.
  const Eigen::VectorXd lo = column_quantile(boot.r, 0.025), hi = column_quantile(boot.r, 0.975);
  int inside = 0;
  for (Eigen::Index k = 0; k < lo.size(); ++k) inside += fit.r[k] >= lo[k] && fit.r[k] <= hi[k];
  const double rate = static_cast<double>(n) / median(t_parse);
  fmt::print("models={} battles={} reps={} rounds={} style_rounds={}\n", m, n, reps, rounds, style_rounds);
  fmt::print("parse_s={:.4f} rows_per_s={:.3g}\n", median(t_parse), rate);
  fmt::print("fit_s={:.4f} iterations={} gradient_norm={:.2g}\n", median(t_fit), fit.iterations, fit.gradient_norm);
  fmt::print("bootstrap_s={:.4f} fit_plus_bootstrap_s={:.4f} rounds_not_converged={} rounds_with_prior={}\n", median(t_boot),
             median(t_fit) + median(t_boot), boot.rounds_not_converged, boot.rounds_with_prior);
  fmt::print("bootstrap_cpu_s={:.4f}\n", median(c_boot));
  fmt::print("style_fit_s={:.4f} style_bootstrap_s={:.4f} style_total_s={:.4f} style_total_cpu_s={:.4f}\n",
             median(t_style_fit), median(t_style_boot), median(t_style_fit) + median(t_style_boot), median(c_style));
  const double inside_rate = static_cast<double>(inside) / static_cast<double>(lo.size());
  fmt::print("spearman={:.4f} mle_inside_interval={:.3f}\n", rho, inside_rate);
  // Checked answers: a benchmark that computes nonsense fast must fail.
  const bool ok = fit.converged && rho > 0.95 && (rounds == 0 || inside_rate > 0.9);
  if (!ok) fmt::print("FAILED: converged={} spearman={:.4f}\n", fit.converged, rho);
  return ok ? 0 : 1;
}
