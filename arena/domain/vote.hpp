// The arena's vote rules, written once for the battle service (battles it holds
// in memory) and the store (battles another process ran, checked against the
// database's clock): what a voter may send, how the winner is spelled, and
// when a battle may take its vote.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace huashan::arena {

// What a voter chose: side A, side B, a tie, or both bad.
enum class vote_choice { a, b, tie, bothbad };

// "a" | "b" | "tie" | "bothbad" (the API's spelling); nullopt otherwise.
std::optional<vote_choice> parse_vote_choice(std::string_view text);
// The stored winner in LMArena's spelling: model_a | model_b | tie | tie (bothbad)
// (ranking::outcome_name, so the rankings read back what the store wrote).
std::string_view winner_name(vote_choice choice);

// What is known of a battle's latest turn when a vote arrives.
struct vote_readiness {
  bool answered = false;     // both sides finished answering
  bool side_failed = false;  // a side failed to answer (this turn cannot be voted on)
  std::chrono::milliseconds since_answered{0};  // since the last answer was complete
};

// Throws conflict_error, saying what to do, unless the battle may take its
// vote now: both answers complete, neither failed, and at least `min_wait`
// since they finished (voters read both answers first).
void require_votable(const vote_readiness& battle, std::chrono::milliseconds min_wait);

}  // namespace huashan::arena
