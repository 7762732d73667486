#include "arena/domain/attack_simulation.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <thread>

#include "common/error.hpp"
#include "common/xoshiro256.hpp"
#include "ranking/bradley_terry.hpp"
#include "ranking/pair_counts.hpp"

namespace huashan::arena {
namespace {

constexpr std::size_t none = static_cast<std::size_t>(attack_defence::none);
constexpr std::size_t arena = static_cast<std::size_t>(attack_defence::arena);
constexpr std::size_t consensus = static_cast<std::size_t>(attack_defence::consensus);

// 1 + the models fitted strictly above `model`.
int fitted_rank(const Eigen::VectorXd& r, std::size_t model) {
  int above = 0;
  for (Eigen::Index k = 0; k < r.size(); ++k) above += r[k] > r[static_cast<Eigen::Index>(model)] ? 1 : 0;
  return 1 + above;
}

// The model fitted just above `model` (the smallest rating above its).
std::size_t fitted_just_above(const Eigen::VectorXd& r, std::size_t model) {
  const double own = r[static_cast<Eigen::Index>(model)];
  std::size_t best = model;
  double best_r = std::numeric_limits<double>::infinity();
  for (Eigen::Index k = 0; k < r.size(); ++k)
    if (r[k] > own && r[k] < best_r) best_r = r[k], best = static_cast<std::size_t>(k);
  return best;
}

// Votes of a session of an honest visitor: 1 + Geometric, mean `mean`, at most `most`.
int honest_session_length(xoshiro256pp& g, double mean, int most) {
  if (mean <= 1.0) return 1;
  const double p = 1.0 / mean;  // success probability of the geometric tail
  const double u = 1.0 - g.uniform();  // (0, 1]
  return static_cast<int>(std::min(1.0 + std::floor(std::log(u) / std::log1p(-p)), static_cast<double>(most)));
}

void random_pair(xoshiro256pp& g, std::size_t m, std::size_t& a, std::size_t& b) {
  a = static_cast<std::size_t>(g.below(m));
  do b = static_cast<std::size_t>(g.below(m)); while (b == a);
}

struct simulated_arena {
  ranking::battle_table t;
  std::vector<std::string> names;

