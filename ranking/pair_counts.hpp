// Sufficient statistics of a battle table for pairwise models: for each
// unordered pair (i < j) that met, the count of each outcome seen from i.
// A Bradley-Terry fit, its bootstrap and the tie models only need these, so
// their cost grows with the number of pairs (≤ m²/2), not with battles.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "ranking/battle.hpp"

namespace huashan::ranking {

// Outcome cells of one pair, from the lower-indexed model i's side.
enum class cell : std::uint8_t { i_wins, j_wins, tie, tie_bothbad };
inline constexpr std::size_t n_cells = 4;

struct pair_counts {
  std::size_t n_models = 0;
  std::vector<std::uint32_t> i;                       // i[p] < j[p]
  std::vector<std::uint32_t> j;
  std::vector<std::array<double, n_cells>> count;     // battles per cell (double: bootstrap and weights)
  std::vector<double> weight;                         // per-pair multiplier (1, or LMArena's reweighting)
  // Mean battle weight of each cell (inverse-propensity weights); empty: all 1.
  // Counts stay whole battles, so the bootstrap resamples them and keeps these.
  std::vector<std::array<double, n_cells>> cell_weight;

  std::size_t n_pairs() const { return i.size(); }
  // Battles in pair p (unweighted).
  double battles(std::size_t p) const { return count[p][0] + count[p][1] + count[p][2] + count[p][3]; }
  // Battles in cell c of pair p times their mean battle weight.
  double weighted(std::size_t p, std::size_t c) const {
    return cell_weight.empty() ? count[p][c] : count[p][c] * cell_weight[p][c];
  }
  // Weighted battles and weighted score of i (wins + half of both tie kinds).
  double n(std::size_t p) const {
    return weight[p] * (weighted(p, 0) + weighted(p, 1) + weighted(p, 2) + weighted(p, 3));
  }
  double s(std::size_t p) const { return weight[p] * (weighted(p, 0) + 0.5 * (weighted(p, 2) + weighted(p, 3))); }
  // Total unweighted battles.
  double total() const;
};

// Counts the battles of `t` per unordered pair and cell, pairs sorted by (i, j).
pair_counts count_pairs(const battle_table& t);
// The same counts plus each cell's mean of `battle_weight` (one per battle of
// `t`, > 0) in cell_weight: a fit on them maximises Σ_k w_k log-lik_k exactly.
pair_counts count_pairs(const battle_table& t, const std::vector<double>& battle_weight);
// `pc` with `k` more battles "winner beats loser" (what-if refits: robustness,
// the attacker simulation); a pair that never met is inserted in (i, j) order.
pair_counts with_added_votes(const pair_counts& pc, std::uint32_t winner, std::uint32_t loser, double k);
// Sets weight = 1 / max(battles in pair, floor), LMArena's optional pair
// reweighting (floor 50), so that over-sampled pairs do not dominate.
void reweight_pairs(pair_counts& pc, double floor = 50.0);

// Connected components of the comparison graph (an edge per pair that met):
// component[m] for each model, numbered 0.. in order of first model.
std::vector<std::uint32_t> components(const pair_counts& pc, std::size_t& n_components);

}  // namespace huashan::ranking
