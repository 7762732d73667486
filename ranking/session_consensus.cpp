#include "ranking/session_consensus.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <unordered_map>

#include <fmt/format.h>

#include "common/error.hpp"

namespace huashan::ranking {

namespace {

bool is_decisive(outcome o) { return o == outcome::model_a || o == outcome::model_b; }

// log(1 + e^x) without overflow.
double softplus(double x) { return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x))); }

void check(const battle_table& t, const consensus_options& o) {
  if (t.voter.size() != t.size())
    throw input_error("session consensus needs a voter (judge) column with one entry per battle");
  if (!(o.floor >= 0.0 && o.floor <= 1.0))
    throw input_error(fmt::format("session consensus: floor {} is not in [0, 1]", o.floor));
}

// Weight 1 for every battle, `floor` for those of the flagged voters.
std::vector<double> weights_for(const battle_table& t, const std::vector<std::uint32_t>& flagged, double floor) {
  std::vector<double> w(t.size(), 1.0);
  if (flagged.empty()) return w;
  std::vector<std::uint8_t> is_flagged(t.voters.size(), 0);
  for (const auto v : flagged) is_flagged[v] = 1;
  for (std::size_t k = 0; k < t.size(); ++k)
    if (is_flagged[t.voter[k]]) w[k] = floor;
  return w;
}

std::vector<std::uint32_t> flagged_voters(const std::vector<session_score>& scores) {
  std::vector<std::uint32_t> out;
  for (const auto& s : scores)
    if (s.flagged) out.push_back(s.voter);
  return out;
}

}  // namespace

std::vector<session_score> score_sessions(const battle_table& t, const bt_fit& fit, const consensus_options& o) {
  check(t, o);
  struct sums {
    std::uint32_t n = 0;
    double ll = 0, e = 0, v = 0, k3 = 0;
  };
  std::vector<sums> per(t.voters.size());
  for (std::size_t k = 0; k < t.size(); ++k) {
    const outcome w = t.winner[k];
    if (!is_decisive(w)) continue;
    // x = logit of q = P(model_a wins); log q = −softplus(−x), log(1 − q) = −softplus(x).
    const double x = ln10 * (fit.r[t.model_a[k]] - fit.r[t.model_b[k]]);
    const double log_q = -softplus(-x), log_not_q = -softplus(x);
    const double q = std::exp(log_q);
    auto& s = per[t.voter[k]];
    ++s.n;
    s.ll += w == outcome::model_a ? log_q : log_not_q;
    s.e += q * log_q + (1 - q) * log_not_q;
    s.v += q * (1 - q) * x * x;
    s.k3 += q * (1 - q) * (1 - 2 * q) * x * x * x;
  }
  std::vector<session_score> out;
  for (std::uint32_t v = 0; v < per.size(); ++v) {
    const auto& s = per[v];
    if (s.n < o.min_votes || s.n == 0) continue;
    session_score sc;
    sc.voter = v;
    sc.votes = s.n;
    sc.log_likelihood = s.ll;
    sc.expected = s.e;
    sc.variance = s.v;
    sc.z = s.v > 1e-12 ? (s.ll - s.e) / std::sqrt(s.v) : 0.0;
    sc.skewness = s.v > 1e-12 ? std::clamp(s.k3 / (s.v * std::sqrt(s.v)), -2.0, 0.0) : 0.0;
    sc.cutoff = -o.threshold + sc.skewness / 6 * (o.threshold * o.threshold - 1);
    sc.flagged = sc.z < sc.cutoff;
    out.push_back(sc);
  }
  return out;
}

consensus_result session_consensus(const battle_table& t, const bt_fit& fit, const consensus_options& o) {
  consensus_result r;
  r.sessions = score_sessions(t, fit, o);
  r.flagged = flagged_voters(r.sessions);
  r.battle_weight = weights_for(t, r.flagged, o.floor);
  r.fit = fit;
  r.passes = 1;
  return r;
}

