// Which two models meet in the next battle. Three policies:
//   uniform  – every pair of enabled models equally likely;
//   weighted – pair (i, j) ∝ w_i·w_j with w = configured weight × a boost for
//              models still short of `target_votes` (new and under-voted
//              models up; disabled models never drawn);
//   active   – pairs whose order the current leaderboard is least sure of:
//              ∝ P(order wrong) / √(n_ij + 1), mixed with `exploration` of the
//              weighted policy so every pair keeps a positive probability.
// Every draw reports its probability, so the rankings can be inverse-propensity
// weighted (ranking's per-battle weights).
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace huashan::arena {

enum class sampling_policy { uniform, weighted, active };

// "uniform" | "weighted" | "active"; throws config_error naming the value.
sampling_policy parse_sampling_policy(std::string_view name);

struct sampler_model {
  double weight = 1.0;      // configured sampling weight (> 0)
  std::uint64_t votes = 0;  // battles with a vote so far
  bool enabled = true;
};

// What the active policy knows: current ratings (log10 strengths), their
// variances, and battles per pair (row-major m×m, symmetric).
struct sampler_knowledge {
  std::vector<double> rating;
  std::vector<double> variance;
  std::vector<double> pair_battles;
};

// The overall leaderboard as the active policy reads it, by model name: each
// rated model's log10 strength and its variance, and battles per unordered
// pair (names in ascending order).
struct sampler_leaderboard {
  struct strength {
    double rating = 0;    // log10 strength (displayed = 400 · rating + 1000)
    double variance = 1;  // of `rating`
  };
  std::map<std::string, strength> models;
  std::map<std::pair<std::string, std::string>, double> pair_battles;
};

// A displayed rating and its 95% interval as a log10 strength and variance
// (the interval spans ±1.96 sd; the variance is at least 1e-12).
sampler_leaderboard::strength strength_from_rating(double rating, double ci_lo, double ci_hi);
// What the active policy knows of models `names` (in the sampler's order)
// from `board`: models it does not list get strength 0 and variance 1.
sampler_knowledge knowledge_for(const std::vector<std::string>& names, const sampler_leaderboard& board);

struct sampler_options {
  sampling_policy policy = sampling_policy::weighted;
  std::uint64_t target_votes = 300;  // a model with fewer votes gets boosted
  double new_model_boost = 3.0;      // weight multiplier at zero votes, fading to 1 at target_votes
  double exploration = 0.2;          // share of the active policy drawn from the weighted one
};

struct pair_draw {
  std::size_t a = 0;  // shown as side A
  std::size_t b = 0;  // shown as side B
  double probability = 0;  // of this ordered (a, b) draw
};

// Probability of each unordered pair (i < j), row-major over the upper
// triangle: index i·m + j. Zero for pairs with a disabled model. Throws
// input_error when fewer than two models are enabled.
std::vector<double> pair_probabilities(const std::vector<sampler_model>& models, const sampler_knowledge& knowledge,
                                       const sampler_options& options);

// Draws a pair and which side each model is shown on (a fair coin).
pair_draw draw_pair(const std::vector<sampler_model>& models, const sampler_knowledge& knowledge,
                    const sampler_options& options, std::mt19937_64& rng);

}  // namespace huashan::arena
