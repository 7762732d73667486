// Explicit tie models, beyond LMArena's "a tie is half a win". Both fit the
// ratings r (same scale: without ties, P(i beats j) = σ(ln10 (r_i − r_j)))
// jointly with one tie parameter, by Newton on the pair counts (both tie
// kinds count as ties):
//   Rao-Kupper: P(i>j) = σ(d − κ), P(j>i) = σ(−d − κ), P(tie) = the rest,
//               d = ln10 (r_i − r_j), κ = ln θ > 0 (θ of Rao & Kupper 1967).
//   Davidson:   P(i>j) : P(j>i) : P(tie) = e^x : e^−x : ν,  x = d/2
//               (Davidson 1970; ν = 2·P(tie)/P(win) between equals).
// The tie parameter is fitted as τ = log κ or log ν, so it stays positive.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include <Eigen/Core>

#include "ranking/battle.hpp"
#include "ranking/bradley_terry.hpp"
#include "ranking/pair_counts.hpp"

namespace huashan::ranking {

enum class tie_model : std::uint8_t {
  half,        // LMArena: a tie is half a win for each side (plain Bradley-Terry)
  rao_kupper,
  davidson,
};
// Parses "half|rao-kupper|davidson"; throws input_error naming the value.
tie_model parse_tie_model(std::string_view name);
std::string_view tie_model_name(tie_model t);

struct tie_fit {
  tie_model model = tie_model::half;
  Eigen::VectorXd r;        // log10 strengths, mean zero per component
  double tie_param = 0;     // κ (Rao-Kupper) or ν (Davidson); 0 for half
  int iterations = 0;
  double gradient_norm = 0;
  bool converged = false;
  bool prior_used = false;
};

// Fits `model` to the pair counts (weights ignored). For tie_model::half this
// is fit_bradley_terry. Never throws for data reasons.
tie_fit fit_tie_model(const pair_counts& pc, tie_model model, const bt_options& options = {});

// Expected score of i against j (win 1, tie ½) under a fit.
double expected_score(const tie_fit& fit, std::uint32_t i, std::uint32_t j);
// Probability of a tie between i and j under a fit (0 for half).
double tie_probability(const tie_fit& fit, std::uint32_t i, std::uint32_t j);

// Held-out calibration of the three tie models on the same split: battles are
// held out with probability `holdout` (seeded); each model is fitted on the
// rest and scored by the mean absolute error between predicted and observed
// expected score per held-out pair, weighted by held-out battles.
struct tie_comparison_row {
  tie_model model = tie_model::half;
  double calibration_mae = 0;
  double tie_param = 0;
  std::vector<std::uint32_t> order;  // model indices best first (fit on all battles)
  double spearman_vs_half = 1;       // rank correlation with the default's order
  std::uint32_t max_rank_shift = 0;  // largest |rank change| vs the default
};
std::vector<tie_comparison_row> compare_tie_models(const battle_table& battles, double holdout = 0.2,
                                                   std::uint64_t seed = 42);

// Spearman rank correlation of two score vectors (ties get average ranks).
double spearman(const Eigen::VectorXd& x, const Eigen::VectorXd& y);

}  // namespace huashan::ranking
