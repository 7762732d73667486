#include "ranking/style_control.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <thread>

#include <Eigen/Cholesky>
#include <fmt/format.h>

#include "common/error.hpp"
#include "ranking/bradley_terry.hpp"
#include "ranking/random.hpp"

namespace huashan::ranking {

namespace {

constexpr std::size_t nf = n_style_features;

// Key of a battle for de-duplication: models, outcome, the eight raw counts.
struct row_key {
  std::array<std::uint32_t, 11> v;
  bool operator==(const row_key& o) const { return v == o.v; }
};
struct row_key_hash {
  std::size_t operator()(const row_key& k) const noexcept {
    std::uint64_t h = 0x9E3779B97F4A7C15ull;
    for (auto x : k.v) {
      h ^= x + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
      h *= 0xBF58476D1CE4E5B9ull;
    }
    return static_cast<std::size_t>(h ^ (h >> 31));
  }
};

double raw_feature(const style_counts& s, std::size_t k) {
  const double a = s.a[k], b = s.b[k];
  return (a - b) / (a + b + 1.0);
}

// Objective / N and (optionally) its gradient and Hessian over rows [begin, end).
struct partial {
  double nll = 0;
  Eigen::VectorXd g;
  Eigen::MatrixXd h;
};

void accumulate(const style_design& d, const std::vector<double>& w, const Eigen::VectorXd& theta, std::size_t begin,
                std::size_t end, bool want_h, partial& out) {
  const auto dim = static_cast<Eigen::Index>(d.n_models + nf);
  const auto m = static_cast<Eigen::Index>(d.n_models);
  out.g.setZero(dim);
  if (want_h) out.h.setZero(dim, dim);
  out.nll = 0;
  double beta[nf];
  for (std::size_t k = 0; k < nf; ++k) beta[k] = theta[m + static_cast<Eigen::Index>(k)];
  double* g = out.g.data();
  for (std::size_t i = begin; i < end; ++i) {
    const double wi = w[i];
    if (wi <= 0) continue;
    const auto a = d.a[i], b = d.b[i];
    const auto& f = d.f[i];
    double z = ln10 * (theta[a] - theta[b]);
    for (std::size_t k = 0; k < nf; ++k) z += beta[k] * f[k];
    const double e = std::exp(-std::abs(z));
    const double sig = z >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
    const double y = d.y[i];
    if (want_h) {  // the objective is only needed by Newton's line search
      const double l1p = std::log1p(e);
      out.nll += wi * (y * (std::max(-z, 0.0) + l1p) + (1 - y) * (std::max(z, 0.0) + l1p));
    }
    const double r = wi * (sig - y);  // ∂loss/∂z
    g[a] += ln10 * r;
    g[b] -= ln10 * r;
    for (std::size_t k = 0; k < nf; ++k) g[m + static_cast<Eigen::Index>(k)] += r * f[k];
    if (!want_h) continue;
    const double hw = wi * sig * (1 - sig);
    auto& H = out.h;
    const double aa = ln10 * ln10 * hw;
    H(a, a) += aa;
    H(b, b) += aa;
    H(a, b) -= aa;
    H(b, a) -= aa;
    for (std::size_t k = 0; k < nf; ++k) {
      const auto col = m + static_cast<Eigen::Index>(k);
      const double v = ln10 * hw * f[k];
      H(a, col) += v;
      H(b, col) -= v;
      for (std::size_t l = 0; l <= k; ++l) H(m + static_cast<Eigen::Index>(l), col) += hw * f[k] * f[l];
    }
  }
}

// Full objective / N at theta: rows split over `threads`, penalty added; the
// Hessian is returned complete (symmetrised).
void evaluate(const style_design& d, const std::vector<double>& w, double total, const Eigen::VectorXd& theta,
              const style_options& o, unsigned threads, partial& out, std::vector<partial>& scratch,
              bool want_h = true) {
  const std::size_t n = d.size();
  const unsigned t = worker_count(threads, std::max<std::size_t>(1, n / 20000));
  scratch.resize(t);
  if (t == 1) {
    accumulate(d, w, theta, 0, n, want_h, scratch[0]);
  } else {
    std::vector<std::thread> pool;
    for (unsigned k = 1; k < t; ++k)
      pool.emplace_back([&, k] { accumulate(d, w, theta, n * k / t, n * (k + 1) / t, want_h, scratch[k]); });
    accumulate(d, w, theta, 0, n / t, want_h, scratch[0]);
    for (auto& th : pool) th.join();
  }
  out = scratch[0];
  for (unsigned k = 1; k < t; ++k) {
    out.nll += scratch[k].nll;
    out.g += scratch[k].g;
    if (want_h) out.h += scratch[k].h;
  }
  const auto m = static_cast<Eigen::Index>(d.n_models);
  const auto dim = m + static_cast<Eigen::Index>(nf);
  const Eigen::Index from = o.penalty == style_penalty::all ? 0 : m;
  if (!want_h) {
    for (Eigen::Index k = from; k < dim; ++k) {
      out.nll += o.lambda * theta[k] * theta[k];
      out.g[k] += 2 * o.lambda * theta[k];
    }
    out.nll /= total;
    out.g /= total;
    return;
  }
  // Mirror the feature×model blocks and the upper feature triangle.
  for (Eigen::Index k = m; k < dim; ++k) {
    for (Eigen::Index a = 0; a < m; ++a) out.h(k, a) = out.h(a, k);
    for (Eigen::Index l = m; l < k; ++l) out.h(k, l) = out.h(l, k);
  }
  for (Eigen::Index k = from; k < dim; ++k) {
    out.nll += o.lambda * theta[k] * theta[k];
    out.g[k] += 2 * o.lambda * theta[k];
    out.h(k, k) += 2 * o.lambda;
  }
  out.nll /= total;
  out.g /= total;
  out.h /= total;
}

}  // namespace

style_design build_style_design(const battle_table& t, const std::vector<double>& battle_weight) {
  if (!t.has_style())
    throw input_error(
        "style control needs the style columns len_a,len_b,header_a,header_b,list_a,list_b,bold_a,bold_b "
        "(or conv_metadata in JSONL)");
  style_design d;
  d.n_models = t.n_models();
  const std::size_t n = t.size();
  // Standardisation over all battles (population standard deviation).
  std::array<double, nf> sum{}, sum2{};
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t k = 0; k < nf; ++k) {
      const double x = raw_feature(t.style[i], k);
      sum[k] += x;
      sum2[k] += x * x;
    }
  for (std::size_t k = 0; k < nf; ++k) {
    d.mean[k] = sum[k] / static_cast<double>(n);
    // Two-pass would be more accurate; features are in [-1, 1] so this is ample.
    d.stdev[k] = std::sqrt(std::max(0.0, sum2[k] / static_cast<double>(n) - d.mean[k] * d.mean[k]));
  }
  // Open addressing over row indices (a flat table, load ≤ ½): at a million
  // battles std::unordered_map's node allocations were most of the design's cost.
  std::size_t slots = 16;
  while (slots < 2 * n) slots *= 2;
  constexpr std::uint32_t empty = ~0u;
  std::vector<std::uint32_t> table(slots, empty);
  std::vector<row_key> keys;
  keys.reserve(n);
  d.a.reserve(n);
  d.b.reserve(n);
  d.y.reserve(n);
  d.f.reserve(n);
  d.count.reserve(n);
  d.weight.reserve(n);
  d.row_of_battle.resize(n);
  const row_key_hash hash;
  const auto key_of = [&](std::size_t i) {
    row_key key;
    key.v[0] = t.model_a[i];
    key.v[1] = t.model_b[i];
    // Both tie kinds are the same row (y = ½).
    const double y = score_a(t.winner[i]);
    key.v[2] = y == 1.0 ? 2u : y == 0.0 ? 0u : 1u;
    for (std::size_t k = 0; k < nf; ++k) {
      key.v[3 + 2 * k] = t.style[i].a[k];
      key.v[4 + 2 * k] = t.style[i].b[k];
    }
    return key;
  };
  // Slots are hashed a little ahead and prefetched: the table outgrows the
  // caches, and its random reads otherwise waited on memory one by one.
  constexpr std::size_t ahead = 16;
  std::vector<std::uint32_t> slot_of(n);
  for (std::size_t i = 0; i < n; ++i) slot_of[i] = static_cast<std::uint32_t>(hash(key_of(i)) & (slots - 1));
  for (std::size_t i = 0; i < n; ++i) {
    if (i + ahead < n) __builtin_prefetch(&table[slot_of[i + ahead]]);
    const row_key key = key_of(i);
    const double y = score_a(t.winner[i]);
    std::size_t slot = slot_of[i];
    while (table[slot] != empty && !(keys[table[slot]] == key)) slot = (slot + 1) & (slots - 1);
    if (table[slot] == empty) {
      table[slot] = static_cast<std::uint32_t>(d.a.size());
      keys.push_back(key);
      d.a.push_back(t.model_a[i]);
      d.b.push_back(t.model_b[i]);
      d.y.push_back(y);
      std::array<double, nf> f{};
      for (std::size_t k = 0; k < nf; ++k)
        f[k] = d.stdev[k] > 0 ? (raw_feature(t.style[i], k) - d.mean[k]) / d.stdev[k] : 0.0;
      d.f.push_back(f);
      d.count.push_back(0);
      d.weight.push_back(0);
    }
    const std::uint32_t row = table[slot];
    d.count[row] += 1;
    d.weight[row] += battle_weight.empty() ? 1.0 : battle_weight[i];
    d.row_of_battle[i] = row;
  }
  d.battle_weight = battle_weight;
  return d;
}

