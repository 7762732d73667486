// `huashan simulate attack`: how many votes a bloc of sessions that always
// votes for one model (recognised by its style) needs to move that model up
// one rank, with and without the arena's defences, in a synthetic
// Bradley-Terry arena whose true ratings the simulation knows.
//
// One replicate: `models` true ratings ~ N(0, rating_sd²); `honest_votes`
// votes from honest sessions (each 1 + Geometric votes, mean
// honest_session_votes; uniform random pairs; a tie with probability
// tie_rate, else the Bradley-Terry outcome of the true ratings). The target is
// the model at true rank `target_rank`; its starting rank is its fitted rank
// on the honest votes alone. Then the attack, measured three ways:
//   none      – no defences: the attacker picks its battles (the target
//               against the model fitted just above it) and every vote counts:
//               the fewest such votes after which the target's fitted rank is
//               one better (found by bisection over refits).
//   arena     – the arena's defences without consensus weighting: battles are
//               uniform random anonymous pairs; the attacker takes an answer
//               for the target's with probability `recognition` when it is,
//               and `false_alarm` when it is another model's; it votes only
//               when it believes the target is in the battle, for the side it
//               believes is the target's (a coin picks when it believes both);
//               each session votes at most votes_per_session times (the
//               per-session limit as a session total), then a new one starts.
//               Refit every check_every attacker votes, plain Bradley-Terry.
//   consensus – the same attack stream, the ratings from the iterated
//               per-session consensus test (ranking/session_consensus.hpp).
// The attack stops at max_sessions × votes_per_session votes (not reached).
// Replicates use independent seeds; the figures are medians over them.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "ranking/session_consensus.hpp"

namespace huashan::arena {

struct attack_options {
  int models = 20;
  double rating_sd = 0.25;            // true ratings ~ N(0, sd²), log10 units (0.25 = 100 displayed points)
  double tie_rate = 0.15;             // share of honest votes that are ties
  int target_rank = 10;               // true rank of the attacked model (1 = best; ≥ 2)
  int honest_votes = 20000;
  double honest_session_votes = 8;    // mean votes of an honest session (≥ 1)
  double recognition = 0.9;           // P(attacker recognises the target's answer)
  double false_alarm = 0.02;          // P(attacker takes another model's answer for the target's)
  int votes_per_session = 50;         // attacker votes per session
  int max_sessions = 400;             // bloc size: the attack stops at max_sessions × votes_per_session votes
  int check_every = 10;               // attacker votes between refits (arena, consensus)
  int replicates = 21;
  std::uint64_t seed = 7;
  ranking::consensus_options consensus;
};

enum class attack_defence { none, arena, consensus };
inline constexpr std::size_t n_attack_defences = 3;

struct attack_replicate {
  std::array<int, n_attack_defences> start_rank{};                  // fitted rank before the attack
  std::array<std::optional<int>, n_attack_defences> votes;          // nullopt: not reached
  std::array<std::optional<int>, n_attack_defences> battles;        // battles the attacker started
  int honest_tested = 0, honest_flagged = 0;      // honest sessions, consensus on the honest votes alone
  int attacker_tested = 0, attacker_flagged = 0;  // attacker sessions when the consensus run stopped
};

struct attack_figure {
  attack_defence defence = attack_defence::none;
  std::optional<double> median_votes;    // nullopt: fewer than half the replicates reached it
  std::optional<double> median_battles;  // the same, of the battles started
  int reached = 0;                       // replicates that reached it
};

struct attack_result {
  std::array<attack_figure, n_attack_defences> figures;  // none, arena, consensus
  std::vector<attack_replicate> replicates;
  int max_votes = 0;  // max_sessions × votes_per_session
};

// Runs the replicates (on all hardware threads). Throws input_error for
// inconsistent options (target_rank outside [2, models], a probability
// outside [0, 1], ...).
attack_result simulate_attack(const attack_options& options);

// "none" | "arena" | "consensus".
const char* attack_defence_name(attack_defence d);

}  // namespace huashan::arena
