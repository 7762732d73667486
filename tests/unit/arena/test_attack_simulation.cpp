// The attacker simulation (arena/domain/attack_simulation.hpp) in a tiny arena:
// a bloc backing the weakest of 6 models needs more votes against the arena's
// random anonymous pairing than with battles of its choosing, and the
// per-session consensus test stops it within its cap.
#include <doctest/doctest.h>

#include "arena/domain/attack_simulation.hpp"
#include "common/error.hpp"

using namespace huashan;
using namespace huashan::arena;

namespace {

attack_options tiny() {
  attack_options o;
  o.models = 6;
  o.honest_votes = 1500;
  o.target_rank = 6;          // the weakest: every vote for it is improbable
  o.votes_per_session = 200;  // sessions long enough for the test to see them
  o.max_sessions = 3;         // stop at 600 attacker votes
  o.check_every = 10;
  o.replicates = 3;
  o.seed = 1;
  return o;
}

std::size_t at(attack_defence d) { return static_cast<std::size_t>(d); }

}  // namespace

TEST_CASE("attack simulation: defences make the bloc pay, the consensus test stops it") {
  const attack_options o = tiny();
  const attack_result r = simulate_attack(o);
  REQUIRE(r.replicates.size() == 3);
  CHECK(r.max_votes == 600);
  const auto& none = r.figures[at(attack_defence::none)];
  const auto& arena = r.figures[at(attack_defence::arena)];
  const auto& consensus = r.figures[at(attack_defence::consensus)];
  REQUIRE(none.median_votes);
  REQUIRE(arena.median_votes);
  MESSAGE("median votes: none ", *none.median_votes, ", arena ", *arena.median_votes, " (", *arena.median_battles,
          " battles), consensus ", consensus.median_votes ? *consensus.median_votes : -1.0);
  // Battles of its choosing, every vote counted: fewest votes, one battle each.
  CHECK(*none.median_votes <= *arena.median_votes);
  CHECK(*none.median_battles == *none.median_votes);
  // Random pairing: the target is in 1 battle of 3 (6 models), so more battles than votes.
  CHECK(*arena.median_battles > 2 * *arena.median_votes);
  // With the consensus test: more votes than without, or not reached within the cap.
  CHECK((!consensus.median_votes || *consensus.median_votes > *arena.median_votes));
  int honest_tested = 0, honest_flagged = 0, attacker_flagged = 0;
  for (const auto& rep : r.replicates) {
    CHECK(rep.start_rank[at(attack_defence::none)] == rep.start_rank[at(attack_defence::arena)]);
    honest_tested += rep.honest_tested;
    honest_flagged += rep.honest_flagged;
    attacker_flagged += rep.attacker_flagged;
  }
  CHECK(honest_tested > 100);
  CHECK(honest_flagged <= 2);  // threshold 3: ~0.1% of honest sessions
  CHECK(attacker_flagged > 0);
}

TEST_CASE("attack simulation: a consensus test that never flags rates like the arena without it") {
  attack_options o = tiny();
  o.target_rank = 3;
  o.max_sessions = 2;
  o.replicates = 2;
  o.consensus.threshold = 1e9;
  const attack_result r = simulate_attack(o);
  for (const auto& rep : r.replicates) {
    CHECK(rep.start_rank[at(attack_defence::consensus)] == rep.start_rank[at(attack_defence::arena)]);
    CHECK(rep.votes[at(attack_defence::consensus)] == rep.votes[at(attack_defence::arena)]);
    CHECK(rep.battles[at(attack_defence::consensus)] == rep.battles[at(attack_defence::arena)]);
    CHECK(rep.attacker_flagged == 0);
  }
  // Same seed, same figures.
  const attack_result again = simulate_attack(o);
  for (std::size_t k = 0; k < r.replicates.size(); ++k)
    CHECK(again.replicates[k].votes[at(attack_defence::arena)] == r.replicates[k].votes[at(attack_defence::arena)]);
}

TEST_CASE("attack simulation: bad options") {
  attack_options o;
  o.target_rank = 1;
  CHECK_THROWS_AS(simulate_attack(o), input_error);
  o.target_rank = 21;
  CHECK_THROWS_AS(simulate_attack(o), input_error);
  o.target_rank = 5;
  o.recognition = 1.5;
  CHECK_THROWS_AS(simulate_attack(o), input_error);
  o.recognition = 0.9;
  o.votes_per_session = 0;
  CHECK_THROWS_AS(simulate_attack(o), input_error);
  o.votes_per_session = 50;
  o.consensus.floor = -1;
  CHECK_THROWS_AS(simulate_attack(o), input_error);
}