style_fit fit_style(const style_design& d, const std::vector<double>& weights, const style_options& o,
                    const Eigen::VectorXd* start) {
  const auto m = static_cast<Eigen::Index>(d.n_models);
  const auto dim = m + static_cast<Eigen::Index>(nf);
  double total = 0;
  for (double w : weights) total += w;
  style_fit fit;
  Eigen::VectorXd theta = start != nullptr ? *start : Eigen::VectorXd::Zero(dim);
  // Components, for the gauge when ratings are not penalised.
  pair_counts pc;
  pc.n_models = d.n_models;
  if (o.penalty == style_penalty::coefficients) {
    for (std::size_t i = 0; i < d.size(); ++i) {
      pc.i.push_back(std::min(d.a[i], d.b[i]));
      pc.j.push_back(std::max(d.a[i], d.b[i]));
      pc.count.push_back({weights[i], 0, 0, 0});
      pc.weight.push_back(1);
    }
  }
  std::size_t n_comp = 1;
  const auto comp = components(pc, n_comp);
  if (total <= 0) total = 1;
  partial cur, trial;
  std::vector<partial> scratch;
  evaluate(d, weights, total, theta, o, o.threads, cur, scratch);
  Eigen::MatrixXd system;
  for (fit.iterations = 0; fit.iterations < o.max_iterations; ++fit.iterations) {
    fit.gradient_norm = cur.g.norm();
    if (fit.gradient_norm < o.tolerance) {
      fit.converged = true;
      break;
    }
    system = cur.h;
    if (o.penalty == style_penalty::coefficients) {
      const double c = std::max(system.diagonal().head(m).maxCoeff(), 1e-12);
      for (Eigen::Index a = 0; a < m; ++a)
        for (Eigen::Index b = 0; b < m; ++b)
          if (comp[a] == comp[b]) system(a, b) += c;
    }
    Eigen::LLT<Eigen::MatrixXd> llt(system);
    const Eigen::VectorXd step = llt.info() == Eigen::Success ? Eigen::VectorXd(-llt.solve(cur.g))
                                                              : Eigen::VectorXd(-system.ldlt().solve(cur.g));
    const double slope = cur.g.dot(step);
    double t = 1.0;
    Eigen::VectorXd next;
    for (int halvings = 0;; ++halvings) {
      next = theta + t * step;
      evaluate(d, weights, total, next, o, o.threads, trial, scratch);
      // Armijo, or a halved gradient (the objective's change drowns in rounding near the optimum).
      if (trial.nll <= cur.nll + 1e-4 * t * slope + 1e-13 * std::abs(cur.nll) || trial.g.norm() < 0.5 * cur.g.norm() ||
          halvings >= 40)
        break;
      t *= 0.5;
    }
    theta = std::move(next);
    std::swap(cur, trial);
  }
  fit.gradient_norm = cur.g.norm();
  fit.converged = fit.converged || fit.gradient_norm < o.tolerance;
  if (o.penalty == style_penalty::coefficients) {
    std::vector<double> s(n_comp, 0), c(n_comp, 0);
    for (Eigen::Index k = 0; k < m; ++k) {
      s[comp[k]] += theta[k];
      c[comp[k]] += 1;
    }
    for (Eigen::Index k = 0; k < m; ++k) theta[k] -= s[comp[k]] / c[comp[k]];
  }
  fit.r = theta.head(m);
  for (std::size_t k = 0; k < nf; ++k) {
    fit.coef[k] = theta[m + static_cast<Eigen::Index>(k)];
    fit.coef_median[k] = fit.coef_lo[k] = fit.coef_hi[k] = std::nan("");
  }
  return fit;
}

