// Properties of the Bradley-Terry fit and its bootstrap that must hold on any
// data: symmetry, invariance to duplication, the anchor, determinism across
// thread counts, and recovery of known strengths from synthetic battles.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "ranking/bootstrap.hpp"
#include "ranking/leaderboard.hpp"
#include "ranking/random.hpp"
#include "ranking/ties.hpp"

using namespace huashan::ranking;

namespace {

// Synthetic battles among `m` models with log10 strengths `truth`: pairs drawn
// with skewed popularity, outcomes from BT with a 10% tie rate.
battle_table synthetic(std::size_t m, std::size_t n, std::uint64_t seed, std::vector<double>& truth) {
  rng g(seed, 1);
  truth.resize(m);
  for (auto& t : truth) t = (g.uniform() - 0.5) * 2.0;  // ±400 rating points
  battle_table t;
  std::vector<std::string> names;
  for (std::size_t k = 0; k < m; ++k) names.push_back("m" + std::to_string(k));
  for (std::size_t k = 0; k < m; ++k) t.models.intern(names[k]);
  for (std::size_t b = 0; b < n; ++b) {
    // Popularity ∝ 1/(k+5): the square of a uniform index skews to low k.
    const double u = g.uniform(), v = g.uniform();
    const auto a = static_cast<std::size_t>(u * u * static_cast<double>(m));
    auto c = static_cast<std::size_t>(v * static_cast<double>(m));
    if (c == a) c = (a + 1) % m;
    const double p = 1 / (1 + std::pow(10.0, truth[c] - truth[a]));
    const double w = g.uniform();
    const outcome o = w < 0.1 ? outcome::tie : w < 0.1 + 0.9 * p ? outcome::model_a : outcome::model_b;
    t.add(names[a], names[c], o, static_cast<std::uint32_t>(b + 2));
  }
  return t;
}

battle_table small_table() {
  std::vector<double> truth;
  return synthetic(8, 3000, 11, truth);
}

}  // namespace

TEST_CASE("swapping model_a and model_b together with the outcome gives the same ratings") {
  const auto t = small_table();
  battle_table s = t;
  for (std::size_t k = 0; k < s.size(); ++k) {
    std::swap(s.model_a[k], s.model_b[k]);
    s.winner[k] = swapped(s.winner[k]);
  }
  leaderboard_options o;
  o.bootstrap_rounds = 50;
  const auto x = compute_leaderboard(t, o), y = compute_leaderboard(s, o);
  REQUIRE(x.rows.size() == y.rows.size());
  for (std::size_t k = 0; k < x.rows.size(); ++k) {
    CHECK(x.rows[k].name == y.rows[k].name);
    CHECK(x.rows[k].rating == doctest::Approx(y.rows[k].rating).epsilon(1e-9));
    // Same cells after canonical ordering, same seed: identical resamples.
    CHECK(x.rows[k].ci_lo == doctest::Approx(y.rows[k].ci_lo).epsilon(1e-9));
  }
}

TEST_CASE("duplicating every battle leaves ratings unchanged and narrows the intervals") {
  const auto t = small_table();
  battle_table d = t;
  for (std::size_t k = 0; k < t.size(); ++k)
    d.add(t.models.name(t.model_a[k]), t.models.name(t.model_b[k]), t.winner[k], t.line[k]);
  leaderboard_options o;
  o.bootstrap_rounds = 200;
  const auto x = compute_leaderboard(t, o), y = compute_leaderboard(d, o);
  for (std::size_t k = 0; k < x.rows.size(); ++k) {
    CHECK(x.rows[k].name == y.rows[k].name);
    CHECK(x.rows[k].rating == doctest::Approx(y.rows[k].rating).epsilon(1e-9));
    const double wx = x.rows[k].ci_hi - x.rows[k].ci_lo, wy = y.rows[k].ci_hi - y.rows[k].ci_lo;
    CHECK(wy < wx);
    // Sandwich widths scale by exactly 1/√2.
    CHECK((y.rows[k].sandwich_hi - y.rows[k].sandwich_lo) ==
          doctest::Approx((x.rows[k].sandwich_hi - x.rows[k].sandwich_lo) / std::sqrt(2.0)).epsilon(1e-6));
  }
}

TEST_CASE("adding a constant to the anchor shifts every rating and interval by it") {
  const auto t = small_table();
  leaderboard_options o;
  o.bootstrap_rounds = 100;
  o.anchor_model = anchor{"m3", 1100};
  const auto x = compute_leaderboard(t, o);
  o.anchor_model->rating = 1137.5;
  const auto y = compute_leaderboard(t, o);
  for (std::size_t k = 0; k < x.rows.size(); ++k) {
    CHECK(y.rows[k].rating - x.rows[k].rating == doctest::Approx(37.5).epsilon(1e-9));
    CHECK(y.rows[k].ci_lo - x.rows[k].ci_lo == doctest::Approx(37.5).epsilon(1e-9));
    CHECK(y.rows[k].ci_hi - x.rows[k].ci_hi == doctest::Approx(37.5).epsilon(1e-9));
  }
  for (const auto& r : y.rows)
    if (r.name == "m3") {
      CHECK(r.rating == doctest::Approx(1137.5).epsilon(1e-12));
      CHECK(r.ci_hi - r.ci_lo == doctest::Approx(0).epsilon(1e-9));
    }
}

