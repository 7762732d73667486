#include "arena/domain/vote.hpp"

#include <fmt/format.h>

#include "common/error.hpp"
#include "ranking/battle.hpp"

namespace huashan::arena {

std::optional<vote_choice> parse_vote_choice(std::string_view text) {
  if (text == "a") return vote_choice::a;
  if (text == "b") return vote_choice::b;
  if (text == "tie") return vote_choice::tie;
  if (text == "bothbad") return vote_choice::bothbad;
  return std::nullopt;
}

std::string_view winner_name(vote_choice choice) {
  switch (choice) {
    case vote_choice::a: return ranking::outcome_name(ranking::outcome::model_a);
    case vote_choice::b: return ranking::outcome_name(ranking::outcome::model_b);
    case vote_choice::tie: return ranking::outcome_name(ranking::outcome::tie);
    case vote_choice::bothbad: return ranking::outcome_name(ranking::outcome::tie_bothbad);
  }
  return ranking::outcome_name(ranking::outcome::tie);
}

void require_votable(const vote_readiness& battle, std::chrono::milliseconds min_wait) {
  if (!battle.answered) throw conflict_error("the answers are not complete yet; vote when both have finished");
  if (battle.side_failed) throw conflict_error("a side failed to answer; this battle cannot be voted on");
  if (battle.since_answered < min_wait)
    throw conflict_error(
        fmt::format("please read both answers before voting (at least {} ms after they finish)", min_wait.count()));
}

}  // namespace huashan::arena
