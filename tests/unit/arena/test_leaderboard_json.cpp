// The stored leaderboard body read back as the typed board the active sampler
// uses (arena/service/leaderboard_json.hpp and the domain's knowledge_for):
// strengths from the displayed ratings and intervals, battles per pair from
// the matrices, unknown models neutral.
#include <doctest/doctest.h>

#include <cmath>

#include "arena/domain/pair_sampler.hpp"
#include "arena/service/leaderboard_json.hpp"
#include "common/error.hpp"
#include "ranking/leaderboard.hpp"

using namespace huashan;
using namespace huashan::arena;

namespace {

ranking::battle_table three_models() {
  ranking::battle_table t;
  std::uint32_t line = 1;
  for (int i = 0; i < 30; ++i) t.add("alpha", "beta", i % 3 == 0 ? ranking::outcome::model_b : ranking::outcome::model_a, line++);
  for (int i = 0; i < 12; ++i) t.add("gamma", "beta", i % 2 == 0 ? ranking::outcome::tie : ranking::outcome::model_a, line++);
  for (int i = 0; i < 7; ++i) t.add("alpha", "gamma", ranking::outcome::model_a, line++);
  t.add("gamma", "alpha", ranking::outcome::model_a, line++);
  return t;
}

}  // namespace

TEST_CASE("the sampler's board is the stored body's ratings, intervals and pair battles") {
  ranking::leaderboard_options o;
  o.bootstrap_rounds = 20;
  o.threads = 1;
  o.matrices = true;
  const auto board = ranking::compute_leaderboard(three_models(), o);
  const auto body = leaderboard_body_json(board, {{"alpha", "Alpha", "A Labs"}, {"beta", "Beta", "B Inc"}});
  const auto typed = sampler_leaderboard_from_body(body);

  REQUIRE(typed.models.size() == 3);
  for (const auto& row : board.rows) {
    const auto& s = typed.models.at(row.name);
    CHECK(s.rating == doctest::Approx((row.rating - 1000.0) / 400.0));
    const double sd = (row.ci_hi - row.ci_lo) / (2 * 1.96) / 400.0;
    CHECK(s.variance == doctest::Approx(std::max(1e-12, sd * sd)));
  }
  // Battles per unordered pair, names in ascending order, both orders counted.
  CHECK(typed.pair_battles.at({"alpha", "beta"}) == 30);
  CHECK(typed.pair_battles.at({"beta", "gamma"}) == 12);
  CHECK(typed.pair_battles.at({"alpha", "gamma"}) == 8);

  // In the sampler's own order, with a model the board does not know.
  const auto k = knowledge_for({"gamma", "newcomer", "alpha"}, typed);
  REQUIRE(k.rating.size() == 3);
  CHECK(k.rating[0] == doctest::Approx(typed.models.at("gamma").rating));
  CHECK(k.rating[1] == 0.0);
  CHECK(k.variance[1] == 1.0);
  CHECK(k.pair_battles[0 * 3 + 2] == 8);
  CHECK(k.pair_battles[2 * 3 + 0] == 8);
  CHECK(k.pair_battles[0 * 3 + 1] == 0);
}

TEST_CASE("an empty board has nothing for the sampler; a body that is not an object is refused") {
  const auto typed = sampler_leaderboard_from_body(empty_leaderboard_body_json());
  CHECK(typed.models.empty());
  CHECK(typed.pair_battles.empty());
  CHECK_THROWS_AS(sampler_leaderboard_from_body("[1, 2]"), input_error);
  const auto k = knowledge_for({"a", "b"}, typed);
  CHECK(k.rating == std::vector<double>{0.0, 0.0});
  CHECK(k.variance == std::vector<double>{1.0, 1.0});
}

TEST_CASE("a snapshot's parameters record what rebuilds it") {
  ranking::leaderboard_options o;
  o.bootstrap_rounds = 7;
  o.seed = 99;
  o.style_control = true;
  const auto p = leaderboard_parameters_json(o, "coding", "");
  CHECK(p.find("\"seed\":99") != std::string::npos);
  CHECK(p.find("\"bootstrap_rounds\":7") != std::string::npos);
  CHECK(p.find("\"method\":\"bradley-terry+style-control\"") != std::string::npos);
  CHECK(p.find("\"category\":\"coding\"") != std::string::npos);
  CHECK(p.find("\"language\":null") != std::string::npos);
}
