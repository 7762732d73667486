// `huashan simulate` (sampling policies) and `huashan simulate attack` (a
// voting bloc against the arena's defences): run the simulation, print the
// figures.
#include <fmt/format.h>

#include <string>

#include "arena/domain/attack_simulation.hpp"
#include "arena/domain/sampler_simulation.hpp"
#include "cli/commands.hpp"
#include "common/error.hpp"

namespace huashan::cli {

int run_simulate(const simulate_options& options) {
  std::vector<arena::sampling_policy> policies;
  std::string_view rest = options.policies;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    policies.push_back(arena::parse_sampling_policy(rest.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  if (policies.empty()) throw input_error("simulate: --policies names no policy");

  const auto results = arena::simulate_sampling(options.simulation, policies);
  const auto& o = options.simulation;
  fmt::print("{} models (true ratings sd {:.0f} points), {} replicates, ties {:.0f}%: votes until the top-{} "
             "order is exactly right in {:.0f}% of replicates\n",
             o.models, 400 * o.rating_sd, o.replicates, 100 * o.tie_rate, o.top_k, 100 * o.target_probability);
  const char* names[] = {"uniform", "weighted", "active"};
  for (const auto& r : results) {
    const char* name = names[static_cast<int>(r.policy)];
    if (r.votes_needed)
      fmt::print("  {:<9} {:>7} votes\n", name, *r.votes_needed);
    else
      fmt::print("  {:<9} not reached within {} votes (last share {:.0f}%)\n", name, o.max_votes,
                 r.curve.empty() ? 0.0 : 100 * r.curve.back().second);
  }
  return 0;
}

int run_simulate_attack(const arena::attack_options& o) {
  const auto r = arena::simulate_attack(o);
  fmt::print("Attack on the model at true rank {} of {} (true ratings sd {:.0f} points), after {} honest votes "
             "(sessions of {:.0f} votes on average, {:.0f}% ties), {} replicates.\n",
             o.target_rank, o.models, 400 * o.rating_sd, o.honest_votes, o.honest_session_votes, 100 * o.tie_rate,
             o.replicates);
  fmt::print("The bloc recognises the target's answer {:.0f}% of the time (false alarms {:.0f}%), votes {} times a "
             "session, stops at {} sessions ({} votes).\n",
             100 * o.recognition, 100 * o.false_alarm, o.votes_per_session, o.max_sessions, r.max_votes);
  fmt::print("Attacker votes until the target's fitted rank is one better (median; battles it started):\n");
  const std::string consensus_label =
      fmt::format("arena + session consensus (z below -{:g}, >= {} votes)", o.consensus.threshold, o.consensus.min_votes);
  const std::string labels[] = {"no defences (battles of its choosing)", "arena (random anonymous pairs)",
                                consensus_label};
  for (std::size_t d = 0; d < arena::n_attack_defences; ++d) {
    const auto& f = r.figures[d];
    if (f.median_votes)
      fmt::print("  {:<52} {:>7.0f} votes {:>8.0f} battles  ({} of {} reached)\n", labels[d], *f.median_votes,
                 *f.median_battles, f.reached, o.replicates);
    else
      fmt::print("  {:<52} not reached within {} votes in most replicates ({} of {} reached)\n", labels[d],
                 r.max_votes, f.reached, o.replicates);
  }
  int honest_tested = 0, honest_flagged = 0, attacker_tested = 0, attacker_flagged = 0;
  for (const auto& rep : r.replicates) {
    honest_tested += rep.honest_tested;
    honest_flagged += rep.honest_flagged;
    attacker_tested += rep.attacker_tested;
    attacker_flagged += rep.attacker_flagged;
  }
  fmt::print("Session consensus: {} of {} tested honest sessions flagged ({:.2f}%); {} of {} tested attacker sessions "
             "flagged when the attack stopped.\n",
             honest_flagged, honest_tested, honest_tested ? 100.0 * honest_flagged / honest_tested : 0.0,
             attacker_flagged, attacker_tested);
  return 0;
}

}  // namespace huashan::cli
