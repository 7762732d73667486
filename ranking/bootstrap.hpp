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
// categorical draws (Vose alias table over the non-empty cells, O(1) each)
// gives multinomial(N, c/N) exactly.
//
// Cells are grouped by count: every cell of a small whole count c shares one
// Poisson(θ c) CDF, so a cell's draw is X = lo + #{k in the window: u ≥ F(k)}
// over the window of k where the CDF is neither ~0 nor ~1, eight cells at a
// time with no branch; a uniform outside the window (odds ~1e-5) searches the
// whole table. Larger counts invert the CDF from the mode, whose pmf and CDF
// are precomputed per cell (~√λ steps, no exp/log per draw).
class multinomial_sampler {
 public:
  // counts: whole numbers ≥ 0 (stored as doubles); N = their sum.
  explicit multinomial_sampler(const std::vector<double>& counts);
  // One draw of multinomial(N, counts / N) into out (resized to counts.size()).
  void draw(rng& g, std::vector<double>& out) const;

  // Counts up to this share a class table; larger or fractional ones are drawn one by one.
  static constexpr std::uint32_t max_class_count = 64;

 private:
  struct poisson_cell {
    std::uint32_t index = 0;  // into counts
    double lambda = 0;
    double inv_lambda = 0;
    double f_mode = 0;  // P(X = mode)
    double F_mode = 0;  // P(X ≤ mode)
    std::uint32_t mode = 0;
  };
  static std::uint64_t poisson(rng& g, const poisson_cell& c);

  struct count_class {
    std::size_t cells_begin = 0, cells_end = 0;  // into class_cells_
    std::size_t cdf_begin = 0;                   // into cdf_: F(0), F(1), ... ending in +inf
    std::size_t window_begin = 0, window_size = 0;  // into cdf_: F(lo) .. F(lo + size − 1)
    std::uint32_t lo = 0;
    double below = 0;  // F(lo − 1) (0 when lo = 0): u < below means X < lo
  };
  std::size_t n_cells_ = 0;
  std::vector<count_class> classes_;
  std::vector<std::uint32_t> class_cells_;  // cell indices grouped by class
  std::vector<double> cdf_;
  std::vector<poisson_cell> generic_;
  std::vector<std::uint32_t> empty_;
  std::vector<std::uint32_t> nonempty_;  // the alias table's categories
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
