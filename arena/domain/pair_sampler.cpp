#include "arena/domain/pair_sampler.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "common/error.hpp"
#include "ranking/bradley_terry.hpp"

namespace huashan::arena {
namespace {

double boosted_weight(const sampler_model& m, const sampler_options& o) {
  if (!m.enabled || m.weight <= 0) return 0.0;
  const double short_of_target =
      o.target_votes == 0 ? 0.0
                          : std::max(0.0, 1.0 - static_cast<double>(m.votes) / static_cast<double>(o.target_votes));
  return m.weight * (1.0 + (o.new_model_boost - 1.0) * short_of_target);
}

void normalise(std::vector<double>& p) {
  const double total = std::accumulate(p.begin(), p.end(), 0.0);
  if (total <= 0) return;
  for (auto& v : p) v /= total;
}

std::vector<double> weighted_pairs(const std::vector<sampler_model>& models, const sampler_options& o, bool uniform) {
  const std::size_t m = models.size();
  std::vector<double> p(m * m, 0.0);
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = i + 1; j < m; ++j) {
      if (!models[i].enabled || !models[j].enabled) continue;
      p[i * m + j] = uniform ? 1.0 : boosted_weight(models[i], o) * boosted_weight(models[j], o);
    }
  }
  normalise(p);
  return p;
}

}  // namespace

sampling_policy parse_sampling_policy(std::string_view name) {
  if (name == "uniform") return sampling_policy::uniform;
  if (name == "weighted") return sampling_policy::weighted;
  if (name == "active") return sampling_policy::active;
  throw config_error(fmt::format("sampling policy '{}' is not one of uniform, weighted, active", name));
}

sampler_leaderboard::strength strength_from_rating(double rating, double ci_lo, double ci_hi) {
  const double sd = std::max(1e-6, (ci_hi - ci_lo) / (2 * 1.96) / ranking::rating_scale);
  return {(rating - ranking::rating_base) / ranking::rating_scale, sd * sd};
}

sampler_knowledge knowledge_for(const std::vector<std::string>& names, const sampler_leaderboard& board) {
  const std::size_t m = names.size();
  sampler_knowledge k;
  k.rating.assign(m, 0.0);
  k.variance.assign(m, 1.0);
  k.pair_battles.assign(m * m, 0.0);
  for (std::size_t i = 0; i < m; ++i) {
    if (const auto it = board.models.find(names[i]); it != board.models.end()) {
      k.rating[i] = it->second.rating;
      k.variance[i] = it->second.variance;
    }
    for (std::size_t j = i + 1; j < m; ++j) {
      const auto key = std::minmax(names[i], names[j]);
      if (const auto it = board.pair_battles.find({key.first, key.second}); it != board.pair_battles.end())
        k.pair_battles[i * m + j] = k.pair_battles[j * m + i] = it->second;
    }
  }
  return k;
}

std::vector<double> pair_probabilities(const std::vector<sampler_model>& models, const sampler_knowledge& knowledge,
                                       const sampler_options& options) {
  const std::size_t m = models.size();
  std::size_t enabled = 0;
  for (const auto& model : models) enabled += model.enabled ? 1 : 0;
  if (enabled < 2) throw input_error(fmt::format("a battle needs two enabled models; {} are enabled", enabled));

  if (options.policy == sampling_policy::uniform) return weighted_pairs(models, options, true);
  auto base = weighted_pairs(models, options, false);
  if (options.policy == sampling_policy::weighted) return base;

  if (knowledge.rating.size() != m || knowledge.variance.size() != m || knowledge.pair_battles.size() != m * m)
    return base;  // no leaderboard yet: nothing to be active about
  std::vector<double> active(m * m, 0.0);
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = i + 1; j < m; ++j) {
      if (base[i * m + j] <= 0) continue;
      // P(the fitted order of i and j is wrong) under a normal approximation,
      // shrunk by how much another battle would still add for this pair.
      const double sd = std::sqrt(std::max(1e-12, knowledge.variance[i] + knowledge.variance[j]));
      const double z = std::abs(knowledge.rating[i] - knowledge.rating[j]) / sd;
      const double p_wrong = 0.5 * std::erfc(z / std::sqrt(2.0));
      active[i * m + j] = p_wrong / std::sqrt(knowledge.pair_battles[i * m + j] + 1.0);
    }
  }
  normalise(active);
  const double explore = std::clamp(options.exploration, 0.0, 1.0);
  const bool active_empty = std::accumulate(active.begin(), active.end(), 0.0) <= 0;
  for (std::size_t k = 0; k < active.size(); ++k)
    active[k] = active_empty ? base[k] : explore * base[k] + (1.0 - explore) * active[k];
  return active;
}

pair_draw draw_pair(const std::vector<sampler_model>& models, const sampler_knowledge& knowledge,
                    const sampler_options& options, std::mt19937_64& rng) {
  const auto p = pair_probabilities(models, knowledge, options);
  const std::size_t m = models.size();
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  double u = unit(rng);
  std::size_t chosen = 0;
  for (std::size_t k = 0; k < p.size(); ++k) {
    if (p[k] <= 0) continue;
    chosen = k;
    u -= p[k];
    if (u <= 0) break;
  }
  pair_draw d;
  d.a = chosen / m;
  d.b = chosen % m;
  if (unit(rng) < 0.5) std::swap(d.a, d.b);
  d.probability = 0.5 * p[chosen];
  return d;
}

}  // namespace huashan::arena
