// Online Elo, for comparison with LMArena's older tables: one pass over the
// battles in the given order (use battle_table::chronological()), every model
// starting at `initial`; expected score E_a = 1 / (1 + base^((R_b − R_a)/scale)),
// R_a += k (S_a − E_a), R_b += k ((1 − S_a) − E_b), ties scoring ½.
#pragma once

#include <vector>

#include "ranking/battle.hpp"

namespace huashan::ranking {

struct elo_options {
  double k = 4.0;
  double scale = 400.0;
  double base = 10.0;
  double initial = 1000.0;
};

// Ratings indexed by model after one pass in table order. Never throws.
std::vector<double> online_elo(const battle_table& battles, const elo_options& options = {});

}  // namespace huashan::ranking
