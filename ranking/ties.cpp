#include "ranking/ties.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <Eigen/Cholesky>
#include <fmt/format.h>

#include "common/error.hpp"
#include "ranking/random.hpp"

namespace huashan::ranking {

tie_model parse_tie_model(std::string_view name) {
  if (name == "half" || name == "lmarena") return tie_model::half;
  if (name == "rao-kupper") return tie_model::rao_kupper;
  if (name == "davidson") return tie_model::davidson;
  throw parameter_error("ties", fmt::format("expected half|rao-kupper|davidson, got '{}'", name));
}

std::string_view tie_model_name(tie_model t) {
  switch (t) {
    case tie_model::half: return "half";
    case tie_model::rao_kupper: return "rao-kupper";
    case tie_model::davidson: return "davidson";
  }
  return "?";
}

namespace {

// Log-likelihood of one pair and its derivatives in (δ = r_i − r_j, τ).
struct pair_terms {
  double l = 0, ld = 0, lt = 0, ldd = 0, ldt = 0, ltt = 0;
};

pair_terms davidson_terms(double W, double L, double T, double delta, double tau) {
  const double n = W + L + T;
  const double c = ln10 / 2;  // x = c·δ
  const double x = c * delta, ex = std::exp(x), emx = std::exp(-x), nu = std::exp(tau);
  const double z = ex + emx + nu;
  pair_terms p;
  p.l = W * x - L * x + T * tau - n * std::log(z);
  const double lx = W - L - n * (ex - emx) / z;
  const double lxx = -n * ((ex + emx) / z - ((ex - emx) / z) * ((ex - emx) / z));
  p.lt = T - n * nu / z;
  p.ltt = -n * (nu / z - (nu / z) * (nu / z));
  const double lxt = n * (ex - emx) * nu / (z * z);
  p.ld = c * lx;
  p.ldd = c * c * lxx;
  p.ldt = c * lxt;
  return p;
}

pair_terms rao_kupper_terms(double W, double L, double T, double delta, double tau) {
  const double kappa = std::exp(tau);
  const double d = ln10 * delta;
  const double u = d - kappa, v = -d - kappa;
  const double p1 = 1 / (1 + std::exp(-u)), p2 = 1 / (1 + std::exp(-v));
  const double a1 = p1 * (1 - p1), a2 = p2 * (1 - p2);
  const double b1 = a1 * (1 - 2 * p1), b2 = a2 * (1 - 2 * p2);
  // q = 1 − p1 − p2 = σ(κ−d) − σ(−d−κ); computed that way to keep precision.
  const double q = std::max(1 / (1 + std::exp(-(kappa - d))) - p2, 1e-300);
  const double qd = -a1 + a2, qk = a1 + a2;
  const double qdd = -b1 - b2, qkk = -b1 - b2, qdk = b1 - b2;
  pair_terms p;
  auto log_sigma = [](double s) { return -(std::max(-s, 0.0) + std::log1p(std::exp(-std::abs(s)))); };
  p.l = W * log_sigma(u) + L * log_sigma(v) + (T > 0 ? T * std::log(q) : 0.0);
  double l_d = W * (1 - p1) - L * (1 - p2) + T * qd / q;
  double l_k = -W * (1 - p1) - L * (1 - p2) + T * qk / q;
  double l_dd = -W * a1 - L * a2 + T * (qdd / q - qd * qd / (q * q));
  double l_kk = -W * a1 - L * a2 + T * (qkk / q - qk * qk / (q * q));
  double l_dk = W * a1 - L * a2 + T * (qdk / q - qd * qk / (q * q));
  // Chain rule to (δ, τ): d = ln10·δ, κ = e^τ.
  p.ld = ln10 * l_d;
  p.ldd = ln10 * ln10 * l_dd;
  p.lt = kappa * l_k;
  p.ltt = kappa * kappa * l_kk + kappa * l_k;
  p.ldt = ln10 * kappa * l_dk;
  return p;
}

struct tie_eval {
  double nll = 0;
  Eigen::VectorXd g;
  Eigen::MatrixXd h;
};

void evaluate(const pair_counts& pc, tie_model model, const Eigen::VectorXd& theta, double prior, double total,
              tie_eval& ev) {
  const auto m = static_cast<Eigen::Index>(pc.n_models);
  ev.g.setZero(m + 1);
  ev.h.setZero(m + 1, m + 1);
  double nll = 0;
  const double tau = theta[m];
  for (std::size_t p = 0; p < pc.n_pairs(); ++p) {
    const auto& c = pc.count[p];
    const double W = c[0], L = c[1], T = c[2] + c[3];
    if (W + L + T <= 0) continue;
    const auto a = pc.i[p], b = pc.j[p];
    const double delta = theta[a] - theta[b];
    const pair_terms t = model == tie_model::davidson ? davidson_terms(W, L, T, delta, tau)
                                                      : rao_kupper_terms(W, L, T, delta, tau);
    nll -= t.l;
    ev.g[a] -= t.ld;
    ev.g[b] += t.ld;
    ev.g[m] -= t.lt;
    ev.h(a, a) -= t.ldd;
    ev.h(b, b) -= t.ldd;
    ev.h(a, b) += t.ldd;
    ev.h(b, a) += t.ldd;
    ev.h(a, m) -= t.ldt;
    ev.h(m, a) -= t.ldt;
    ev.h(b, m) += t.ldt;
    ev.h(m, b) += t.ldt;
    ev.h(m, m) -= t.ltt;
  }
  if (prior > 0)
    for (Eigen::Index k = 0; k < m; ++k) {
      const double d = ln10 * theta[k];
      const double sig = 1 / (1 + std::exp(-d));
      nll += prior * 0.5 * (std::max(d, 0.0) + std::max(-d, 0.0) + 2 * std::log1p(std::exp(-std::abs(d))));
      ev.g[k] += ln10 * prior * (sig - 0.5);
      ev.h(k, k) += ln10 * ln10 * prior * sig * (1 - sig);
    }
  ev.nll = nll / total;
  ev.g /= total;
  ev.h /= total;
}

}  // namespace

tie_fit fit_tie_model(const pair_counts& pc, tie_model model, const bt_options& options) {
  tie_fit fit;
  fit.model = model;
  if (model == tie_model::half) {
    const bt_fit bt = fit_bradley_terry(pc, options);
    fit.r = bt.r;
    fit.iterations = bt.iterations;
    fit.gradient_norm = bt.gradient_norm;
    fit.converged = bt.converged;
    fit.prior_used = bt.prior_used;
    return fit;
  }
  const auto m = static_cast<Eigen::Index>(pc.n_models);
  std::size_t n_comp = 0;
  const auto comp = components(pc, n_comp);
  double total = 0, ties = 0;
  for (std::size_t p = 0; p < pc.n_pairs(); ++p) {
    total += pc.battles(p);
    ties += pc.count[p][2] + pc.count[p][3];
  }
  fit.prior_used = !mle_exists(pc);
  const double prior = fit.prior_used ? options.prior_ties : 0.0;
  Eigen::VectorXd theta = Eigen::VectorXd::Zero(m + 1);
  // Start τ from the tie rate between equals: Davidson ν = 2t/(1−t); Rao-Kupper
  // κ with 1 − 2σ(−κ) = t, i.e. κ = log((1+t)/(1−t)).
  const double t = std::clamp(ties / std::max(total, 1.0), 1e-3, 0.9);
  theta[m] = model == tie_model::davidson ? std::log(2 * t / (1 - t)) : std::log(std::log((1 + t) / (1 - t)));
  if (total <= 0) {
    fit.r = Eigen::VectorXd::Zero(m);
    return fit;
  }
  tie_eval cur, trial;
  evaluate(pc, model, theta, prior, total, cur);
  for (fit.iterations = 0; fit.iterations < options.max_iterations; ++fit.iterations) {
    fit.gradient_norm = cur.g.norm();
    if (fit.gradient_norm < options.tolerance) {
      fit.converged = true;
      break;
    }
    Eigen::MatrixXd system = cur.h;
    if (prior <= 0) {
      const double c = std::max(system.diagonal().head(m).maxCoeff(), 1e-12);
      for (Eigen::Index a = 0; a < m; ++a)
        for (Eigen::Index b = 0; b < m; ++b)
          if (comp[a] == comp[b]) system(a, b) += c;
    }
    Eigen::LDLT<Eigen::MatrixXd> ldlt(system);
    Eigen::VectorXd step = -ldlt.solve(cur.g);
    double slope = cur.g.dot(step);
    if (!(slope < 0)) {  // not a descent direction (indefinite far from the optimum): gradient step
      step = -cur.g;
      slope = -cur.g.squaredNorm();
    }
    double s = 1.0;
    Eigen::VectorXd next;
    for (int halvings = 0;; ++halvings) {
      next = theta + s * step;
      evaluate(pc, model, next, prior, total, trial);
      if ((std::isfinite(trial.nll) && (trial.nll <= cur.nll + 1e-4 * s * slope + 1e-13 * std::abs(cur.nll) ||
                                        trial.g.norm() < 0.5 * cur.g.norm())) ||
          halvings >= 50)
        break;
      s *= 0.5;
    }
    theta = std::move(next);
    std::swap(cur, trial);
  }
  fit.gradient_norm = cur.g.norm();
  fit.converged = fit.converged || fit.gradient_norm < options.tolerance;
  fit.r = theta.head(m);
  std::vector<double> sum(n_comp, 0), cnt(n_comp, 0);
  for (Eigen::Index k = 0; k < m; ++k) {
    sum[comp[k]] += fit.r[k];
    cnt[comp[k]] += 1;
  }
  for (Eigen::Index k = 0; k < m; ++k) fit.r[k] -= sum[comp[k]] / cnt[comp[k]];
  fit.tie_param = std::exp(theta[m]);
  return fit;
}

namespace {

// (P(i wins), P(j wins)) under a fit; ties get the rest.
std::pair<double, double> win_loss(const tie_fit& f, std::uint32_t i, std::uint32_t j) {
  const double delta = f.r[i] - f.r[j];
  switch (f.model) {
    case tie_model::half: {
      const double p = 1 / (1 + std::exp(-ln10 * delta));
      return {p, 1 - p};
    }
    case tie_model::davidson: {
      const double x = ln10 * delta / 2, ex = std::exp(x), emx = std::exp(-x);
      const double z = ex + emx + f.tie_param;
      return {ex / z, emx / z};
    }
    case tie_model::rao_kupper: {
      const double d = ln10 * delta;
      return {1 / (1 + std::exp(-(d - f.tie_param))), 1 / (1 + std::exp(-(-d - f.tie_param)))};
    }
  }
  return {0.5, 0.5};
}

}  // namespace

double expected_score(const tie_fit& f, std::uint32_t i, std::uint32_t j) {
  const auto [w, l] = win_loss(f, i, j);
  return w + 0.5 * (1 - w - l);
}

double tie_probability(const tie_fit& f, std::uint32_t i, std::uint32_t j) {
  const auto [w, l] = win_loss(f, i, j);
  return std::max(0.0, 1 - w - l);
}

double spearman(const Eigen::VectorXd& x, const Eigen::VectorXd& y) {
  auto ranks = [](const Eigen::VectorXd& v) {
    const auto n = static_cast<std::size_t>(v.size());
    std::vector<std::size_t> idx(n);
    std::iota(idx.begin(), idx.end(), std::size_t{0});
    std::sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return v[a] < v[b]; });
    Eigen::VectorXd r(v.size());
    for (std::size_t k = 0; k < n;) {
      std::size_t e = k;
      while (e + 1 < n && v[idx[e + 1]] == v[idx[k]]) ++e;
      for (std::size_t q = k; q <= e; ++q) r[idx[q]] = 0.5 * static_cast<double>(k + e);
      k = e + 1;
    }
    return r;
  };
  const Eigen::VectorXd rx = ranks(x), ry = ranks(y);
  const Eigen::VectorXd cx = rx.array() - rx.mean(), cy = ry.array() - ry.mean();
  const double den = std::sqrt(cx.squaredNorm() * cy.squaredNorm());
  return den > 0 ? cx.dot(cy) / den : 1.0;
}

