// Style control, tie models, robustness numbers, online Elo and matrices on
// data whose answer is known: planted effects the fit must recover, and
// hand-computed values.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "ranking/elo.hpp"
#include "ranking/leaderboard.hpp"
#include "ranking/random.hpp"
#include "ranking/robustness.hpp"

using namespace huashan::ranking;

TEST_CASE("online Elo: one battle by hand") {
  battle_table t;
  t.add("A", "B", outcome::model_a, 2);
  t.add("A", "B", outcome::tie_bothbad, 3);
  const auto r = online_elo(t);
  // First: E = ½, A += 4·½ = 1002, B = 998. Second: E_A = 1/(1+10^(−4/400)).
  const double ea = 1 / (1 + std::pow(10.0, -4.0 / 400));
  CHECK(r[0] == doctest::Approx(1002 + 4 * (0.5 - ea)).epsilon(1e-12));
  CHECK(r[1] == doctest::Approx(998 + 4 * (0.5 - (1 - ea))).epsilon(1e-12));
}

TEST_CASE("style control recovers a planted length effect and separates it from strength") {
  // Two equally strong models; answers that are longer win more often.
  rng g(3, 3);
  battle_table t;
  const double beta_len = 0.8;  // on the raw feature (a−b)/(a+b+1); standardisation rescales it
  for (int k = 0; k < 20000; ++k) {
    style_counts s;
    const bool a_first = g.uniform() < 0.5;
    s.a = {static_cast<std::uint32_t>(100 + g.below(900)), 0, 0, 0};
    s.b = {static_cast<std::uint32_t>(100 + g.below(900)), 0, 0, 0};
    // Model "verbose" writes twice as long.
    (a_first ? s.a : s.b)[0] *= 2;
    const double f = (double(s.a[0]) - s.b[0]) / (double(s.a[0]) + s.b[0] + 1);
    const double p = 1 / (1 + std::exp(-beta_len * 4 * f));
    const outcome o = g.uniform() < p ? outcome::model_a : outcome::model_b;
    t.add(a_first ? "verbose" : "terse", a_first ? "terse" : "verbose", o, static_cast<std::uint32_t>(k + 2));
    t.style.push_back(s);
  }
  leaderboard_options o;
  o.bootstrap_rounds = 0;
  const auto plain = compute_leaderboard(t, o);
  o.style_control = true;
  const auto styled = compute_leaderboard(t, o);
  const auto gap = [](const leaderboard& lb) {
    return lb.rows[0].name == "verbose" ? lb.rows[0].rating - lb.rows[1].rating : lb.rows[1].rating - lb.rows[0].rating;
  };
  MESSAGE("verbose − terse: plain ", gap(plain), ", style-controlled ", gap(styled));
  CHECK(gap(plain) > 50);                 // length wins votes...
  CHECK(std::abs(gap(styled)) < 15);      // ...but not strength
  REQUIRE(styled.style);
  CHECK(styled.style->coef[0] > 0.3);
  CHECK(std::abs(styled.style->coef[1]) < 1e-9);  // constant features stay at zero
  // LMArena's newer variant penalises only the coefficients: same story.
  o.penalty = style_penalty::coefficients;
  const auto newer = compute_leaderboard(t, o);
  CHECK(std::abs(gap(newer)) < 15);
}

TEST_CASE("tie models recover a planted Davidson tie parameter and rank like the default") {
  rng g(8, 8);
  const std::vector<double> truth = {0.6, 0.3, 0.0, -0.2, -0.7};
  const double nu = 0.8;
  battle_table t;
  const std::vector<std::string> names = {"a", "b", "c", "d", "e"};
  for (const auto& n : names) t.models.intern(n);  // model index k = truth[k]
  for (int k = 0; k < 40000; ++k) {
    const auto i = g.below(5);
    auto j = g.below(4);
    if (j >= i) ++j;
    const double x = ln10 * (truth[i] - truth[j]) / 2;
    const double z = std::exp(x) + std::exp(-x) + nu;
    const double u = g.uniform() * z;
    const outcome o = u < std::exp(x) ? outcome::model_a : u < std::exp(x) + std::exp(-x) ? outcome::model_b : outcome::tie;
    t.add(names[i], names[j], o, static_cast<std::uint32_t>(k + 2));
  }
  const auto pc = count_pairs(t);
  const auto dav = fit_tie_model(pc, tie_model::davidson);
  CHECK(dav.converged);
  CHECK(dav.tie_param == doctest::Approx(nu).epsilon(0.05));
  for (std::size_t k = 0; k < truth.size(); ++k)
    CHECK(std::abs(dav.r[static_cast<Eigen::Index>(k)] - truth[k]) < 0.03);  // truth has mean zero
  const auto rk = fit_tie_model(pc, tie_model::rao_kupper);
  CHECK(rk.converged);
  CHECK(rk.tie_param > 0);
  // Probabilities are proper under every model.
  for (const auto* f : {&dav, &rk}) {
    const double pt = tie_probability(*f, 0, 4);
    CHECK(pt > 0);
    CHECK(pt < 1);
    CHECK(expected_score(*f, 0, 4) + expected_score(*f, 4, 0) == doctest::Approx(1.0).epsilon(1e-12));
  }
  const auto rows = compare_tie_models(t, 0.2, 1);
  REQUIRE(rows.size() == 3);
  for (const auto& r : rows) {
    CAPTURE(tie_model_name(r.model));
    CHECK(r.calibration_mae < 0.05);
    CHECK(r.spearman_vs_half == doctest::Approx(1.0));
    CHECK(r.order == rows[0].order);
  }
}

