// The per-session consensus test (ranking/session_consensus.hpp) on synthetic
// arenas whose true ratings are known: honest sessions' z-scores are close to
// standard normal and are flagged at about the threshold's rate, a session
// voting for the weaker model is flagged, and dropping a bloc's votes moves
// the fit back to the honest votes' fit.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common/error.hpp"
#include "common/xoshiro256.hpp"
#include "ranking/session_consensus.hpp"

using namespace huashan;
using namespace huashan::ranking;

namespace {

// m models with true log10 strengths evenly spread over ±spread, indices 0..m-1
// weakest first (models interned before any battle so indices are fixed).
struct world {
  std::vector<double> truth;
  battle_table t;
  xoshiro256pp g{12345};

  world(int m, double spread) {
    for (int k = 0; k < m; ++k) {
      truth.push_back(-spread + 2 * spread * k / (m - 1));
      t.models.intern(fmt::format("m{}", k));
    }
    t.voter.reserve(16384);
  }
  std::size_t m() const { return truth.size(); }
  double p_win(std::size_t a, std::size_t b) const { return 1 / (1 + std::pow(10.0, truth[b] - truth[a])); }

  void battle(std::size_t a, std::size_t b, outcome o, std::uint32_t voter) {
    t.add(t.models.name(static_cast<std::uint32_t>(a)), t.models.name(static_cast<std::uint32_t>(b)), o,
          static_cast<std::uint32_t>(t.size() + 2));
    t.voter.push_back(voter);
  }
  void random_pair(std::size_t& a, std::size_t& b) {
    a = g.below(m());
    do b = g.below(m()); while (b == a);
  }
  // A session voting as the true ratings say, 15% ties.
  void honest_session(const std::string& name, int votes) {
    const auto v = t.voters.intern(name);
    for (int k = 0; k < votes; ++k) {
      std::size_t a = 0, b = 0;
      random_pair(a, b);
      const outcome o = g.uniform() < 0.15 ? outcome::tie : g.uniform() < p_win(a, b) ? outcome::model_a : outcome::model_b;
      battle(a, b, o, v);
    }
  }
};

// Ratings of the decisive votes, all weighted 1: what sessions are scored under.
bt_fit decisive_fit(const battle_table& t) {
  return fit_bradley_terry(decisive_pair_counts(t, std::vector<double>(t.size(), 1.0)));
}

double z_of(const std::vector<session_score>& scores, std::uint32_t voter) {
  for (const auto& s : scores)
    if (s.voter == voter) return s.z;
  FAIL("voter ", voter, " was not scored");
  return 0;
}

}  // namespace

TEST_CASE("session consensus: honest sessions are standard normal, flagged at about the threshold's rate") {
  world w(10, 0.4);  // ±160 displayed points
  for (int s = 0; s < 400; ++s) w.honest_session(fmt::format("h{}", s), 30);
  const bt_fit fit = decisive_fit(w.t);
  consensus_options o;
  o.threshold = 2.0;  // one-sided: Φ(−2) = 2.3% expected
  const auto scores = score_sessions(w.t, fit, o);
  REQUIRE(scores.size() == 400);  // ~25 decisive votes each, all above min_votes
  double sum = 0, sum2 = 0;
  int flagged = 0;
  for (const auto& s : scores) {
    sum += s.z;
    sum2 += s.z * s.z;
    flagged += s.flagged ? 1 : 0;
    CHECK(s.votes >= o.min_votes);
  }
  const double mean = sum / 400, sd = std::sqrt(sum2 / 400 - mean * mean);
  MESSAGE("honest z: mean ", mean, ", sd ", sd, ", flagged ", flagged, " of 400 at z < -2");
  CHECK(std::abs(mean) < 0.15);
  CHECK(sd > 0.85);
  CHECK(sd < 1.15);
  // 9 expected; binomial sd 3.
  CHECK(flagged <= 20);
  const auto r = session_consensus(w.t, fit, o);
  CHECK(r.flagged.size() == static_cast<std::size_t>(flagged));
}