consensus_result iterated_session_consensus(const battle_table& t, const consensus_options& o,
                                            const Eigen::VectorXd* start,
                                            const std::vector<std::uint32_t>* flagged_before) {
  check(t, o);
  if (o.rounds < 1) throw input_error(fmt::format("session consensus: rounds {} is below 1", o.rounds));
  consensus_result r;
  if (flagged_before) {
    r.flagged = *flagged_before;
    std::sort(r.flagged.begin(), r.flagged.end());
    r.flagged.erase(std::unique(r.flagged.begin(), r.flagged.end()), r.flagged.end());
    for (const auto v : r.flagged)
      if (v >= t.voters.size())
        throw input_error(fmt::format("session consensus: flagged voter {} is not one of the {} voters", v, t.voters.size()));
  }
  // Invariant: battle_weight and decisive_fit follow r.flagged.
  r.battle_weight = weights_for(t, r.flagged, o.floor);
  r.decisive_fit = fit_bradley_terry(decisive_pair_counts(t, r.battle_weight), o.fit, start);
  for (int pass = 1; pass <= o.rounds; ++pass) {
    auto scores = score_sessions(t, r.decisive_fit, o);
    auto now = flagged_voters(scores);
    r.passes = pass;
    r.settled = now == r.flagged;
    r.sessions = std::move(scores);
    if (r.settled) break;
    r.flagged = std::move(now);
    r.battle_weight = weights_for(t, r.flagged, o.floor);
    r.decisive_fit = fit_bradley_terry(decisive_pair_counts(t, r.battle_weight), o.fit, &r.decisive_fit.r);
  }
  r.fit = fit_bradley_terry(weighted_pair_counts(t, r.battle_weight), o.fit, start);
  return r;
}

namespace {

pair_counts summed_pair_counts(const battle_table& t, const std::vector<double>& weight, bool decisive_only) {
  assert(weight.size() == t.size());
  const std::size_t m = t.n_models();
  pair_counts pc;
  pc.n_models = m;
  // Cell of battle k from the lower index's side: model_a wins is cell 0 when a < b.
  auto cell_of = [&](std::size_t k, std::uint32_t& lo, std::uint32_t& hi) {
    const auto a = t.model_a[k], b = t.model_b[k];
    outcome o = t.winner[k];
    if (a <= b) {
      lo = a, hi = b;
    } else {
      lo = b, hi = a;
      o = swapped(o);
    }
    return static_cast<std::size_t>(o);
  };
  auto emit = [&](std::uint32_t lo, std::uint32_t hi, const std::array<double, n_cells>& c) {
    if (c[0] + c[1] + c[2] + c[3] <= 0) return;
    pc.i.push_back(lo);
    pc.j.push_back(hi);
    pc.count.push_back(c);
  };
  if (m <= 4096) {
    std::vector<std::array<double, n_cells>> dense(m * m, {0, 0, 0, 0});
    for (std::size_t k = 0; k < t.size(); ++k) {
      assert(weight[k] >= 0);
      if (weight[k] <= 0 || (decisive_only && !is_decisive(t.winner[k]))) continue;
      std::uint32_t lo = 0, hi = 0;
      const std::size_t c = cell_of(k, lo, hi);
      dense[static_cast<std::size_t>(lo) * m + hi][c] += weight[k];
    }
    for (std::uint32_t a = 0; a < m; ++a)
      for (std::uint32_t b = a + 1; b < m; ++b) emit(a, b, dense[static_cast<std::size_t>(a) * m + b]);
  } else {
    std::unordered_map<std::uint64_t, std::array<double, n_cells>> cells;
    for (std::size_t k = 0; k < t.size(); ++k) {
      assert(weight[k] >= 0);
      if (weight[k] <= 0 || (decisive_only && !is_decisive(t.winner[k]))) continue;
      std::uint32_t lo = 0, hi = 0;
      const std::size_t c = cell_of(k, lo, hi);
      auto& cell = cells.try_emplace((std::uint64_t{lo} << 32) | hi, std::array<double, n_cells>{0, 0, 0, 0}).first->second;
      cell[c] += weight[k];
    }
    std::vector<std::uint64_t> keys;
    keys.reserve(cells.size());
    for (const auto& [key, c] : cells) keys.push_back(key);
    std::sort(keys.begin(), keys.end());
    for (const auto key : keys)
      emit(static_cast<std::uint32_t>(key >> 32), static_cast<std::uint32_t>(key & 0xFFFFFFFFu), cells[key]);
  }
  pc.weight.assign(pc.n_pairs(), 1.0);
  return pc;
}

}  // namespace

pair_counts weighted_pair_counts(const battle_table& t, const std::vector<double>& weight) {
  return summed_pair_counts(t, weight, false);
}

pair_counts decisive_pair_counts(const battle_table& t, const std::vector<double>& weight) {
  return summed_pair_counts(t, weight, true);
}

}  // namespace huashan::ranking
