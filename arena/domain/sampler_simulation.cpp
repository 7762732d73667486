#include "arena/domain/sampler_simulation.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <thread>

#include "common/error.hpp"
#include "ranking/bradley_terry.hpp"

namespace huashan::arena {
namespace {

// Battles of one replicate as dense m×m cells from i's side: [i][j][cell].
struct dense_counts {
  std::size_t m;
  std::vector<std::array<double, ranking::n_cells>> cells;  // i < j only
  explicit dense_counts(std::size_t models) : m(models), cells(models * models, {0, 0, 0, 0}) {}

  void add(std::size_t a, std::size_t b, ranking::cell c) {
    if (a > b) {
      std::swap(a, b);
      if (c == ranking::cell::i_wins) c = ranking::cell::j_wins;
      else if (c == ranking::cell::j_wins) c = ranking::cell::i_wins;
    }
    cells[a * m + b][static_cast<std::size_t>(c)] += 1.0;
  }

  ranking::pair_counts to_pairs() const {
    ranking::pair_counts pc;
    pc.n_models = m;
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = i + 1; j < m; ++j) {
        const auto& c = cells[i * m + j];
        if (c[0] + c[1] + c[2] + c[3] == 0) continue;
        pc.i.push_back(static_cast<std::uint32_t>(i));
        pc.j.push_back(static_cast<std::uint32_t>(j));
        pc.count.push_back(c);
      }
    pc.weight.assign(pc.n_pairs(), 1.0);
    return pc;
  }
};

bool top_k_correct(const Eigen::VectorXd& fitted, const std::vector<double>& truth, int k) {
  std::vector<std::size_t> by_truth(truth.size()), by_fit(truth.size());
  std::iota(by_truth.begin(), by_truth.end(), 0);
  std::iota(by_fit.begin(), by_fit.end(), 0);
  std::sort(by_truth.begin(), by_truth.end(), [&](auto a, auto b) { return truth[a] > truth[b]; });
  std::sort(by_fit.begin(), by_fit.end(), [&](auto a, auto b) { return fitted[static_cast<Eigen::Index>(a)] > fitted[static_cast<Eigen::Index>(b)]; });
  return std::equal(by_truth.begin(), by_truth.begin() + k, by_fit.begin());
}

// Ratings and normal-approximation variances (inverse Fisher information
// diagonal) for the active policy.
sampler_knowledge knowledge_from(const dense_counts& counts, const ranking::bt_fit& fit) {
  const std::size_t m = counts.m;
  sampler_knowledge k;
  k.rating.assign(m, 0.0);
  k.variance.assign(m, 0.0);
  k.pair_battles.assign(m * m, 0.0);
  std::vector<double> information(m, 1e-6);
  for (std::size_t i = 0; i < m; ++i) {
    k.rating[i] = fit.r[static_cast<Eigen::Index>(i)];
    for (std::size_t j = i + 1; j < m; ++j) {
      const auto& c = counts.cells[i * m + j];
      const double n = c[0] + c[1] + c[2] + c[3];
      k.pair_battles[i * m + j] = k.pair_battles[j * m + i] = n;
      const double p = 1.0 / (1.0 + std::pow(10.0, k.rating[j] - fit.r[static_cast<Eigen::Index>(i)]));
      const double info = n * ranking::ln10 * ranking::ln10 * p * (1 - p);
      information[i] += info;
      information[j] += info;
    }
  }
  for (std::size_t i = 0; i < m; ++i) k.variance[i] = 1.0 / information[i];
  return k;
}

// One replicate of one policy: whether the top-k order is right at each checkpoint.
std::vector<bool> run_replicate(const simulation_options& o, sampling_policy policy, std::uint64_t world_seed,
                                std::uint64_t vote_seed) {
  const auto m = static_cast<std::size_t>(o.models);
  std::mt19937_64 world(world_seed);
  std::normal_distribution<double> normal(0.0, o.rating_sd);
  std::vector<double> truth(m);
  for (auto& r : truth) r = normal(world);

  std::mt19937_64 rng(vote_seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<sampler_model> models(m);
  sampler_options so;
  so.policy = policy;
  so.target_votes = 0;  // a fixed set of models: no new-model boost in the comparison
  dense_counts counts(m);
  sampler_knowledge knowledge;
  ranking::bt_fit last_fit;
  std::vector<bool> correct;
  for (int vote = 1; vote <= o.max_votes; ++vote) {
    const auto d = draw_pair(models, knowledge, so, rng);
    const double p_a = 1.0 / (1.0 + std::pow(10.0, truth[d.b] - truth[d.a]));
    const double u = unit(rng);
    ranking::cell c = u < o.tie_rate ? ranking::cell::tie
                                     : (unit(rng) < p_a ? ranking::cell::i_wins : ranking::cell::j_wins);
    counts.add(d.a, d.b, c);
    ++models[d.a].votes;
    ++models[d.b].votes;
    const bool checkpoint = vote % o.checkpoint_every == 0;
    const bool refit = policy == sampling_policy::active && vote % o.refit_every == 0;
    if (!checkpoint && !refit) continue;
    last_fit = ranking::fit_bradley_terry(counts.to_pairs());
    if (refit) knowledge = knowledge_from(counts, last_fit);
    if (checkpoint) correct.push_back(top_k_correct(last_fit.r, truth, o.top_k));
  }
  return correct;
}

}  // namespace

std::vector<policy_simulation> simulate_sampling(const simulation_options& o,
                                                 const std::vector<sampling_policy>& policies) {
  if (o.models < 2) throw input_error("simulate: --models must be at least 2");
  if (o.top_k < 1 || o.top_k > o.models)
    throw input_error(fmt::format("simulate: --top-k {} must be between 1 and --models {}", o.top_k, o.models));
  if (o.replicates < 1 || o.checkpoint_every < 1 || o.max_votes < o.checkpoint_every || o.refit_every < 1)
    throw input_error("simulate: replicates, checkpoint and refit intervals must be positive, max votes >= checkpoint");
  if (o.tie_rate < 0 || o.tie_rate >= 1) throw input_error("simulate: --tie-rate must be in [0, 1)");

  std::vector<policy_simulation> out;
  const int n_checkpoints = o.max_votes / o.checkpoint_every;
  for (const auto policy : policies) {
    std::vector<std::vector<bool>> results(static_cast<std::size_t>(o.replicates));
    const unsigned workers = std::max(1u, std::min<unsigned>(std::thread::hardware_concurrency(),
                                                             static_cast<unsigned>(o.replicates)));
    std::vector<std::thread> threads;
    for (unsigned w = 0; w < workers; ++w) {
      threads.emplace_back([&, w] {
        for (int r = static_cast<int>(w); r < o.replicates; r += static_cast<int>(workers)) {
          // The world depends on the replicate only, so every policy faces the same ones.
          results[static_cast<std::size_t>(r)] =
              run_replicate(o, policy, o.seed * 1000003ULL + static_cast<std::uint64_t>(r),
                            o.seed * 7919ULL + static_cast<std::uint64_t>(r) * 104729ULL + 1);
        }
      });
    }
    for (auto& t : threads) t.join();
    policy_simulation sim;
    sim.policy = policy;
    for (int c = 0; c < n_checkpoints; ++c) {
      int right = 0;
      for (const auto& r : results) right += r[static_cast<std::size_t>(c)] ? 1 : 0;
      const double share = static_cast<double>(right) / o.replicates;
      const int votes = (c + 1) * o.checkpoint_every;
      sim.curve.emplace_back(votes, share);
      if (!sim.votes_needed && share >= o.target_probability) sim.votes_needed = votes;
    }
    out.push_back(std::move(sim));
  }
  return out;
}

}  // namespace huashan::arena
