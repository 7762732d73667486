// Style control (LMArena's method): Bradley-Terry with four per-battle
// covariates added to the logit, so that ratings measure what is left after
// answer length and markdown use are accounted for.
//
//   feature_k = (a_k − b_k) / (a_k + b_k + 1)   for k = length, header, list, bold,
//   each standardised (z-score, population std) over all battles;
//   logit(P(A wins)) = ln10·(r_A − r_B) + β·f;   ties score ½;
//   minimise Σ_battles logloss + λ‖θ‖²,  λ = 0.25 (FastChat's reg = 0.5),
//   θ = (r, β) (penalty::all, FastChat) or θ = β (penalty::coefficients,
//   LMArena's newer variant; r then keeps mean zero per component).
//
// Battles that repeat the same (a, b, outcome, counts) are fitted once with a
// count. Newton with a dense (m+4)² Hessian; rows are split over threads.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include <Eigen/Core>

#include "ranking/battle.hpp"
#include "ranking/bootstrap.hpp"

namespace huashan::ranking {

enum class style_penalty : std::uint8_t {
  all,           // FastChat: λ‖θ‖² over ratings and style coefficients
  coefficients,  // LMArena's newer variant: λ‖β‖² on the style coefficients only
};

struct style_options {
  double lambda = 0.25;
  style_penalty penalty = style_penalty::all;
  double tolerance = 1e-9;  // stop when ‖∇ objective‖₂ / battles is below this
  int max_iterations = 100;
  unsigned threads = 0;     // for the point fit; 0 = all hardware threads
};

// Unique design rows (struct of arrays) and the standardisation used.
struct style_design {
  std::size_t n_models = 0;
  std::vector<std::uint32_t> a, b;
  std::vector<double> y;                            // score of a: 1, 0 or ½
  std::vector<std::array<double, n_style_features>> f;  // standardised features
  std::vector<double> count;                        // battles per unique row
  std::vector<double> weight;                       // Σ battle weights per row (= count when unweighted)
  std::vector<double> battle_weight;                // per battle; empty: all 1
  std::vector<std::uint32_t> row_of_battle;         // battle -> unique row
  std::array<double, n_style_features> mean{}, stdev{};
  std::size_t size() const { return a.size(); }
};

struct style_fit {
  Eigen::VectorXd r;                        // log10 strengths (display 400 r + 1000)
  std::array<double, n_style_features> coef{};  // β on standardised features
  int iterations = 0;
  double gradient_norm = 0;
  bool converged = false;
  std::array<double, n_style_features> coef_median{};  // bootstrap medians (NaN without bootstrap)
  std::array<double, n_style_features> coef_lo{}, coef_hi{};
};

// Builds the design from a table with style columns. Throws input_error when
// the table has none. A feature constant over all battles is left at zero.
// `battle_weight` (one per battle, > 0; empty: all 1) weights each battle's
// log-likelihood (inverse-propensity weighting); the bootstrap keeps them.
style_design build_style_design(const battle_table& t, const std::vector<double>& battle_weight = {});

// Fits with row weights `weights` (battles per unique row; design.weight for
// the data as is) from `start` ((m+4) vector; zeros when null).
style_fit fit_style(const style_design& d, const std::vector<double>& weights, const style_options& options,
                    const Eigen::VectorXd* start = nullptr);

// Bootstrap over battles (resampled with replacement, exactly: multinomial
// battles per unique row, or N battle indices drawn when battles carry
// weights): rounds × (m + 4) samples of (r, β). Each round refits by chord
// iterations with the full data's factorised Hessian, warm from the full fit:
// the first step from the rows' residuals at the fit (no exp), then one
// gradient pass over the drawn rows each, until a step moves nothing by more
// than 1e-7 (log10 units); Newton when they stall. Rounds on worker threads,
// deterministic per seed. Never throws for data reasons.
Eigen::MatrixXd bootstrap_style(const style_design& d, const style_fit& full, const style_options& options,
                                const bootstrap_options& boot);

// Sandwich covariance of (r, β), (m+4)², at a fit.
Eigen::MatrixXd style_sandwich(const style_design& d, const style_fit& fit, const style_options& options);

}  // namespace huashan::ranking
