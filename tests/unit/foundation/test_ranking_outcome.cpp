#include <doctest/doctest.h>

#include "ranking/battle.hpp"

using namespace huashan::ranking;

TEST_CASE("LMArena winner values parse and print back") {
  for (const char* name : {"model_a", "model_b", "tie", "tie (bothbad)"}) {
    const auto o = parse_outcome(name);
    REQUIRE(o.has_value());
    CHECK(outcome_name(*o) == name);
  }
  CHECK_FALSE(parse_outcome("Model_A").has_value());
  CHECK_FALSE(parse_outcome("tie(bothbad)").has_value());
  CHECK_FALSE(parse_outcome("").has_value());
}

TEST_CASE("both kinds of tie score one half for each side") {
  CHECK(score_a(outcome::model_a) == 1.0);
  CHECK(score_a(outcome::model_b) == 0.0);
  CHECK(score_a(outcome::tie) == 0.5);
  CHECK(score_a(outcome::tie_bothbad) == 0.5);
}
