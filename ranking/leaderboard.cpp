#include "ranking/leaderboard.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "common/error.hpp"
#include "ranking/bootstrap.hpp"
#include "ranking/elo.hpp"
#include "ranking/pair_counts.hpp"
#include "ranking/robustness.hpp"

namespace huashan::ranking {

std::vector<std::uint32_t> upper_bound_ranks(const std::vector<double>& lo, const std::vector<double>& hi) {
  // Sorting the lower bounds makes this O(n log n): count lo[k] > hi[i].
  std::vector<double> sorted = lo;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::uint32_t> out(hi.size());
  for (std::size_t i = 0; i < hi.size(); ++i) {
    const auto above = sorted.end() - std::upper_bound(sorted.begin(), sorted.end(), hi[i]);
    out[i] = static_cast<std::uint32_t>(1 + above);
  }
  return out;
}

std::vector<double> inverse_propensity_weights(const battle_table& t) {
  if (!t.has_sampling_probability())
    throw input_error("inverse-propensity weighting needs a sampling_probability for every battle");
  std::vector<double> w(t.size());
  double sum = 0;
  for (std::size_t k = 0; k < t.size(); ++k) {
    const double p = t.sampling_probability[k];
    if (!(p > 0 && p <= 1))
      throw input_error(fmt::format("battle on line {}: sampling_probability {} is not in (0, 1]", t.line[k], p));
    w[k] = 1.0 / p;
    sum += w[k];
  }
  const double scale = t.size() > 0 ? static_cast<double>(t.size()) / sum : 1.0;
  for (auto& x : w) x *= scale;
  return w;
}

namespace {

std::string model_list(const battle_table& t, const std::vector<std::uint32_t>& ids) {
  std::string s;
  for (std::size_t k = 0; k < ids.size() && k < 10; ++k) s += (k ? ", " : "") + t.models.name(ids[k]);
  if (ids.size() > 10) s += fmt::format(" and {} more", ids.size() - 10);
  return s;
}

}  // namespace

leaderboard compute_leaderboard(const battle_table& t, const leaderboard_options& o) {
  leaderboard lb;
  lb.models = t.models.names();
  lb.battles = t.size();
  const std::size_t m = t.n_models();
  const auto mi = static_cast<Eigen::Index>(m);
  const auto votes = t.votes_per_model();

  std::optional<std::uint32_t> anchor_index;
  if (o.anchor_model) {
    anchor_index = t.models.find(o.anchor_model->model);
    if (!anchor_index) throw parameter_error("anchor_model", fmt::format("no model named '{}' in the battles", o.anchor_model->model));
  }

  std::vector<double> battle_weight;
  if (o.inverse_propensity) {
    battle_weight = inverse_propensity_weights(t);
    if (o.ties != tie_model::half && !o.style_control)
      lb.warnings.push_back("inverse-propensity weights apply to Bradley-Terry and style control; the tie model ignores them");
  }
  pair_counts pc = o.inverse_propensity ? count_pairs(t, battle_weight) : count_pairs(t);
  if (o.reweight) reweight_pairs(pc);
  const bt_fit bt = fit_bradley_terry(pc, o.fit);
  lb.n_components = bt.n_components;
  if (bt.n_components > 1)
    lb.warnings.push_back(fmt::format(
        "the comparison graph has {} connected components: ratings are comparable only within a component",
        bt.n_components));
  if (!bt.never_won.empty())
    lb.warnings.push_back(fmt::format("never won (not even a tie): {}", model_list(t, bt.never_won)));
  if (!bt.never_lost.empty())
    lb.warnings.push_back(fmt::format("never lost (not even a tie): {}", model_list(t, bt.never_lost)));
  if (bt.prior_used)
    lb.warnings.push_back(fmt::format(
        "no finite maximum-likelihood ratings exist; used a prior of {} virtual tie(s) per model against a "
        "1000-rated opponent",
        o.fit.prior_ties));
  if (!bt.converged)
    lb.warnings.push_back(fmt::format("the fit did not converge in {} iterations (gradient norm {:.3g})",
                                      bt.iterations, bt.gradient_norm));

  Eigen::VectorXd r;                 // point fit, log10 units
  Eigen::MatrixXd samples;           // rounds × m, log10 units
  Eigen::MatrixXd cov;               // m × m, sandwich (when available)
  bootstrap_options boot{o.bootstrap_rounds, o.seed, o.threads};
  if (o.style_control) {
    const style_design design = build_style_design(t, battle_weight);
    style_options so;
    so.penalty = o.penalty;
    so.threads = o.threads;
    style_fit sf = fit_style(design, design.weight, so);
    r = sf.r;
    const Eigen::MatrixXd scov = style_sandwich(design, sf, so);
    cov = scov.topLeftCorner(mi, mi);
    if (o.bootstrap_rounds > 0) {
      const Eigen::MatrixXd s = bootstrap_style(design, sf, so, boot);
      samples = s.leftCols(mi);
      const Eigen::MatrixXd coefs = s.rightCols(static_cast<Eigen::Index>(n_style_features));
      const Eigen::VectorXd med = column_quantile(coefs, 0.5), lo = column_quantile(coefs, 0.025),
                            hi = column_quantile(coefs, 0.975);
      for (std::size_t k = 0; k < n_style_features; ++k) {
        const auto ki = static_cast<Eigen::Index>(k);
        sf.coef_median[k] = med[ki];
        sf.coef_lo[k] = lo[ki];
        sf.coef_hi[k] = hi[ki];
      }
    }
    lb.style = sf;
  } else if (o.ties != tie_model::half) {
    const tie_fit tf = fit_tie_model(pc, o.ties, o.fit);
    r = tf.r;
    lb.tie = tf;
    cov = sandwich_covariance(pc, bt, o.fit);  // BT's, as an approximation when no bootstrap
    if (o.bootstrap_rounds > 0) {
      const auto res = bootstrap_pairs(pc, boot, [&](const pair_counts& rs, bool& prior_used, bool& converged) {
        tie_fit f = fit_tie_model(rs, o.ties, o.fit);
        prior_used = f.prior_used;
        converged = f.converged;
        return std::move(f.r);
      });
      samples = res.r;
    }
  } else {
    r = bt.r;
    cov = sandwich_covariance(pc, bt, o.fit);
    if (o.bootstrap_rounds > 0) {
      const auto res = bootstrap_bradley_terry(pc, bt, o.fit, boot);
      samples = res.r;
      if (res.rounds_with_prior > 0)
        lb.warnings.push_back(fmt::format("{} of {} bootstrap rounds had no finite MLE and used the prior",
                                          res.rounds_with_prior, o.bootstrap_rounds));
      if (res.rounds_not_converged > 0)
        lb.warnings.push_back(
            fmt::format("{} bootstrap rounds did not converge", res.rounds_not_converged));
    }
  }

  // Displayed ratings: 400 r + 1000, shifted so the anchor (if any) sits at its rating.
  Eigen::VectorXd shown = rating_scale * r.array() + rating_base;
  double shift = 0;
  if (anchor_index) shift = o.anchor_model->rating - shown[*anchor_index];
  shown.array() += shift;
  Eigen::VectorXd lo(mi), hi(mi), median = Eigen::VectorXd::Constant(mi, std::nan(""));
  // Standard deviation of each displayed rating; with an anchor a, of r_k − r_a.
  Eigen::VectorXd var = cov.diagonal();
  if (anchor_index) {
    const auto ai = static_cast<Eigen::Index>(*anchor_index);
    for (Eigen::Index k = 0; k < mi; ++k) var[k] = cov(k, k) + cov(ai, ai) - 2 * cov(k, ai);
  }
  const Eigen::VectorXd sd = var.array().max(0.0).sqrt() * rating_scale;
  if (samples.rows() > 0) {
    Eigen::MatrixXd disp = (rating_scale * samples.array() + rating_base).matrix();
    for (Eigen::Index k = 0; k < disp.rows(); ++k) {
      const double s = anchor_index ? o.anchor_model->rating - disp(k, *anchor_index) : 0.0;
      disp.row(k).array() += s;
    }
    lo = column_quantile(disp, 0.025);
    hi = column_quantile(disp, 0.975);
    median = column_quantile(disp, 0.5);
    lb.interval_method = "bootstrap";
    lb.bootstrap_rounds = o.bootstrap_rounds;
  } else {
    lo = shown - 1.96 * sd;
    hi = shown + 1.96 * sd;
    lb.interval_method = "sandwich";
  }

  std::vector<double> elo;
  if (o.elo) elo = online_elo(t.chronological(), elo_options{o.elo_k});

  std::vector<std::uint32_t> order;
  for (std::uint32_t k = 0; k < m; ++k)
    if (votes[k] > 0 && votes[k] >= o.min_votes) order.push_back(k);
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return shown[a] > shown[b]; });
  std::vector<double> los, his;
  for (auto k : order) {
    los.push_back(lo[k]);
    his.push_back(hi[k]);
  }
  const auto ub = upper_bound_ranks(los, his);
  for (std::size_t pos = 0; pos < order.size(); ++pos) {
    const auto k = order[pos];
    leaderboard_row row;
    row.model = k;
    row.name = t.models.name(k);
    row.rating = shown[k];
    row.ci_lo = lo[k];
    row.ci_hi = hi[k];
    row.boot_median = median[k];
    row.sandwich_lo = shown[k] - 1.96 * sd[k];
    row.sandwich_hi = shown[k] + 1.96 * sd[k];
    row.rank = 1;
    while (row.rank - 1 < pos && shown[order[row.rank - 1]] > shown[k]) ++row.rank;
    row.rank_ub = ub[pos];
    row.votes = votes[k];
    if (o.elo) row.elo = elo[k];
    row.component = bt.component[k];
    lb.rows.push_back(std::move(row));
  }

  if (o.robustness && o.ties == tie_model::half && !o.style_control) {
    for (std::size_t pos = 0; pos + 1 < order.size(); ++pos)
      lb.rows[pos].votes_to_swap_with_next = votes_to_swap(pc, bt, order[pos], order[pos + 1], o.fit);
  } else if (o.robustness) {
    lb.warnings.push_back("robustness numbers are computed for the default Bradley-Terry model only");
  }

  if (o.matrices) {
    leaderboard::matrices_t mx;
    mx.order = order;
    const auto n = static_cast<Eigen::Index>(order.size());
    std::vector<std::int64_t> pos_of(m, -1);
    for (std::size_t p = 0; p < order.size(); ++p) pos_of[order[p]] = static_cast<std::int64_t>(p);
    mx.battles = Eigen::MatrixXd::Zero(n, n);
    Eigen::MatrixXd score = Eigen::MatrixXd::Zero(n, n);
    for (std::size_t p = 0; p < pc.n_pairs(); ++p) {
      const auto a = pos_of[pc.i[p]], b = pos_of[pc.j[p]];
      if (a < 0 || b < 0) continue;
      const double nb = pc.battles(p);
      const auto& c = pc.count[p];
      const double s = c[0] + 0.5 * (c[2] + c[3]);
      mx.battles(a, b) = mx.battles(b, a) = nb;
      score(a, b) = s;
      score(b, a) = nb - s;
    }
    mx.win_fraction = Eigen::MatrixXd::Constant(n, n, std::nan(""));
    mx.predicted = Eigen::MatrixXd::Constant(n, n, std::nan(""));
    for (Eigen::Index a = 0; a < n; ++a)
      for (Eigen::Index b = 0; b < n; ++b) {
        if (a == b) continue;
        if (mx.battles(a, b) > 0) mx.win_fraction(a, b) = score(a, b) / mx.battles(a, b);
        const double d = ln10 * (r[order[static_cast<std::size_t>(a)]] - r[order[static_cast<std::size_t>(b)]]);
        mx.predicted(a, b) = 1.0 / (1.0 + std::exp(-d));
      }
    lb.matrices = std::move(mx);
  }
  return lb;
}

}  // namespace huashan::ranking