  explicit simulated_arena(std::size_t m) {
    for (std::size_t k = 0; k < m; ++k) names.push_back(fmt::format("m{}", k));
    for (const auto& n : names) t.models.intern(n);  // indices fixed before any battle
  }
  void add(std::size_t a, std::size_t b, ranking::outcome o, std::uint32_t voter) {
    t.add(names[a], names[b], o, static_cast<std::uint32_t>(t.size() + 2));
    t.voter.push_back(voter);
  }
};

attack_replicate run_replicate(const attack_options& o, std::uint64_t replicate) {
  const auto m = static_cast<std::size_t>(o.models);
  const std::uint64_t base = o.seed * 1000003ULL + replicate * 7919ULL;
  // True ratings and the target.
  std::mt19937_64 world(base);
  std::normal_distribution<double> normal(0.0, o.rating_sd);
  std::vector<double> truth(m);
  for (auto& r : truth) r = normal(world);
  std::vector<std::size_t> by_truth(m);
  for (std::size_t k = 0; k < m; ++k) by_truth[k] = k;
  std::sort(by_truth.begin(), by_truth.end(), [&](auto x, auto y) { return truth[x] > truth[y]; });
  const std::size_t target = by_truth[static_cast<std::size_t>(o.target_rank - 1)];

  // Honest votes.
  xoshiro256pp honest_rng(xoshiro_stream_seed(base, 1));
  simulated_arena arena_votes(m);
  for (int votes = 0, session = 0; votes < o.honest_votes; ++session) {
    const auto voter = arena_votes.t.voters.intern(fmt::format("h{}", session));
    const int n = honest_session_length(honest_rng, o.honest_session_votes, o.honest_votes - votes);
    for (int k = 0; k < n; ++k, ++votes) {
      std::size_t a = 0, b = 0;
      random_pair(honest_rng, m, a, b);
      const double p_a = 1.0 / (1.0 + std::pow(10.0, truth[b] - truth[a]));
      const ranking::outcome w = honest_rng.uniform() < o.tie_rate ? ranking::outcome::tie
                                 : honest_rng.uniform() < p_a       ? ranking::outcome::model_a
                                                                    : ranking::outcome::model_b;
      arena_votes.add(a, b, w, voter);
    }
  }
  const std::uint32_t n_honest_voters = static_cast<std::uint32_t>(arena_votes.t.voters.size());

  attack_replicate out;
  const int max_votes = o.max_sessions * o.votes_per_session;
  const ranking::pair_counts honest_pc = ranking::count_pairs(arena_votes.t);
  const ranking::bt_fit plain = ranking::fit_bradley_terry(honest_pc, o.consensus.fit);
  const auto honest_consensus = ranking::iterated_session_consensus(arena_votes.t, o.consensus, &plain.r);
  out.start_rank[none] = out.start_rank[arena] = fitted_rank(plain.r, target);
  out.start_rank[consensus] = fitted_rank(honest_consensus.fit.r, target);
  out.honest_tested = static_cast<int>(honest_consensus.sessions.size());
  out.honest_flagged = static_cast<int>(honest_consensus.flagged.size());

  // (none): k votes "target beats the model just above", fewest k by doubling and bisection.
  if (out.start_rank[none] > 1) {
    const auto upper = static_cast<std::uint32_t>(fitted_just_above(plain.r, target));
    auto moved = [&](int k) {
      const auto f = ranking::fit_bradley_terry(ranking::with_added_votes(honest_pc, static_cast<std::uint32_t>(target), upper, k),
                                                o.consensus.fit, &plain.r);
      return fitted_rank(f.r, target) < out.start_rank[none];
    };
    int lo = 0, hi = 1;
    while (hi < max_votes && !moved(hi)) lo = hi, hi = std::min(max_votes, 2 * hi);
    if (moved(hi)) {
      while (hi - lo > 1) {
        const int mid = lo + (hi - lo) / 2;
        (moved(mid) ? hi : lo) = mid;
      }
      out.votes[none] = out.battles[none] = hi;
    }
  }

  // (arena) and (consensus): one attack stream, two ways of rating it.
  xoshiro256pp attack_rng(xoshiro_stream_seed(base, 2));
  const bool can_move_arena = out.start_rank[arena] > 1, can_move_consensus = out.start_rank[consensus] > 1;
  bool done_arena = !can_move_arena, done_consensus = !can_move_consensus;
  Eigen::VectorXd r_arena = plain.r, r_consensus = honest_consensus.fit.r;
  ranking::consensus_result last_consensus;
  std::vector<std::uint32_t> flags = honest_consensus.flagged;
  bool consensus_ran = false;
  int votes = 0, battles = 0, session_votes = 0, session = 0;
  std::uint32_t voter = arena_votes.t.voters.intern("a0");
  while (votes < max_votes && !(done_arena && done_consensus)) {
    std::size_t a = 0, b = 0;
    random_pair(attack_rng, m, a, b);
    ++battles;
    const bool thinks_a = attack_rng.uniform() < (a == target ? o.recognition : o.false_alarm);
    const bool thinks_b = attack_rng.uniform() < (b == target ? o.recognition : o.false_alarm);
    if (!thinks_a && !thinks_b) continue;
    const bool for_a = thinks_a && (!thinks_b || attack_rng.uniform() < 0.5);
    arena_votes.add(a, b, for_a ? ranking::outcome::model_a : ranking::outcome::model_b, voter);
    ++votes;
    if (++session_votes == o.votes_per_session && votes < max_votes) {
      session_votes = 0;
      voter = arena_votes.t.voters.intern(fmt::format("a{}", ++session));
    }
    if (votes % o.check_every != 0 && votes != max_votes) continue;
    if (!done_arena) {
      const auto f = ranking::fit_bradley_terry(ranking::count_pairs(arena_votes.t), o.consensus.fit, &r_arena);
      r_arena = f.r;
      if (fitted_rank(f.r, target) < out.start_rank[arena]) {
        done_arena = true;
        out.votes[arena] = votes;
        out.battles[arena] = battles;
      }
    }
    if (!done_consensus) {
      // Each recompute starts from the previous one's flags, as a live arena's would.
      last_consensus = ranking::iterated_session_consensus(arena_votes.t, o.consensus, &r_consensus, &flags);
      flags = last_consensus.flagged;
      consensus_ran = true;
      r_consensus = last_consensus.fit.r;
      if (fitted_rank(r_consensus, target) < out.start_rank[consensus]) {
        done_consensus = true;
        out.votes[consensus] = votes;
        out.battles[consensus] = battles;
      }
    }
  }
  if (consensus_ran)
    for (const auto& s : last_consensus.sessions)
      if (s.voter >= n_honest_voters) {
        ++out.attacker_tested;
        out.attacker_flagged += s.flagged ? 1 : 0;
      }
  return out;
}

// The median of the replicates' values, the lower middle one for an even
// count; a replicate that did not reach counts as +∞, so the median is
// nullopt when fewer than half reached.
std::optional<double> median_of(std::vector<std::optional<int>> values) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end(), [](const auto& x, const auto& y) {
    if (!x) return false;
    if (!y) return true;
    return *x < *y;
  });
  const auto& mid = values[(values.size() - 1) / 2];
  return mid ? std::optional<double>(*mid) : std::nullopt;
}

}  // namespace

