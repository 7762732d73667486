#include <fmt/format.h>

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

}  // namespace huashan::cli
