// `huashan simulate`: how many votes each sampling policy needs before the
// leaderboard gets the top-k order right, in a synthetic Bradley-Terry world
// whose true ratings the simulation knows. Replicates run with independent
// seeds; a policy "reaches" the target at the first checkpoint where at least
// `target_probability` of replicates have the exact top-k order.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "arena/domain/pair_sampler.hpp"

namespace huashan::arena {

struct simulation_options {
  int models = 20;
  double rating_sd = 0.25;         // true ratings ~ N(0, sd²) in log10 units (0.25 = 100 displayed points)
  double tie_rate = 0.15;          // share of battles that end in a tie
  int top_k = 10;
  double target_probability = 0.9;
  int replicates = 40;
  int checkpoint_every = 500;      // votes between leaderboard checks
  int max_votes = 40000;
  int refit_every = 250;           // votes between refits the active policy sees
  std::uint64_t seed = 7;
};

struct policy_simulation {
  sampling_policy policy = sampling_policy::uniform;
  std::optional<int> votes_needed;                  // nullopt: not reached within max_votes
  std::vector<std::pair<int, double>> curve;        // (votes, share of replicates with the exact top-k order)
};

// Runs every policy on the same worlds (same true ratings per replicate).
// Throws input_error for inconsistent options (top_k > models, ...).
std::vector<policy_simulation> simulate_sampling(const simulation_options& options,
                                                 const std::vector<sampling_policy>& policies);

}  // namespace huashan::arena