TEST_CASE("the bootstrap is deterministic for a seed whatever the thread count") {
  const auto t = small_table();
  const auto pc = count_pairs(t);
  const auto fit = fit_bradley_terry(pc);
  bootstrap_options b;
  b.rounds = 40;
  b.seed = 99;
  b.threads = 1;
  const auto one = bootstrap_bradley_terry(pc, fit, {}, b);
  b.threads = 3;
  const auto three = bootstrap_bradley_terry(pc, fit, {}, b);
  CHECK(one.r == three.r);
  b.seed = 100;
  const auto other = bootstrap_bradley_terry(pc, fit, {}, b);
  CHECK(one.r != other.r);
}

TEST_CASE("multinomial draws keep the total and the cell means") {
  const std::vector<double> counts = {0, 5, 120, 3, 0, 40000, 7, 1};
  const double total = std::accumulate(counts.begin(), counts.end(), 0.0);
  std::vector<double> mean(counts.size(), 0), out;
  const int rounds = 2000;
  for (int k = 0; k < rounds; ++k) {
    rng g(5, static_cast<std::uint64_t>(k));
    draw_multinomial(g, counts, total, out);
    CHECK(std::accumulate(out.begin(), out.end(), 0.0) == total);
    CHECK(out[0] == 0);
    CHECK(out[4] == 0);
    for (std::size_t c = 0; c < counts.size(); ++c) mean[c] += out[c] / rounds;
  }
  // Standard error of a mean of 2000 draws is √(n p (1 − p) / 2000).
  for (std::size_t c = 0; c < counts.size(); ++c) {
    const double p = counts[c] / total;
    const double se = std::sqrt(total * p * (1 - p) / rounds);
    CHECK(std::abs(mean[c] - counts[c]) <= 5 * se + 1e-9);
  }
}

TEST_CASE("binomial sampler: mean and variance in both regimes") {
  for (const auto& [n, p] : {std::pair{40, 0.1}, std::pair{1000000, 3e-6}, std::pair{5000, 0.3}, std::pair{30, 0.9}}) {
    rng g(1, 2);
    double s = 0, s2 = 0;
    const int k = 20000;
    for (int i = 0; i < k; ++i) {
      const auto x = static_cast<double>(binomial(g, n, p));
      CHECK(x >= 0);
      CHECK(x <= n);
      s += x;
      s2 += x * x;
    }
    const double mean = s / k, var = s2 / k - mean * mean, want = n * p * (1 - p);
    CAPTURE(n);
    CHECK(std::abs(mean - n * p) < 5 * std::sqrt(want / k));
    CHECK(var == doctest::Approx(want).epsilon(0.06));
  }
}

TEST_CASE("a disconnected comparison graph is reported and each component keeps mean zero") {
  battle_table t;
  for (int k = 0; k < 3; ++k) {
    t.add("a", "b", outcome::model_a, 2);
    t.add("b", "a", outcome::model_a, 3);
    t.add("a", "b", outcome::model_a, 4);
    t.add("c", "d", outcome::model_b, 5);
    t.add("c", "d", outcome::model_a, 6);
  }
  leaderboard_options o;
  o.bootstrap_rounds = 0;
  const auto lb = compute_leaderboard(t, o);
  CHECK(lb.n_components == 2);
  REQUIRE(!lb.warnings.empty());
  CHECK(lb.warnings[0].find("2 connected components") != std::string::npos);
  const auto pc = count_pairs(t);
  const auto fit = fit_bradley_terry(pc);
  CHECK(fit.converged);
  CHECK(fit.r[0] + fit.r[1] == doctest::Approx(0).epsilon(1e-12));
  // a won 6 of 9 against b: r_a − r_b = log10(2).
  CHECK(fit.r[0] - fit.r[1] == doctest::Approx(std::log10(2.0)).epsilon(1e-9));
}