namespace {

// The data part of the gradient (objective × N, no penalty) over the rows a
// round drew: rows[k] with weight w[k], at theta.
void drawn_rows_gradient(const style_design& d, const std::vector<std::uint32_t>& rows, const std::vector<double>& w,
                         const Eigen::VectorXd& theta, Eigen::VectorXd& g) {
  const auto m = static_cast<Eigen::Index>(d.n_models);
  g.setZero(m + static_cast<Eigen::Index>(nf));
  double beta[nf], gf[nf] = {};
  for (std::size_t k = 0; k < nf; ++k) beta[k] = theta[m + static_cast<Eigen::Index>(k)];
  const double* th = theta.data();
  double* gr = g.data();
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const std::uint32_t i = rows[k];
    const auto& f = d.f[i];
    const double z = ln10 * (th[d.a[i]] - th[d.b[i]]) + beta[0] * f[0] + beta[1] * f[1] + beta[2] * f[2] + beta[3] * f[3];
    const double r = w[k] * (1.0 / (1.0 + std::exp(-z)) - d.y[i]);
    gr[d.a[i]] += ln10 * r;
    gr[d.b[i]] -= ln10 * r;
    for (std::size_t l = 0; l < nf; ++l) gf[l] += r * f[l];
  }
  for (std::size_t l = 0; l < nf; ++l) gr[m + static_cast<Eigen::Index>(l)] = gf[l];
}

