// A full leaderboard from a battle table: the entry point `huashan rank` and
// the arena use. Combines the point fit, bootstrap and sandwich intervals,
// rank_ub, online Elo, style control, tie models, matrices and robustness
// numbers according to the options. No I/O; warnings are returned, not logged.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Core>

#include "ranking/battle.hpp"
#include "ranking/bradley_terry.hpp"
#include "ranking/style_control.hpp"
#include "ranking/ties.hpp"

namespace huashan::ranking {

struct anchor {
  std::string model;
  double rating = 0;  // displayed rating the model is pinned to
};

struct leaderboard_options {
  std::uint32_t bootstrap_rounds = 1000;  // 0: no bootstrap (sandwich intervals only)
  std::uint64_t seed = 42;
  unsigned threads = 0;                   // 0: all hardware threads
  std::optional<anchor> anchor_model;     // pin one model's displayed rating
  std::uint64_t min_votes = 0;            // hide models with fewer battles (after fitting)
  bool reweight = false;                  // pair weight 1 / max(pair battles, 50)
  // Weight each battle by 1 / sampling_probability, normalised to mean 1, so
  // that pairs an adaptive sampler over-drew do not dominate (Bradley-Terry
  // and style control; the explicit tie models ignore it, with a warning).
  bool inverse_propensity = false;
  bool elo = false;                       // add online Elo (chronological order)
  double elo_k = 4.0;
  bool style_control = false;             // style-adjusted ratings instead of plain BT
  style_penalty penalty = style_penalty::all;
  tie_model ties = tie_model::half;       // non-default: fit that tie model instead of BT
  bool matrices = false;                  // battle counts, win fractions, predicted probabilities
  bool robustness = false;                // adversarial votes to swap each adjacent pair
  bt_options fit;
};

struct leaderboard_row {
  std::uint32_t model = 0;       // index into leaderboard::models
  std::string name;
  double rating = 0;             // displayed point rating (full-data fit)
  double ci_lo = 0, ci_hi = 0;   // 95% interval: bootstrap quantiles, or sandwich without bootstrap
  double boot_median = 0;        // NaN without bootstrap
  double sandwich_lo = 0, sandwich_hi = 0;  // rating ∓ 1.96·400·√Cov_ii
  std::uint32_t rank = 0;        // 1 + models rated higher (among shown)
  std::uint32_t rank_ub = 0;     // 1 + models whose ci_lo exceeds this ci_hi (among shown)
  std::uint64_t votes = 0;
  std::optional<double> elo;
  std::uint32_t component = 0;
  std::optional<std::uint64_t> votes_to_swap_with_next;  // robustness: vs the next row
};

struct leaderboard {
  std::vector<leaderboard_row> rows;  // shown models, best first
  std::vector<std::string> models;    // all model names by index
  std::uint64_t battles = 0;
  std::size_t n_components = 1;
  std::string interval_method;        // "bootstrap" or "sandwich"
  std::uint32_t bootstrap_rounds = 0;
  std::vector<std::string> warnings;
  std::optional<style_fit> style;     // with style control: coefficients etc.
  std::optional<tie_fit> tie;         // with a tie model: its parameter
  struct matrices_t {
    std::vector<std::uint32_t> order;  // model indices of rows/columns (the shown rows' order)
    Eigen::MatrixXd battles;           // battles between row and column model
    Eigen::MatrixXd win_fraction;      // row's score vs column (ties ½), NaN when they never met
    Eigen::MatrixXd predicted;         // P(row beats column) under the fit
  };
  std::optional<matrices_t> matrices;
};

// Computes the leaderboard. Throws input_error when the anchor names an
// unknown model, the table lacks style columns with style control on, or
// lacks sampling probabilities (or has one outside (0, 1]) with
// inverse_propensity on.
leaderboard compute_leaderboard(const battle_table& battles, const leaderboard_options& options);

// Inverse-propensity weights: 1 / sampling_probability per battle, scaled to
// mean 1. Throws input_error naming the battle's source line for a
// probability outside (0, 1] or when the column is missing.
std::vector<double> inverse_propensity_weights(const battle_table& battles);

// rank_ub of each entry: 1 + #{k : lo[k] > hi[i]}.
std::vector<std::uint32_t> upper_bound_ranks(const std::vector<double>& lo, const std::vector<double>& hi);

}  // namespace huashan::ranking
