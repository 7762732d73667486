// Robustness number of a ranking: for two models ranked upper > lower, the
// smallest number of added adversarial votes after which a refit ranks lower
// at or above upper. Candidate vote kinds are "lower beats upper", "lower
// beats X" and "X beats upper" for every other model X; the kind with the
// largest first-order effect on r_upper − r_lower (through the inverse
// Hessian) is chosen and its count found exactly by bisection over refits.
// The result is an upper bound on the true minimum over mixed vote sets.
#pragma once

#include <cstdint>
#include <optional>

#include "ranking/bradley_terry.hpp"
#include "ranking/pair_counts.hpp"

namespace huashan::ranking {

// Votes of the most effective kind needed to swap upper and lower (fit.r[upper]
// ≥ fit.r[lower] assumed); nullopt when more than `cap` would be needed or the
// two are in different components.
std::optional<std::uint64_t> votes_to_swap(const pair_counts& pc, const bt_fit& fit, std::uint32_t upper,
                                           std::uint32_t lower, const bt_options& options = {},
                                           std::uint64_t cap = 1'000'000);

}  // namespace huashan::ranking