TEST_CASE("robustness: the number of votes swaps the pair, one fewer does not") {
  battle_table t;
  for (int k = 0; k < 30; ++k) {
    t.add("top", "mid", k % 5 < 3 ? outcome::model_a : outcome::model_b, 2);
    t.add("mid", "low", k % 4 < 3 ? outcome::model_a : outcome::model_b, 3);
    t.add("top", "low", k % 6 < 5 ? outcome::model_a : outcome::model_b, 4);
  }
  const auto pc = count_pairs(t);
  const auto fit = fit_bradley_terry(pc);
  const std::uint32_t top = *t.models.find("top"), mid = *t.models.find("mid");
  REQUIRE(fit.r[top] > fit.r[mid]);
  const auto k = votes_to_swap(pc, fit, top, mid);
  REQUIRE(k.has_value());
  CHECK(*k >= 1);
  // Check directly with head-to-head votes, a valid (maybe not the best) kind:
  // the reported count can be no larger than what head-to-head votes need.
  auto swapped_with = [&](std::uint64_t votes) {
    battle_table u = t;
    for (std::uint64_t v = 0; v < votes; ++v) u.add("mid", "top", outcome::model_a, 9);
    const auto f = fit_bradley_terry(count_pairs(u));
    return f.r[mid] >= f.r[top];
  };
  std::uint64_t head_to_head = 1;
  while (!swapped_with(head_to_head)) ++head_to_head;
  CHECK(*k <= head_to_head);
  leaderboard_options o;
  o.bootstrap_rounds = 0;
  o.robustness = true;
  const auto lb = compute_leaderboard(t, o);
  REQUIRE(lb.rows[0].votes_to_swap_with_next);
  CHECK(*lb.rows[0].votes_to_swap_with_next == *k);
  CHECK_FALSE(lb.rows.back().votes_to_swap_with_next);
}

TEST_CASE("matrices: counts, empirical win fractions and predicted probabilities") {
  battle_table t;
  t.add("A", "B", outcome::model_a, 2);
  t.add("B", "A", outcome::tie, 3);
  t.add("B", "C", outcome::model_a, 4);
  t.add("C", "A", outcome::model_a, 5);
  leaderboard_options o;
  o.bootstrap_rounds = 0;
  o.matrices = true;
  const auto lb = compute_leaderboard(t, o);
  REQUIRE(lb.matrices);
  const auto& mx = *lb.matrices;
  const auto pos = [&](const std::string& n) {
    for (std::size_t k = 0; k < mx.order.size(); ++k)
      if (lb.models[mx.order[k]] == n) return static_cast<Eigen::Index>(k);
    FAIL("missing " << n);
    return Eigen::Index{0};
  };
  const auto a = pos("A"), b = pos("B"), c = pos("C");
  CHECK(mx.battles(a, b) == 2);
  CHECK(mx.battles(b, a) == 2);
  CHECK(mx.win_fraction(a, b) == doctest::Approx(0.75));
  CHECK(mx.win_fraction(b, a) == doctest::Approx(0.25));
  CHECK(mx.win_fraction(c, a) == doctest::Approx(1.0));
  CHECK(std::isnan(mx.win_fraction(a, a)));
  CHECK(mx.predicted(a, b) + mx.predicted(b, a) == doctest::Approx(1.0));
}

TEST_CASE("min-votes hides models after fitting; reweighting keeps a balanced table unchanged") {
  std::vector<std::string> names = {"A", "B", "C"};
  battle_table t;
  for (int k = 0; k < 60; ++k) {
    t.add("A", "B", k % 3 ? outcome::model_a : outcome::model_b, 2);
    t.add("B", "C", k % 3 ? outcome::model_a : outcome::model_b, 3);
    t.add("A", "C", k % 4 ? outcome::model_a : outcome::model_b, 4);
  }
  t.add("A", "rare", outcome::model_b, 5);
  t.add("rare", "C", outcome::model_b, 6);
  leaderboard_options o;
  o.bootstrap_rounds = 0;
  o.min_votes = 10;
  const auto lb = compute_leaderboard(t, o);
  CHECK(lb.rows.size() == 3);
  // Pairs of 60 battles: weight 1/60 each, the same for all, so ratings don't move.
  battle_table u;
  for (std::size_t k = 0; k + 2 < t.size(); ++k)
    u.add(t.models.name(t.model_a[k]), t.models.name(t.model_b[k]), t.winner[k], 2);
  o.min_votes = 0;
  const auto plain = compute_leaderboard(u, o);
  o.reweight = true;
  const auto reweighted = compute_leaderboard(u, o);
  for (std::size_t k = 0; k < plain.rows.size(); ++k)
    CHECK(plain.rows[k].rating == doctest::Approx(reweighted.rows[k].rating).epsilon(1e-9));
}