TEST_CASE("a model that never lost gets a finite rating, the prior and a warning") {
  battle_table t;
  for (int k = 0; k < 20; ++k) {
    t.add("champ", "b", outcome::model_a, 2);
    t.add("b", "c", k % 3 == 0 ? outcome::model_b : outcome::model_a, 3);
    t.add("champ", "c", outcome::model_a, 4);
  }
  const auto pc = count_pairs(t);
  CHECK_FALSE(mle_exists(pc));
  const auto fit = fit_bradley_terry(pc);
  CHECK(fit.prior_used);
  CHECK(fit.converged);
  REQUIRE(fit.never_lost.size() == 1);
  CHECK(fit.never_lost[0] == 0);
  CHECK(std::isfinite(fit.r[0]));
  CHECK(fit.r[0] > fit.r[1]);
  CHECK(fit.r[0] - fit.r[2] < 3.0);  // finite and not absurd: under 1200 points
  leaderboard_options o;
  o.bootstrap_rounds = 20;
  const auto lb = compute_leaderboard(t, o);
  bool warned = false;
  for (const auto& w : lb.warnings) warned |= w.find("never lost") != std::string::npos;
  CHECK(warned);
  CHECK(lb.rows[0].name == "champ");
}

TEST_CASE("Newton converges to the gradient tolerance and the sandwich is consistent") {
  const auto t = small_table();
  const auto pc = count_pairs(t);
  const auto fit = fit_bradley_terry(pc);
  CHECK(fit.converged);
  CHECK(fit.gradient_norm < 1e-9);
  CHECK(std::abs(fit.r.sum()) < 1e-12);
  const auto cov = sandwich_covariance(pc, fit);
  // The sum-zero gauge: every row of the covariance sums to zero.
  CHECK(cov.rowwise().sum().cwiseAbs().maxCoeff() < 1e-10);
  CHECK(cov.diagonal().minCoeff() > 0);
}

TEST_CASE("rank_ub counts models whose lower bound exceeds this upper bound") {
  const std::vector<double> lo = {10, 8, 1, 0}, hi = {12, 11, 9, 2};
  const auto ub = upper_bound_ranks(lo, hi);
  CHECK(ub == std::vector<std::uint32_t>{1, 1, 2, 3});
}

TEST_CASE("recovery: Spearman >= 0.98 with known strengths from 200k synthetic battles") {
  std::vector<double> truth;
  const auto t = synthetic(100, 200000, 2026, truth);
  const auto pc = count_pairs(t);
  const auto fit = fit_bradley_terry(pc);
  REQUIRE(fit.converged);
  Eigen::VectorXd want(static_cast<Eigen::Index>(truth.size()));
  for (std::size_t k = 0; k < truth.size(); ++k) want[static_cast<Eigen::Index>(k)] = truth[k];
  const double rho = spearman(fit.r, want);
  MESSAGE("Spearman with the truth at 200k battles: ", rho);
  CHECK(rho >= 0.98);
}

TEST_CASE("the fast multinomial sampler matches the binomial-chain reference in mean and variance") {
  const std::vector<double> counts = {0, 5, 120, 3, 0, 4000, 7, 1, 900, 2};
  const double total = std::accumulate(counts.begin(), counts.end(), 0.0);
  const multinomial_sampler fast(counts);
  const int rounds = 4000;
  std::vector<double> mean_fast(counts.size(), 0), var_fast(counts.size(), 0), mean_ref(counts.size(), 0), out;
  for (int k = 0; k < rounds; ++k) {
    rng g(17, static_cast<std::uint64_t>(k));
    fast.draw(g, out);
    CHECK(std::accumulate(out.begin(), out.end(), 0.0) == total);
    for (std::size_t c = 0; c < counts.size(); ++c) {
      mean_fast[c] += out[c] / rounds;
      var_fast[c] += out[c] * out[c] / rounds;
    }
    draw_multinomial(g, counts, total, out);
    for (std::size_t c = 0; c < counts.size(); ++c) mean_ref[c] += out[c] / rounds;
  }
  for (std::size_t c = 0; c < counts.size(); ++c) {
    CAPTURE(c);
    const double p = counts[c] / total, want_var = total * p * (1 - p);
    const double se = std::sqrt(want_var / rounds);
    CHECK(std::abs(mean_fast[c] - counts[c]) <= 5 * se + 1e-12);
    CHECK(std::abs(mean_ref[c] - counts[c]) <= 5 * se + 1e-12);
    const double var = var_fast[c] - mean_fast[c] * mean_fast[c];
    if (want_var > 0) CHECK(var == doctest::Approx(want_var).epsilon(0.1));
    else CHECK(var == doctest::Approx(0).epsilon(1e-12));
  }
}