// The same at the full fit, from each row's residual and curvature there (no
// exp), with the Hessian of the drawn rows at the fit (lower triangle of the
// feature block and the model × feature block; the caller completes it).
void drawn_rows_gradient_hessian_at_fit(const style_design& d, const std::vector<std::uint32_t>& rows,
                                        const std::vector<double>& w, const std::vector<double>& residual,
                                        const std::vector<double>& curvature, Eigen::VectorXd& g,
                                        Eigen::MatrixXd& h) {
  const auto m = static_cast<Eigen::Index>(d.n_models);
  const auto dim = m + static_cast<Eigen::Index>(nf);
  g.setZero(dim);
  h.setZero(dim, dim);
  double gf[nf] = {}, hf[nf][nf] = {};
  double* gr = g.data();
  constexpr double ln10_2 = ln10 * ln10;
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const std::uint32_t i = rows[k];
    const auto a = d.a[i], b = d.b[i];
    const auto& f = d.f[i];
    const double r = w[k] * residual[i];
    gr[a] += ln10 * r;
    gr[b] -= ln10 * r;
    const double c = w[k] * curvature[i];
    const double aa = ln10_2 * c;
    h(a, a) += aa;
    h(b, b) += aa;
    h(a, b) -= aa;
    h(b, a) -= aa;
    for (std::size_t l = 0; l < nf; ++l) {
      gf[l] += r * f[l];
      const double v = ln10 * c * f[l];
      h(a, m + static_cast<Eigen::Index>(l)) += v;
      h(b, m + static_cast<Eigen::Index>(l)) -= v;
      for (std::size_t q = 0; q <= l; ++q) hf[l][q] += c * f[l] * f[q];
    }
  }
  for (std::size_t l = 0; l < nf; ++l) {
    const auto col = m + static_cast<Eigen::Index>(l);
    gr[col] = gf[l];
    for (std::size_t q = 0; q <= l; ++q) h(col, m + static_cast<Eigen::Index>(q)) = h(m + static_cast<Eigen::Index>(q), col) = hf[l][q];
    for (Eigen::Index a = 0; a < m; ++a) h(col, a) = h(a, col);
  }
}

}  // namespace

