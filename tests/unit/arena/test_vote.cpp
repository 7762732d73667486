// The vote rules of arena/domain/vote.hpp: what a voter may send, the stored
// spelling of the winner, and when a battle may take its vote.
#include <doctest/doctest.h>

#include "arena/domain/vote.hpp"
#include "common/error.hpp"
#include "ranking/battle.hpp"

using namespace huashan;
using namespace huashan::arena;
using namespace std::chrono_literals;

TEST_CASE("a voter sends a, b, tie or bothbad; the store writes LMArena's winner spelling") {
  CHECK(parse_vote_choice("a") == vote_choice::a);
  CHECK(parse_vote_choice("b") == vote_choice::b);
  CHECK(parse_vote_choice("tie") == vote_choice::tie);
  CHECK(parse_vote_choice("bothbad") == vote_choice::bothbad);
  CHECK_FALSE(parse_vote_choice("A").has_value());
  CHECK_FALSE(parse_vote_choice("model_a").has_value());
  CHECK_FALSE(parse_vote_choice("").has_value());

  CHECK(winner_name(vote_choice::a) == "model_a");
  CHECK(winner_name(vote_choice::b) == "model_b");
  CHECK(winner_name(vote_choice::tie) == "tie");
  CHECK(winner_name(vote_choice::bothbad) == "tie (bothbad)");
  // The rankings read back what the store wrote.
  CHECK(ranking::parse_outcome(winner_name(vote_choice::bothbad)) == ranking::outcome::tie_bothbad);
  CHECK(ranking::parse_outcome(winner_name(vote_choice::a)) == ranking::outcome::model_a);
}

TEST_CASE("a battle takes its vote only once both answers are complete and have been read") {
  CHECK_NOTHROW(require_votable({true, false, 2000ms}, 2000ms));
  CHECK_NOTHROW(require_votable({true, false, 5ms}, 0ms));
  CHECK_THROWS_WITH_AS(require_votable({false, false, 0ms}, 0ms), doctest::Contains("not complete yet"),
                       conflict_error);
  CHECK_THROWS_WITH_AS(require_votable({true, true, 10000ms}, 0ms), doctest::Contains("failed to answer"),
                       conflict_error);
  CHECK_THROWS_WITH_AS(require_votable({true, false, 1999ms}, 2000ms), doctest::Contains("at least 2000 ms"),
                       conflict_error);
}