std::vector<tie_comparison_row> compare_tie_models(const battle_table& battles, double holdout, std::uint64_t seed) {
  rng g(seed, 0x7715);
  std::vector<bool> held(battles.size());
  for (std::size_t k = 0; k < battles.size(); ++k) held[k] = g.uniform() < holdout;
  // Same model dictionary for train and test: count pairs by hand.
  battle_table train, test;
  {
    std::vector<bool> keep_train(battles.size()), keep_test(battles.size());
    for (std::size_t k = 0; k < battles.size(); ++k) keep_train[k] = !held[k], keep_test[k] = held[k];
    auto filter = [&](const std::vector<bool>& keep) {
      battle_table t;
      t.models = battles.models;
      for (std::size_t k = 0; k < battles.size(); ++k)
        if (keep[k]) {
          t.model_a.push_back(battles.model_a[k]);
          t.model_b.push_back(battles.model_b[k]);
          t.winner.push_back(battles.winner[k]);
          t.line.push_back(battles.line[k]);
        }
      return t;
    };
    train = filter(keep_train);
    test = filter(keep_test);
  }
  const pair_counts pc_all = count_pairs(battles), pc_train = count_pairs(train), pc_test = count_pairs(test);
  std::vector<tie_comparison_row> rows;
  Eigen::VectorXd half_r;
  std::vector<std::size_t> half_rank;
  for (const auto model : {tie_model::half, tie_model::rao_kupper, tie_model::davidson}) {
    tie_comparison_row row;
    row.model = model;
    const tie_fit trained = fit_tie_model(pc_train, model);
    double err = 0, weight = 0;
    for (std::size_t p = 0; p < pc_test.n_pairs(); ++p) {
      const double n = pc_test.battles(p);
      const auto& c = pc_test.count[p];
      const double observed = (c[0] + 0.5 * (c[2] + c[3])) / n;
      err += n * std::abs(expected_score(trained, pc_test.i[p], pc_test.j[p]) - observed);
      weight += n;
    }
    row.calibration_mae = weight > 0 ? err / weight : 0;
    const tie_fit all = fit_tie_model(pc_all, model);
    row.tie_param = all.tie_param;
    row.order.resize(static_cast<std::size_t>(all.r.size()));
    std::iota(row.order.begin(), row.order.end(), 0u);
    std::stable_sort(row.order.begin(), row.order.end(), [&](auto a, auto b) { return all.r[a] > all.r[b]; });
    std::vector<std::size_t> rank(row.order.size());
    for (std::size_t k = 0; k < row.order.size(); ++k) rank[row.order[k]] = k;
    if (model == tie_model::half) {
      half_r = all.r;
      half_rank = rank;
    } else {
      row.spearman_vs_half = spearman(all.r, half_r);
      for (std::size_t k = 0; k < rank.size(); ++k) {
        const auto shift = static_cast<std::uint32_t>(rank[k] > half_rank[k] ? rank[k] - half_rank[k] : half_rank[k] - rank[k]);
        row.max_rank_shift = std::max(row.max_rank_shift, shift);
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace huashan::ranking
