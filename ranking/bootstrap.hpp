// Bootstrap confidence intervals for Bradley-Terry ratings. Resampling the
// battles with replacement is the same in distribution as drawing
// multinomial(N; c_k / N) counts over the (pair, outcome) cells, so a round
// costs O(cells) draws plus one warm-started Newton fit, never O(battles).
// Rounds run on worker threads; round k's generator is seeded from
// (seed, k), so the result is identical for any number of threads.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include <Eigen/Core>

#include "ranking/bradley_terry.hpp"
#include "ranking/pair_counts.hpp"
#include "ranking/random.hpp"

namespace huashan::ranking {

struct bootstrap_options {
  std::uint32_t rounds = 1000;
  std::uint64_t seed = 42;
  unsigned threads = 0;  // 0: std::thread::hardware_concurrency()
};

struct bootstrap_samples {
  Eigen::MatrixXd r;                 // rounds × models, log10 strengths of each round's fit
  std::uint32_t rounds_with_prior = 0;  // rounds whose resample had no finite MLE
  std::uint32_t rounds_not_converged = 0;
};

// Draws multinomial(total; counts / total) over `counts` (integers stored as
// doubles) into `out` by a chain of conditional binomials. Never throws.
void draw_multinomial(rng& g, const std::vector<double>& counts, double total, std::vector<double>& out);

// The fast exact sampler the bootstrap uses (draw_multinomial is its plain
// reference). Poissonisation: X_k ~ Poisson(θ c_k) independently, with
// θ = 1 − 3/√N so that S = Σ X_k exceeds N only with probability ~0.1% (then
// all X are redrawn); given S = s, X ~ multinomial(s, c/N), and adding N − s
// categorical draws (Vose alias table, O(1) each) gives multinomial(N, c/N)
// exactly. Each Poisson draw inverts the CDF starting from the mode, whose
// pmf and CDF are precomputed per cell: ~√λ steps, no exp/log per draw.
class multinomial_sampler {
 public:
  // counts: whole numbers ≥ 0 (stored as doubles); N = their sum.
  explicit multinomial_sampler(const std::vector<double>& counts);
  // One draw of multinomial(N, counts / N) into out (resized to counts.size()).
  void draw(rng& g, std::vector<double>& out) const;

 private:
  struct poisson_cell {
    double lambda = 0;
    double inv_lambda = 0;
    double f_mode = 0;  // P(X = mode)
    double F_mode = 0;  // P(X ≤ mode)
    std::uint32_t mode = 0;
  };
  std::uint64_t poisson(rng& g, const poisson_cell& c) const;

  static constexpr std::size_t max_small_count = 8;
  static constexpr std::size_t small_cdf_unrolled = 4;
  std::vector<poisson_cell> cells_;
  static constexpr std::uint8_t empty_cell = 0, generic_cell = 255;
  std::vector<std::uint8_t> small_count_;         // per cell: its count when 1..max_small_count, else one of the two above
  std::vector<double> small_cdf_;                 // P(X ≤ k) of Poisson(θ c) for each small c, each ending in +inf
  std::vector<std::size_t> small_cdf_offset_;     // [c]: where c's table starts in small_cdf_
  std::vector<double> alias_prob_;
  std::vector<std::uint32_t> alias_;
  std::uint64_t total_ = 0;
};

// One refit of a resampled table: returns r (models), sets the two flags.
using pair_refit = std::function<Eigen::VectorXd(const pair_counts& resampled, bool& prior_used, bool& converged)>;
// Runs `options.rounds` rounds of: draw multinomial cell counts (pair weights
// kept), call `refit` (from any thread, concurrently). Throws input_error when
// the counts are not whole numbers.
bootstrap_samples bootstrap_pairs(const pair_counts& pc, const bootstrap_options& options, const pair_refit& refit);

// Runs `options.rounds` resample-and-refit rounds, each starting from `full.r`.
// Throws input_error when the counts are not integers (pair weights are
// applied after resampling, so reweighted tables are fine).
bootstrap_samples bootstrap_bradley_terry(const pair_counts& pc, const bt_fit& full, const bt_options& fit_options,
                                          const bootstrap_options& options);

// Linear-interpolation quantile (numpy's default) of each column of `samples`, q in [0, 1].
Eigen::VectorXd column_quantile(const Eigen::MatrixXd& samples, double q);

// Worker count for `options.threads` (0 = hardware), at most `jobs`, at least 1.
unsigned worker_count(unsigned requested, std::size_t jobs);

}  // namespace huashan::ranking