const char* attack_defence_name(attack_defence d) {
  switch (d) {
    case attack_defence::none: return "none";
    case attack_defence::arena: return "arena";
    case attack_defence::consensus: return "consensus";
  }
  return "?";
}

attack_result simulate_attack(const attack_options& o) {
  if (o.models < 3) throw input_error("simulate attack: --models must be at least 3");
  if (o.target_rank < 2 || o.target_rank > o.models)
    throw input_error(fmt::format("simulate attack: --target-rank {} must be between 2 and --models {}", o.target_rank,
                                  o.models));
  if (o.honest_votes < o.models)
    throw input_error(fmt::format("simulate attack: --honest-votes {} must be at least --models {}", o.honest_votes, o.models));
  if (!(o.honest_session_votes >= 1)) throw input_error("simulate attack: --honest-session-votes must be at least 1");
  if (!(o.recognition >= 0 && o.recognition <= 1) || !(o.false_alarm >= 0 && o.false_alarm <= 1))
    throw input_error("simulate attack: --recognition and --false-alarm must be in [0, 1]");
  if (!(o.tie_rate >= 0 && o.tie_rate < 1)) throw input_error("simulate attack: --tie-rate must be in [0, 1)");
  if (!(o.rating_sd > 0)) throw input_error("simulate attack: --rating-sd must be positive");
  if (o.votes_per_session < 1 || o.max_sessions < 1 || o.check_every < 1 || o.replicates < 1)
    throw input_error("simulate attack: votes per session, sessions, check interval and replicates must be positive");
  if (static_cast<long long>(o.max_sessions) * o.votes_per_session > 100'000'000)
    throw input_error("simulate attack: --max-sessions × --votes-per-session is above 10^8 votes");
  if (!(o.consensus.floor >= 0 && o.consensus.floor <= 1) || o.consensus.rounds < 1 || !(o.consensus.threshold > 0))
    throw input_error("simulate attack: the consensus floor must be in [0, 1], rounds at least 1, threshold positive");

  attack_result result;
  result.max_votes = o.max_sessions * o.votes_per_session;
  result.replicates.resize(static_cast<std::size_t>(o.replicates));
  const unsigned workers =
      std::max(1u, std::min<unsigned>(std::thread::hardware_concurrency(), static_cast<unsigned>(o.replicates)));
  std::vector<std::thread> threads;
  for (unsigned w = 0; w < workers; ++w)
    threads.emplace_back([&, w] {
      for (int r = static_cast<int>(w); r < o.replicates; r += static_cast<int>(workers))
        result.replicates[static_cast<std::size_t>(r)] = run_replicate(o, static_cast<std::uint64_t>(r));
    });
  for (auto& t : threads) t.join();

  for (std::size_t d = 0; d < n_attack_defences; ++d) {
    std::vector<std::optional<int>> votes, battles;
    auto& f = result.figures[d];
    f.defence = static_cast<attack_defence>(d);
    for (const auto& r : result.replicates) {
      votes.push_back(r.votes[d]);
      battles.push_back(r.battles[d]);
      f.reached += r.votes[d] ? 1 : 0;
    }
    f.median_votes = median_of(votes);
    f.median_battles = median_of(battles);
  }
  return result;
}

}  // namespace huashan::arena
