// Inverse-propensity weighting: each battle counts 1 / sampling_probability
// (normalised to mean 1). Checked against a two-model case solved by hand and
// against the unweighted fit of a table where each battle is repeated as
// often as its weight says (Bradley-Terry's MLE is invariant to the scale).
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "ranking/battle_reader.hpp"
#include "ranking/leaderboard.hpp"

using namespace huashan::ranking;

namespace {

struct weighted_battle {
  const char* a;
  const char* b;
  outcome w;
  double probability;
};

battle_table table_of(const std::vector<weighted_battle>& battles) {
  battle_table t;
  std::uint32_t line = 2;
  for (const auto& x : battles) {
    t.add(x.a, x.b, x.w, line++);
    t.sampling_probability.push_back(x.probability);
    t.style.push_back({{100, 0, 0, 0}, {100 + 10 * line, 0, 0, 0}});
  }
  return t;
}

double rating_of(const leaderboard& lb, const std::string& name) {
  for (const auto& row : lb.rows)
    if (row.name == name) return row.rating;
  FAIL("no row for ", name);
  return 0;
}

}  // namespace

TEST_CASE("inverse propensity: two models by hand") {
  // A beat B when that ordered pair had probability 1/4 (weight 4), B beat A at
  // 1/2 (weight 2), a tie at 1 (weight 1). Weighted score of A: 4 + ½ = 4.5 of
  // 7, so P(A beats B) = 4.5/7 and r_A − r_B = log10(4.5 / 2.5); unweighted it
  // is 1.5 of 3: equal ratings.
  const auto t = table_of({{"A", "B", outcome::model_a, 0.25}, {"B", "A", outcome::model_a, 0.5},
                           {"A", "B", outcome::tie, 1.0}});
  leaderboard_options o;
  o.bootstrap_rounds = 0;
  const auto plain = compute_leaderboard(t, o);
  CHECK(rating_of(plain, "A") - rating_of(plain, "B") == doctest::Approx(0.0).epsilon(1e-9));
  o.inverse_propensity = true;
  const auto ipw = compute_leaderboard(t, o);
  const double expected = rating_scale * std::log10(4.5 / 2.5);  // 102.1 points
  CHECK(rating_of(ipw, "A") - rating_of(ipw, "B") == doctest::Approx(expected).epsilon(1e-7));
  // Votes stay whole battles.
  CHECK(ipw.rows[0].votes == 3);
}

TEST_CASE("inverse propensity equals repeating each battle by its weight") {
  const std::vector<weighted_battle> battles{
      {"A", "B", outcome::model_a, 0.5},  {"B", "A", outcome::model_a, 0.25}, {"B", "C", outcome::model_a, 1.0},
      {"C", "B", outcome::model_a, 0.5},  {"A", "C", outcome::model_b, 0.25}, {"C", "A", outcome::model_b, 1.0},
      {"A", "C", outcome::tie_bothbad, 0.5}, {"B", "C", outcome::tie, 0.25}};
  battle_table repeated;
  std::uint32_t line = 2;
  for (const auto& x : battles)
    for (int k = 0; k < static_cast<int>(std::lround(1 / x.probability)); ++k) repeated.add(x.a, x.b, x.w, line++);
  leaderboard_options o;
  o.bootstrap_rounds = 0;
  const auto reference = compute_leaderboard(repeated, o);
  const auto unweighted = compute_leaderboard(table_of(battles), o);
  o.inverse_propensity = true;
  const auto weighted = compute_leaderboard(table_of(battles), o);
  double differs = 0;
  for (const char* m : {"A", "B", "C"}) {
    CHECK(rating_of(weighted, m) == doctest::Approx(rating_of(reference, m)).epsilon(1e-7));
    differs = std::max(differs, std::abs(rating_of(weighted, m) - rating_of(unweighted, m)));
  }
  CHECK(differs > 10);  // rating points: weighting changes the answer

  // The bootstrap resamples whole battles and keeps their weights: the
  // interval holds the point rating and the run is deterministic per seed.
  o.bootstrap_rounds = 200;
  const auto boot = compute_leaderboard(table_of(battles), o);
  const auto again = compute_leaderboard(table_of(battles), o);
  for (std::size_t k = 0; k < boot.rows.size(); ++k) {
    CHECK(boot.rows[k].ci_lo <= boot.rows[k].rating);
    CHECK(boot.rows[k].ci_hi >= boot.rows[k].rating);
    CHECK(boot.rows[k].ci_lo == again.rows[k].ci_lo);
  }

  // Style control takes the same weights.
  o.bootstrap_rounds = 0;
  o.style_control = true;
  const auto style_weighted = compute_leaderboard(table_of(battles), o);
  o.inverse_propensity = false;
  const auto style_plain = compute_leaderboard(table_of(battles), o);
  CHECK(std::abs(rating_of(style_weighted, "A") - rating_of(style_plain, "A")) > 1e-6);
}

TEST_CASE("inverse propensity needs valid probabilities") {
  leaderboard_options o;
  o.bootstrap_rounds = 0;
  o.inverse_propensity = true;
  battle_table none;
  none.add("A", "B", outcome::model_a, 2);
  CHECK_THROWS_AS(compute_leaderboard(none, o), huashan::input_error);
  auto bad = table_of({{"A", "B", outcome::model_a, 0.0}});
  CHECK_THROWS_WITH_AS(compute_leaderboard(bad, o), doctest::Contains("line 2"), huashan::input_error);
}

TEST_CASE("readers take a sampling_probability column") {
  const auto csv = read_battles_csv("model_a,model_b,winner,sampling_probability\nA,B,model_a,0.25\nB,A,model_a,0.5\n",
                                    "b.csv");
  REQUIRE(csv.has_sampling_probability());
  CHECK(csv.sampling_probability == std::vector<double>{0.25, 0.5});
  const auto jsonl = read_battles_jsonl(
      "{\"model_a\":\"A\",\"model_b\":\"B\",\"winner\":\"tie\",\"sampling_probability\":0.125}\n", "b.jsonl");
  CHECK(jsonl.sampling_probability == std::vector<double>{0.125});
  CHECK_THROWS_WITH_AS(read_battles_csv("model_a,model_b,winner,sampling_probability\nA,B,tie,1.5\n", "b.csv"),
                       doctest::Contains("b.csv line 2"), huashan::input_error);
  CHECK_THROWS_WITH_AS(read_battles_csv("model_a,model_b,winner,sampling_probability\nA,B,tie,1.5\n", "b.csv"),
                       doctest::Contains("sampling_probability"), huashan::input_error);
}