TEST_CASE("session consensus: a session always voting for the weaker model is flagged and dropped") {
  world w(10, 0.4);
  for (int s = 0; s < 200; ++s) w.honest_session(fmt::format("h{}", s), 20);
  const auto contrarian = w.t.voters.intern("contrarian");
  const std::size_t first = w.t.size();
  for (int k = 0; k < 30; ++k) {
    std::size_t a = 0, b = 0;
    w.random_pair(a, b);
    w.battle(a, b, w.truth[a] < w.truth[b] ? outcome::model_a : outcome::model_b, contrarian);
  }
  const bt_fit fit = decisive_fit(w.t);
  const consensus_options o;  // threshold 3
  const auto r = session_consensus(w.t, fit, o);
  const double z = z_of(r.sessions, contrarian);
  MESSAGE("contrarian z = ", z);
  CHECK(z < -5);
  std::size_t honest_dropped = 0;
  for (std::size_t k = 0; k < w.t.size(); ++k) {
    if (k >= first) CHECK(r.battle_weight[k] == 0.0);
    else honest_dropped += r.battle_weight[k] == 1.0 ? 0 : 1;
  }
  // Honest false positives at threshold 3: 0.3 sessions of 200 expected.
  CHECK(r.flagged.size() >= 1);
  CHECK(r.flagged.size() <= 3);
  CHECK(honest_dropped <= 2 * 60);
  // A tie-only session has no decisive votes: never scored.
  const auto tier = w.t.voters.intern("tier");
  for (int k = 0; k < 30; ++k) w.battle(0, 1, outcome::tie, tier);
  for (const auto& s : score_sessions(w.t, fit, o)) CHECK(s.voter != tier);
}

TEST_CASE("session consensus: dropping a bloc for the weakest model moves the fit back to the honest one") {
  world w(8, 0.3);
  for (int s = 0; s < 300; ++s) w.honest_session(fmt::format("h{}", s), 20);
  const bt_fit honest = fit_bradley_terry(count_pairs(w.t));
  // Five sessions, 40 votes each, that make model 0 (the weakest) win every battle it is in.
  for (int s = 0; s < 5; ++s) {
    const auto v = w.t.voters.intern(fmt::format("bloc{}", s));
    for (int k = 0; k < 40; ++k) {
      const std::size_t other = 1 + w.g.below(w.m() - 1);
      if (k % 2 == 0) w.battle(0, other, outcome::model_a, v);
      else w.battle(other, 0, outcome::model_b, v);
    }
  }
  const bt_fit plain = fit_bradley_terry(count_pairs(w.t));
  consensus_options o;
  const auto r = iterated_session_consensus(w.t, o);
  CHECK(r.settled);
  CHECK(r.passes <= o.rounds);
  for (int s = 0; s < 5; ++s) {
    const auto v = *w.t.voters.find(fmt::format("bloc{}", s));
    bool found = false;
    for (const auto& sc : r.sessions)
      if (sc.voter == v) {
        found = true;
        CHECK(sc.flagged);
        CHECK(sc.z < -o.threshold);
      }
    CHECK(found);
  }
  CHECK(r.flagged.size() >= 5);
  CHECK(r.flagged.size() <= 5 + 3);  // honest false positives at threshold 3: ~0.4 expected
  // Gap between model 0 and the mean of the others.
  auto gap = [&](const Eigen::VectorXd& rr) { return rr[0] - (rr.sum() - rr[0]) / static_cast<double>(w.m() - 1); };
  const double honest_gap = gap(honest.r), plain_gap = gap(plain.r), weighted_gap = gap(r.fit.r);
  MESSAGE("model 0 vs the rest: honest votes ", honest_gap, ", all votes ", plain_gap, ", weighted ", weighted_gap);
  CHECK(plain_gap > honest_gap + 0.1);  // the bloc lifted it by more than 40 displayed points
  CHECK(weighted_gap < plain_gap - 0.1);
  CHECK(std::abs(weighted_gap - honest_gap) < 0.02);  // exact unless an honest session was flagged too
}