Eigen::MatrixXd bootstrap_style(const style_design& d, const style_fit& full, const style_options& options,
                                const bootstrap_options& boot) {
  const auto m = static_cast<Eigen::Index>(d.n_models);
  const auto dim = m + static_cast<Eigen::Index>(nf);
  Eigen::MatrixXd out(boot.rounds, dim);
  Eigen::VectorXd start(dim);
  start << full.r, Eigen::Map<const Eigen::VectorXd>(full.coef.data(), static_cast<Eigen::Index>(nf));
  const std::size_t n_battles = d.row_of_battle.size();
  const double total = static_cast<double>(n_battles);
  std::atomic<std::uint32_t> next{0};
  style_options serial = options;
  serial.threads = 1;  // parallel over rounds instead
  const Eigen::Index penalised_from = options.penalty == style_penalty::all ? 0 : m;
  // Full-data Hessian (objective / N), factorised once and shared read-only.
  struct {
    Eigen::LLT<Eigen::MatrixXd> llt;
    bool usable = false;
  } h0;
  {
    partial ev;
    std::vector<partial> scratch;
    evaluate(d, d.weight, total, start, options, options.threads, ev, scratch);
    // The coefficients-only penalty leaves r's gauge free: the same rank-one
    // fix as in fit_style (single component assumed; otherwise Newton).
    if (options.penalty == style_penalty::coefficients) ev.h.topLeftCorner(m, m).array() += ev.h.diagonal().head(m).maxCoeff();
    h0.llt.compute(ev.h);
    h0.usable = h0.llt.info() == Eigen::Success;
  }
  // Each row's residual σ(z) − y and curvature σ(1 − σ) at the full fit: a
  // round's first Newton step needs only these, so it costs no exp.
  std::vector<double> residual(d.size()), curvature(d.size());
  for (std::size_t i = 0; i < d.size(); ++i) {
    double z = ln10 * (start[d.a[i]] - start[d.b[i]]);
    for (std::size_t k = 0; k < nf; ++k) z += full.coef[k] * d.f[i][k];
    const double p = 1.0 / (1.0 + std::exp(-z));
    residual[i] = p - d.y[i];
    curvature[i] = p * (1 - p);
  }
  // Resampling N battles with replacement draws multinomial(N; count / N)
  // battles per unique row; with battle weights the draw stays per battle.
  const bool per_battle = !d.battle_weight.empty();
  std::optional<multinomial_sampler> rows_sampler;
  if (!per_battle) rows_sampler.emplace(d.count);
  // A round stops when its chord step moves no coordinate by more than this
  // (log10 units: 4e-5 rating points), far below the quantiles' own noise.
  constexpr double step_tolerance = 2.5e-5;
  auto work = [&] {
    std::vector<double> w_all(d.size()), w;
    std::vector<std::uint32_t> rows;
    Eigen::VectorXd g(dim), step(dim);
    Eigen::MatrixXd h(dim, dim);
    Eigen::LLT<Eigen::MatrixXd> llt(dim);
    for (;;) {
      const std::uint32_t round = next.fetch_add(1);
      if (round >= boot.rounds) return;
      rng gen(boot.seed, round);
      if (per_battle) {
        std::fill(w_all.begin(), w_all.end(), 0.0);
        for (std::size_t k = 0; k < n_battles; ++k) {
          const auto drawn = gen.below(n_battles);
          w_all[d.row_of_battle[drawn]] += d.battle_weight[drawn];
        }
      } else {
        rows_sampler->draw(gen, w_all);
      }
      // The drawn rows, compacted without a branch (a third are not drawn, at random).
      rows.resize(d.size());
      w.resize(d.size());
      std::size_t drawn = 0;
      for (std::size_t i = 0; i < d.size(); ++i) {
        rows[drawn] = static_cast<std::uint32_t>(i);
        w[drawn] = w_all[i];
        drawn += w_all[i] > 0;
      }
      rows.resize(drawn);
      w.resize(drawn);
      // A Newton step from the full fit with the drawn rows' own Hessian there
      // (from the residuals and curvatures: no exp), then chord iterations
      // θ ← θ − H⁻¹∇ with that factorisation (H₀'s when it fails), one gradient
      // pass each; Newton from scratch if they stall.
      Eigen::VectorXd theta = start;
      bool done = false;
      drawn_rows_gradient_hessian_at_fit(d, rows, w, residual, curvature, g, h);
      for (Eigen::Index k = penalised_from; k < dim; ++k) h(k, k) += 2 * serial.lambda;
      if (options.penalty == style_penalty::coefficients) h.topLeftCorner(m, m).array() += h.diagonal().head(m).maxCoeff();
      h /= total;
      llt.compute(h);
      const auto& factor = llt.info() == Eigen::Success ? llt : h0.llt;
      if (llt.info() == Eigen::Success || h0.usable) {
        double last = std::numeric_limits<double>::infinity();
        for (int it = 0; it < serial.max_iterations; ++it) {
          if (it > 0) drawn_rows_gradient(d, rows, w, theta, g);
          for (Eigen::Index k = penalised_from; k < dim; ++k) g[k] += 2 * serial.lambda * theta[k];
          g /= total;
          const double gn = g.norm();
          if (gn < serial.tolerance) {
            done = true;
            break;
          }
          if (gn > 0.7 * last) break;
          last = gn;
          step = factor.solve(g);
          theta -= step;
          if (step.cwiseAbs().maxCoeff() < step_tolerance) {
            done = true;
            break;
          }
        }
      }
      if (!done) {
        const style_fit f = fit_style(d, w_all, serial, &theta);
        theta.head(m) = f.r;
        for (std::size_t k = 0; k < nf; ++k) theta[m + static_cast<Eigen::Index>(k)] = f.coef[k];
      } else if (options.penalty == style_penalty::coefficients) {
        theta.head(m).array() -= theta.head(m).mean();
      }
      out.row(round) = theta.transpose();
    }
  };
  const unsigned n_threads = worker_count(boot.threads, boot.rounds);
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < n_threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  return out;
}

