// Bradley-Terry maximum likelihood on pair counts, LMArena's conventions:
// P(i beats j) = σ(ln10 · (r_i − r_j)), both tie kinds score one half for each
// side, displayed rating = 400·r + 1000. Newton's method with a dense Eigen
// Hessian (m ≤ a few hundred models) and a backtracking line search.
//
// Gauge: the likelihood only sees differences, so the Hessian H (m×m, a
// weighted graph Laplacian) has the indicator u_k of each connected component
// in its null space. Newton solves (H + c·Σ u_k u_kᵀ) Δ = −g, which leaves
// Σ Δ = 0 within each component (g ⟂ u_k), so ratings keep mean zero per
// component, as FastChat's L-BFGS from zeros does.
//
// Existence: the MLE is finite iff, within each component, the digraph with
// an edge i→j whenever i won or tied against j is strongly connected. When it
// is not (a model that never lost or never won, or a group that always beats
// another), every model gets a prior of `prior_ties` virtual ties against a
// fixed opponent of rating 0 (displayed 1000): the log-likelihood gains
// Σ_i prior_ties · ½·[log σ(α r_i) + log σ(−α r_i)], a logistic prior that
// keeps every rating finite. The fit reports which models caused it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include "ranking/pair_counts.hpp"

namespace huashan::ranking {

inline constexpr double ln10 = 2.302585092994045684;
inline constexpr double rating_scale = 400.0;   // displayed = scale · r + base
inline constexpr double rating_base = 1000.0;

struct bt_options {
  double tolerance = 1e-9;      // stop when ‖∇(NLL / battles)‖₂ is below this
  int max_iterations = 100;
  double prior_ties = 1.0;      // virtual ties per model, only when the MLE does not exist
  // Chord refits (refit_bradley_terry) also stop once a step moves no rating
  // by more than this (log10 units); 0: only the gradient tolerance. The
  // bootstrap uses 2.5e-5 (0.01 rating points), far below its quantiles' noise.
  double step_tolerance = 0;
  // Chord refits evaluate the likelihood (and the gradient) once more at
  // their answer for neg_log_likelihood and gradient_norm; the bootstrap,
  // which keeps only r, turns this off (those two then describe the last
  // iterate before the final step).
  bool final_likelihood = true;
};

struct bt_fit {
  Eigen::VectorXd r;            // log10 strengths, mean zero within each component
  int iterations = 0;
  double gradient_norm = 0;     // of NLL / battles at r
  double neg_log_likelihood = 0;  // NLL / battles at r (prior term included when used)
  bool converged = false;
  bool prior_used = false;
  std::vector<std::uint32_t> never_won;   // models with zero score (no win, no tie)
  std::vector<std::uint32_t> never_lost;  // models with full score (no loss, no tie)
  std::vector<std::uint32_t> component;   // connected component of each model
  std::size_t n_components = 0;
};

// Fits r from the (weighted) pair counts, starting at `start` (zeros when
// null). Never throws for data reasons: a fit that did not converge within
// max_iterations says so in `converged`.
bt_fit fit_bradley_terry(const pair_counts& pc, const bt_options& options = {},
                         const Eigen::VectorXd* start = nullptr);

// The factorised Hessian (of NLL / battles, gauge term added) at a fit, for
// fast refits of resampled counts by chord iterations (see refit_bradley_terry).
struct bt_hessian {
  Eigen::LLT<Eigen::MatrixXd> llt;
  bool usable = false;  // false when the fit used the prior or has several components
  // σ(r_i − r_j) of each pair at the fit's r (`at`): a refit starting there
  // takes its first gradient from these, with no strengths.
  Eigen::VectorXd at;
  std::vector<double> sigma;
};
bt_hessian factor_hessian(const pair_counts& pc, const bt_fit& fit);

// Refit of counts close to those `near` was fitted on (a bootstrap resample):
// chord iterations r ← r − H₀⁻¹ ∇ from near.r with the fixed factorisation h
// (O(pairs + m²) each, linear convergence at rate ‖I − H₀⁻¹H‖ ≪ 1), and full
// Newton (fit_bradley_terry) when the resample needs the prior, h is not
// usable, or the chord stalls. Same result as fit_bradley_terry to the tolerance.
bt_fit refit_bradley_terry(const pair_counts& pc, const bt_fit& near, const bt_hessian& h,
                           const bt_options& options = {});

// Whether the MLE exists (see the header comment) for these counts.
bool mle_exists(const pair_counts& pc);

// Sandwich (robust) covariance of r at a fit: H⁺ G H⁺ with H the Hessian of
// the total NLL (prior included when used) and G = Σ_battles g gᵀ the outer
// products of per-battle scores. m×m, rows/columns sum to zero per component
// when no prior was needed.
Eigen::MatrixXd sandwich_covariance(const pair_counts& pc, const bt_fit& fit, const bt_options& options = {});

// P(i beats j) under the fit, counting a tie as half: σ(ln10 (r_i − r_j)).
double win_probability(const bt_fit& fit, std::uint32_t i, std::uint32_t j);

}  // namespace huashan::ranking