TEST_CASE("the multinomial sampler's shared tables for small counts draw Poisson-like cells (one per battle)") {
  // A style design's cells: nearly all hold one battle, a few two or eight.
  std::vector<double> counts(20000, 1.0);
  for (std::size_t k = 0; k < counts.size(); k += 50) counts[k] = 2;
  counts[7] = 8;
  const double total = std::accumulate(counts.begin(), counts.end(), 0.0);
  const multinomial_sampler sampler(counts);
  std::vector<double> out;
  double ones = 0, ones_sq = 0, zeros = 0, twos = 0, n_ones = 0, n_twos = 0, eight = 0;
  const int rounds = 40;
  for (int r = 0; r < rounds; ++r) {
    rng g(5, static_cast<std::uint64_t>(r));
    sampler.draw(g, out);
    CHECK(std::accumulate(out.begin(), out.end(), 0.0) == total);
    for (std::size_t k = 0; k < counts.size(); ++k) {
      if (counts[k] == 1) {
        ones += out[k];
        ones_sq += out[k] * out[k];
        zeros += out[k] == 0;
        ++n_ones;
      } else if (counts[k] == 2) {
        twos += out[k];
        ++n_twos;
      } else {
        eight += out[k];
      }
    }
  }
  // Binomial(N, 1/N) per one-battle cell: mean 1, variance ≈ 1, P(0) ≈ e^-1.
  const double mean = ones / n_ones;
  CHECK(mean == doctest::Approx(1.0).epsilon(0.01));
  CHECK(ones_sq / n_ones - mean * mean == doctest::Approx(1.0).epsilon(0.02));
  CHECK(zeros / n_ones == doctest::Approx(std::exp(-1.0)).epsilon(0.02));
  CHECK(twos / n_twos == doctest::Approx(2.0).epsilon(0.03));
  CHECK(eight / rounds == doctest::Approx(8.0).epsilon(0.15));
}

TEST_CASE("the multinomial sampler's class tables draw the whole Poisson law, far tails included") {
  // 60k cells of 64 battles: each draw is Binomial(N, 64/N) ≈ Poisson(64). The
  // class kernel counts CDF entries over a window; draws outside it (odds
  // ~1e-5 each side) take the full search, so both tails must still appear.
  constexpr double c = 64;
  std::vector<double> counts(60000, c);
  const double total = c * static_cast<double>(counts.size());
  const multinomial_sampler sampler(counts);
  std::vector<double> out, freq(400, 0.0);
  const int rounds = 50;
  for (int r = 0; r < rounds; ++r) {
    rng g(11, static_cast<std::uint64_t>(r));
    sampler.draw(g, out);
    CHECK(std::accumulate(out.begin(), out.end(), 0.0) == total);
    for (double x : out) freq[std::min<std::size_t>(static_cast<std::size_t>(x), freq.size() - 1)] += 1;
  }
  const double draws = static_cast<double>(rounds) * static_cast<double>(counts.size());
  // Binomial(N, c/N) pmf by its recurrence, in logs from the mode.
  const double p = c / total;
  std::vector<double> pmf(freq.size());
  for (std::size_t k = 0; k < pmf.size(); ++k)
    pmf[k] = std::exp(std::lgamma(total + 1) - std::lgamma(static_cast<double>(k) + 1) -
                      std::lgamma(total - static_cast<double>(k) + 1) + static_cast<double>(k) * std::log(p) +
                      (total - static_cast<double>(k)) * std::log1p(-p));
  double cdf = 0, seen = 0, low_tail = 0, high_tail = 0;
  for (std::size_t k = 0; k < freq.size(); ++k) {
    CAPTURE(k);
    cdf += pmf[k];
    seen += freq[k] / draws;
    const double se = std::sqrt(std::max(0.0, cdf * (1 - cdf)) / draws);
    CHECK(std::abs(seen - cdf) <= 5 * se + 2e-6);
    if (cdf < 1e-5) low_tail += freq[k];
    if (cdf - pmf[k] > 1 - 1e-5) high_tail += freq[k];
  }
  MESSAGE("draws beyond the 1e-5 quantiles: ", low_tail, " low, ", high_tail, " high");
  CHECK(low_tail > 0);
  CHECK(high_tail > 0);
}

TEST_CASE("chord refits agree with full Newton fits on resampled counts") {
  const auto t = small_table();
  const auto pc = count_pairs(t);
  const auto fit = fit_bradley_terry(pc);
  const auto h = factor_hessian(pc, fit);
  REQUIRE(h.usable);
  std::vector<double> cells;
  for (std::size_t p = 0; p < pc.n_pairs(); ++p)
    for (double c : pc.count[p]) cells.push_back(c);
  const multinomial_sampler sampler(cells);
  std::vector<double> drawn;
  for (std::uint64_t round = 0; round < 5; ++round) {
    rng g(3, round);
    sampler.draw(g, drawn);
    pair_counts resampled = pc;
    for (std::size_t p = 0; p < pc.n_pairs(); ++p)
      for (std::size_t c = 0; c < n_cells; ++c) resampled.count[p][c] = drawn[n_cells * p + c];
    const auto chord = refit_bradley_terry(resampled, fit, h);
    const auto newton = fit_bradley_terry(resampled);
    CHECK(chord.converged);
    CHECK((chord.r - newton.r).cwiseAbs().maxCoeff() < 1e-7);
  }
}