Eigen::MatrixXd style_sandwich(const style_design& d, const style_fit& fit, const style_options& o) {
  const auto m = static_cast<Eigen::Index>(d.n_models);
  const auto dim = m + static_cast<Eigen::Index>(nf);
  Eigen::VectorXd theta(dim);
  theta << fit.r, Eigen::Map<const Eigen::VectorXd>(fit.coef.data(), static_cast<Eigen::Index>(nf));
  double total = 0;
  for (double c : d.weight) total += c;
  partial ev;
  std::vector<partial> scratch;
  evaluate(d, d.weight, total, theta, o, o.threads, ev, scratch);
  Eigen::MatrixXd h = ev.h * total;
  // G = Σ_rows count · (σ − y)² x xᵀ with x = (ln10 e_a − ln10 e_b, f).
  Eigen::MatrixXd g = Eigen::MatrixXd::Zero(dim, dim);
  Eigen::VectorXd x = Eigen::VectorXd::Zero(dim);
  for (std::size_t i = 0; i < d.size(); ++i) {
    double z = ln10 * (theta[d.a[i]] - theta[d.b[i]]);
    for (std::size_t k = 0; k < nf; ++k) z += fit.coef[k] * d.f[i][k];
    const double sig = 1.0 / (1.0 + std::exp(-z));
    // Σ over the row's battles of w_k²: count · (mean weight)² (exact when they share one weight).
    const double v = d.weight[i] * d.weight[i] / d.count[i] * (sig - d.y[i]) * (sig - d.y[i]);
    x.setZero();
    x[d.a[i]] = ln10;
    x[d.b[i]] = -ln10;
    for (std::size_t k = 0; k < nf; ++k) x[m + static_cast<Eigen::Index>(k)] = d.f[i][k];
    // Only 6 entries are non-zero: update those.
    const Eigen::Index idx[6] = {d.a[i], d.b[i], m, m + 1, m + 2, m + 3};
    for (auto p : idx)
      for (auto q : idx) g(p, q) += v * x[p] * x[q];
  }
  if (o.penalty == style_penalty::coefficients) {
    const double c = std::max(h.diagonal().head(m).maxCoeff(), 1e-12);
    h.topLeftCorner(m, m).array() += c;
  }
  const Eigen::MatrixXd a = h.ldlt().solve(Eigen::MatrixXd::Identity(dim, dim));
  return a * g * a;
}

}  // namespace huashan::ranking