TEST_CASE("session consensus: a large bloc masks itself from a fresh start, not from the previous flags") {
  world w(8, 0.3);
  for (int s = 0; s < 300; ++s) w.honest_session(fmt::format("h{}", s), 20);
  // A first small bloc for model 0 (the weakest), caught at once.
  std::vector<std::uint32_t> bloc;
  auto add_bloc = [&](int sessions, int votes) {
    for (int s = 0; s < sessions; ++s) {
      bloc.push_back(w.t.voters.intern(fmt::format("bloc{}", bloc.size())));
      for (int k = 0; k < votes; ++k) {
        const std::size_t other = 1 + w.g.below(w.m() - 1);
        w.battle(0, other, outcome::model_a, bloc.back());
      }
    }
  };
  add_bloc(3, 40);
  consensus_options o;
  const auto early = iterated_session_consensus(w.t, o);
  for (const auto v : bloc) CHECK(std::binary_search(early.flagged.begin(), early.flagged.end(), v));
  // It grows by a session between recomputes, to 1,200 votes for model 0 (which
  // has ~1,500 honest battles); each recompute starts from the one before.
  auto carried = early;
  for (int s = 0; s < 27; ++s) {
    add_bloc(1, 40);
    carried = iterated_session_consensus(w.t, o, nullptr, &carried.flagged);
  }
  const auto fresh = iterated_session_consensus(w.t, o);
  auto caught = [&](const consensus_result& r) {
    int n = 0;
    for (const auto v : bloc) n += std::binary_search(r.flagged.begin(), r.flagged.end(), v) ? 1 : 0;
    return n;
  };
  MESSAGE("bloc sessions flagged: from a fresh start ", caught(fresh), " of 30, from the previous flags ",
          caught(carried), " of 30");
  CHECK(caught(fresh) < 10);
  CHECK(caught(carried) == 30);
  CHECK(carried.fit.r[0] < fresh.fit.r[0] - 0.1);
  std::vector<std::uint32_t> unknown{static_cast<std::uint32_t>(w.t.voters.size())};
  CHECK_THROWS_AS(iterated_session_consensus(w.t, o, nullptr, &unknown), input_error);
}

TEST_CASE("weighted_pair_counts: the same fit as count_pairs with weights; weight 0 drops the battle") {
  world w(6, 0.3);
  for (int s = 0; s < 60; ++s) w.honest_session(fmt::format("h{}", s), 10);
  w.battle(0, 1, outcome::tie_bothbad, 0);
  std::vector<double> weight(w.t.size());
  for (auto& x : weight) x = 0.25 + w.g.uniform();
  const bt_fit a = fit_bradley_terry(count_pairs(w.t, weight));
  const bt_fit b = fit_bradley_terry(weighted_pair_counts(w.t, weight));
  CHECK((a.r - b.r).cwiseAbs().maxCoeff() < 1e-7);
  CHECK(a.r.cwiseAbs().maxCoeff() > 0.05);  // not a trivial all-zero fit

  // Zero the weights of every third battle: the fit of a table without them.
  battle_table kept;
  for (std::size_t m = 0; m < w.m(); ++m) kept.models.intern(w.t.models.name(static_cast<std::uint32_t>(m)));
  for (std::size_t k = 0; k < w.t.size(); ++k) {
    if (k % 3 == 0) {
      weight[k] = 0;
      continue;
    }
    weight[k] = 1;
    kept.add(w.t.models.name(w.t.model_a[k]), w.t.models.name(w.t.model_b[k]), w.t.winner[k], w.t.line[k]);
  }
  const bt_fit c = fit_bradley_terry(weighted_pair_counts(w.t, weight));
  const bt_fit d = fit_bradley_terry(count_pairs(kept));
  CHECK((c.r - d.r).cwiseAbs().maxCoeff() < 1e-7);
}

TEST_CASE("session consensus: bad input") {
  battle_table t;
  t.add("a", "b", outcome::model_a, 2);
  t.add("b", "a", outcome::model_a, 3);
  const bt_fit fit = fit_bradley_terry(count_pairs(t));
  CHECK_THROWS_AS(score_sessions(t, fit), input_error);  // no voter column
  t.voter = {t.voters.intern("s"), t.voters.intern("s")};
  consensus_options o;
  o.floor = 1.5;
  CHECK_THROWS_AS(session_consensus(t, fit, o), input_error);
  o.floor = 0;
  o.rounds = 0;
  CHECK_THROWS_AS(iterated_session_consensus(t, o), input_error);
  o.rounds = 2;
  o.min_votes = 1;
  const auto r = iterated_session_consensus(t, o);
  REQUIRE(r.sessions.size() == 1);
  CHECK(r.sessions[0].z == doctest::Approx(0.0));  // equal ratings: every vote a coin flip
  CHECK(r.battle_weight == std::vector<double>{1.0, 1.0});
}
