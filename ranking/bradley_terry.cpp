#include "ranking/bradley_terry.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <Eigen/Cholesky>

#include "ranking/vector_clones.hpp"

namespace huashan::ranking {

namespace {

// Weighted battles n and scores s per pair, their per-model totals (a model's
// score counts its wins and half its ties), and all battles: what the fit and
// the existence screen both start from.
struct pair_sums {
  std::vector<double> n, s, model_n, model_s;
  double total = 0;
};

// n_p and s_p of pairs without per-cell battle weights (vector code).
HUASHAN_VECTOR_CLONES
void pair_totals(std::size_t n_pairs, const std::array<double, n_cells>* count, const double* weight, double* n,
                 double* s) {
  for (std::size_t p = 0; p < n_pairs; ++p) {
    const auto& c = count[p];
    n[p] = weight[p] * (((c[0] + c[1]) + c[2]) + c[3]);
    s[p] = weight[p] * (c[0] + 0.5 * (c[2] + c[3]));
  }
}

// Fills `out` (its buffers reused: a bootstrap round calls this per refit).
void sum_pairs(const pair_counts& pc, pair_sums& out) {
  const std::size_t n_pairs = pc.n_pairs();
  out.n.resize(n_pairs);
  out.s.resize(n_pairs);
  out.model_n.assign(pc.n_models, 0.0);
  out.model_s.assign(pc.n_models, 0.0);
  if (pc.cell_weight.empty()) {
    pair_totals(n_pairs, pc.count.data(), pc.weight.data(), out.n.data(), out.s.data());
  } else {
    for (std::size_t p = 0; p < n_pairs; ++p) {
      out.n[p] = pc.n(p);
      out.s[p] = pc.s(p);
    }
  }
  // Per model: its runs as i (pairs come sorted by i) summed in registers, its
  // places as j scattered; the total in four partial sums (independent chains).
  double total[4] = {0, 0, 0, 0};
  std::size_t p = 0;
  while (p < n_pairs) {
    const std::uint32_t a = pc.i[p];
    double run_n = 0, run_s = 0;
    std::size_t q = p;
    for (; q < n_pairs && pc.i[q] == a; ++q) {
      const double nq = out.n[q], sq = out.s[q];
      total[q & 3] += nq;
      run_n += nq;
      run_s += sq;
      out.model_n[pc.j[q]] += nq;
      out.model_s[pc.j[q]] += nq - sq;
    }
    out.model_n[a] += run_n;
    out.model_s[a] += run_s;
    p = q;
  }
  out.total = (total[0] + total[1]) + (total[2] + total[3]);
}

pair_sums sum_pairs(const pair_counts& pc) {
  pair_sums out;
  sum_pairs(pc, out);
  return out;
}

// log(1 + e^x) without overflow.
inline double softplus(double x) { return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x))); }

// Kosaraju's SCC count of the digraph "i won or tied against j" (iterative).
std::size_t count_strong_components(const pair_counts& pc) {
  const std::size_t m = pc.n_models;
  std::vector<std::uint32_t> fwd_begin(m + 1, 0), rev_begin(m + 1, 0);
  std::vector<std::pair<std::uint32_t, std::uint32_t>> edges;
  edges.reserve(2 * pc.n_pairs());
  for (std::size_t p = 0; p < pc.n_pairs(); ++p) {
    const double n = pc.battles(p);
    if (n <= 0) continue;
    const auto& c = pc.count[p];
    const double s_i = c[0] + 0.5 * (c[2] + c[3]);
    if (s_i > 0) edges.emplace_back(pc.i[p], pc.j[p]);
    if (n - s_i > 0) edges.emplace_back(pc.j[p], pc.i[p]);
  }
  for (auto [a, b] : edges) {
    ++fwd_begin[a + 1];
    ++rev_begin[b + 1];
  }
  for (std::size_t k = 0; k < m; ++k) {
    fwd_begin[k + 1] += fwd_begin[k];
    rev_begin[k + 1] += rev_begin[k];
  }
  std::vector<std::uint32_t> fwd(edges.size()), rev(edges.size());
  {
    auto f = fwd_begin, r = rev_begin;
    for (auto [a, b] : edges) {
      fwd[f[a]++] = b;
      rev[r[b]++] = a;
    }
  }
  // Pass 1: finish order on the forward graph.
  std::vector<std::uint8_t> seen(m, 0);
  std::vector<std::uint32_t> order;
  order.reserve(m);
  std::vector<std::pair<std::uint32_t, std::uint32_t>> stack;
  for (std::uint32_t s = 0; s < m; ++s) {
    if (seen[s]) continue;
    seen[s] = 1;
    stack.emplace_back(s, fwd_begin[s]);
    while (!stack.empty()) {
      auto& [v, e] = stack.back();
      if (e < fwd_begin[v + 1]) {
        const auto w = fwd[e++];
        if (!seen[w]) {
          seen[w] = 1;
          stack.emplace_back(w, fwd_begin[w]);
        }
      } else {
        order.push_back(v);
        stack.pop_back();
      }
    }
  }
  // Pass 2: reverse graph in decreasing finish time.
  std::fill(seen.begin(), seen.end(), 0);
  std::size_t n_scc = 0;
  std::vector<std::uint32_t> todo;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    if (seen[*it]) continue;
    ++n_scc;
    seen[*it] = 1;
    todo.push_back(*it);
    while (!todo.empty()) {
      const auto v = todo.back();
      todo.pop_back();
      for (auto e = rev_begin[v]; e < rev_begin[v + 1]; ++e)
        if (!seen[rev[e]]) {
          seen[rev[e]] = 1;
          todo.push_back(rev[e]);
        }
    }
  }
  return n_scc;
}

// term[p] = c (s_p − n_p π_i / (π_i + π_j)) for every pair: strengths
// gathered, nothing accumulated, so it runs as vector code.
HUASHAN_VECTOR_CLONES
void pair_gradient_terms(std::size_t n_pairs, const std::uint32_t* i, const std::uint32_t* j, const double* pi,
                         const double* n, const double* s, double c, double* term) {
  for (std::size_t p = 0; p < n_pairs; ++p) {
    const double pa = pi[i[p]], pb = pi[j[p]];
    term[p] = c * (s[p] - n[p] * (pa / (pa + pb)));
  }
}

// term[p] = c (s_p − n_p σ_p).
HUASHAN_VECTOR_CLONES
void pair_gradient_terms_at(std::size_t n_pairs, const double* sigma, const double* n, const double* s, double c,
                            double* term) {
  for (std::size_t p = 0; p < n_pairs; ++p) term[p] = c * (s[p] - n[p] * sigma[p]);
}

// g_i += term, g_j −= term over the pairs. Pairs come sorted by i, so model
// i's share is summed in registers along its run (four partial sums: a
// single running sum would be one long chain of dependent additions).
void scatter_pair_terms(const pair_counts& pc, const double* term, Eigen::VectorXd& g) {
  const std::size_t n_pairs = pc.n_pairs();
  const std::uint32_t* const i = pc.i.data();
  const std::uint32_t* const j = pc.j.data();
  double* const out = g.data();
  std::size_t p = 0;
  while (p < n_pairs) {
    const std::uint32_t a = i[p];
    double acc[4] = {0, 0, 0, 0};
    std::size_t q = p;
    for (; q < n_pairs && i[q] == a; ++q) {
      acc[q & 3] += term[q];
      out[j[q]] -= term[q];
    }
    out[a] += (acc[0] + acc[1]) + (acc[2] + acc[3]);
    p = q;
  }
}

// Objective pieces at r, all divided by `scale` (the total weighted battles).
struct evaluation {
  double nll = 0;
  Eigen::VectorXd g;
  Eigen::MatrixXd h;
};

void evaluate(const pair_counts& pc, const std::vector<double>& n, const std::vector<double>& s,
              const Eigen::VectorXd& r, double prior, double scale, bool want_hessian, evaluation& ev,
              bool want_nll = true) {
  const std::size_t m = pc.n_models;
  ev.g.setZero(static_cast<Eigen::Index>(m));
  if (want_hessian) ev.h.setZero(static_cast<Eigen::Index>(m), static_cast<Eigen::Index>(m));
  double nll = 0;
  const double inv = 1.0 / scale;
  // Strengths π_k = 10^(r_k − max r) ∈ (0, 1]: σ(d_ab) = π_a / (π_a + π_b) and
  // log σ = ln10 (r_a − max r) − log(π_a + π_b), one log and one division per
  // pair instead of an exp and a log1p. Ratings more than ~300 log10 units
  // apart (impossible with finite data) would underflow π; the fit then falls
  // back to the per-pair exp form.
  const double top = r.size() > 0 ? r.maxCoeff() : 0.0;
  thread_local std::vector<double> pi, lr;
  pi.resize(m);
  lr.resize(m);
  bool underflow = false;
  for (std::size_t k = 0; k < m; ++k) {
    lr[k] = ln10 * (r[static_cast<Eigen::Index>(k)] - top);
    pi[k] = std::exp(lr[k]);
    underflow |= pi[k] < 1e-280;
  }
  if (!underflow && !want_nll && !want_hessian && prior <= 0) {  // a chord step's gradient only
    thread_local std::vector<double> term;
    term.resize(pc.n_pairs());
    pair_gradient_terms(pc.n_pairs(), pc.i.data(), pc.j.data(), pi.data(), n.data(), s.data(), -ln10 * inv,
                        term.data());
    scatter_pair_terms(pc, term.data(), ev.g);
    ev.nll = 0;
    return;
  }
  for (std::size_t p = 0; p < pc.n_pairs(); ++p) {
    if (n[p] <= 0) continue;
    const auto a = pc.i[p], b = pc.j[p];
    double sig, log_sig, log_1msig;
    if (!underflow) {
      const double sum = pi[a] + pi[b];
      sig = pi[a] / sum;
      const double log_sum = std::log(sum);
      log_sig = lr[a] - log_sum;
      log_1msig = lr[b] - log_sum;
    } else {
      const double d = ln10 * (r[a] - r[b]);
      const double e = std::exp(-std::abs(d));
      sig = d >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
      const double l1p = std::log1p(e);
      log_sig = -(std::max(-d, 0.0) + l1p);
      log_1msig = -(std::max(d, 0.0) + l1p);
    }
    // −[s log σ(d) + (n − s) log σ(−d)]
    nll -= s[p] * log_sig + (n[p] - s[p]) * log_1msig;
    const double gd = -ln10 * (s[p] - n[p] * sig) * inv;  // ∂/∂r_a; ∂/∂r_b = −gd
    ev.g[a] += gd;
    ev.g[b] -= gd;
    if (want_hessian) {
      const double hd = ln10 * ln10 * n[p] * sig * (1.0 - sig) * inv;
      ev.h(a, a) += hd;
      ev.h(b, b) += hd;
      ev.h(a, b) -= hd;
      ev.h(b, a) -= hd;
    }
  }
  if (prior > 0) {
    for (std::size_t k = 0; k < m; ++k) {
      const double d = ln10 * r[static_cast<Eigen::Index>(k)];
      const double sig = 1.0 / (1.0 + std::exp(-d));
      nll += prior * 0.5 * (softplus(-d) + softplus(d));
      ev.g[static_cast<Eigen::Index>(k)] += ln10 * prior * (sig - 0.5) * inv;
      if (want_hessian) ev.h(static_cast<Eigen::Index>(k), static_cast<Eigen::Index>(k)) += ln10 * ln10 * prior * sig * (1 - sig) * inv;
    }
  }
  ev.nll = nll * inv;
}

// The gradient of NLL / scale at the point where pair p's σ is sigma[p]
// (evaluate's g without strengths: no exp, no division).
void gradient_at_fit(const pair_counts& pc, const std::vector<double>& n, const std::vector<double>& s,
                     const std::vector<double>& sigma, double scale, Eigen::VectorXd& g) {
  g.setZero(static_cast<Eigen::Index>(pc.n_models));
  thread_local std::vector<double> term;
  term.resize(pc.n_pairs());
  pair_gradient_terms_at(pc.n_pairs(), sigma.data(), n.data(), s.data(), -ln10 / scale, term.data());
  scatter_pair_terms(pc, term.data(), g);
}

// Adds c·Σ_k u_k u_kᵀ (u_k = indicator of component k) to h.
void add_gauge(Eigen::MatrixXd& h, const std::vector<std::uint32_t>& comp, std::size_t n_comp) {
  const double c = std::max(h.diagonal().maxCoeff(), 1e-12);
  if (n_comp == 1) {
    h.array() += c;
    return;
  }
  const auto m = static_cast<Eigen::Index>(comp.size());
  for (Eigen::Index a = 0; a < m; ++a)
    for (Eigen::Index b = 0; b < m; ++b)
      if (comp[a] == comp[b]) h(a, b) += c;
}

void center_components(Eigen::VectorXd& r, const std::vector<std::uint32_t>& comp, std::size_t n_comp) {
  std::vector<double> sum(n_comp, 0.0), cnt(n_comp, 0.0);
  for (Eigen::Index k = 0; k < r.size(); ++k) {
    sum[comp[k]] += r[k];
    cnt[comp[k]] += 1;
  }
  for (Eigen::Index k = 0; k < r.size(); ++k) r[k] -= sum[comp[k]] / cnt[comp[k]];
}

}  // namespace

bool mle_exists(const pair_counts& pc) {
  std::size_t n_comp = 0;
  components(pc, n_comp);
  return count_strong_components(pc) == n_comp;
}

bt_fit fit_bradley_terry(const pair_counts& pc, const bt_options& options, const Eigen::VectorXd* start) {
  const std::size_t m = pc.n_models;
  const auto mi = static_cast<Eigen::Index>(m);
  bt_fit fit;
  fit.component = components(pc, fit.n_components);
  const pair_sums sums = sum_pairs(pc);
  const auto& [n, s, model_n, model_s, total] = sums;
  for (std::size_t k = 0; k < m; ++k) {
    if (model_n[k] <= 0) continue;
    if (model_s[k] <= 0) fit.never_won.push_back(static_cast<std::uint32_t>(k));
    if (model_s[k] >= model_n[k]) fit.never_lost.push_back(static_cast<std::uint32_t>(k));
  }
  fit.r = start != nullptr ? *start : Eigen::VectorXd::Zero(mi);
  if (total <= 0) {
    fit.r.setZero(mi);
    fit.converged = true;
    return fit;
  }
  fit.prior_used = count_strong_components(pc) != fit.n_components;
  const double prior = fit.prior_used ? options.prior_ties : 0.0;

  evaluation cur, trial;
  evaluate(pc, n, s, fit.r, prior, total, true, cur);
  Eigen::MatrixXd system;
  for (fit.iterations = 0; fit.iterations < options.max_iterations; ++fit.iterations) {
    fit.gradient_norm = cur.g.norm();
    if (fit.gradient_norm < options.tolerance) {
      fit.converged = true;
      break;
    }
    system = cur.h;
    if (prior <= 0) add_gauge(system, fit.component, fit.n_components);
    Eigen::LLT<Eigen::MatrixXd> llt(system);
    Eigen::VectorXd step;
    if (llt.info() == Eigen::Success) {
      step = -llt.solve(cur.g);
    } else {
      step = -system.ldlt().solve(cur.g);
    }
    const double slope = cur.g.dot(step);
    double t = 1.0;
    Eigen::VectorXd next;
    for (int halvings = 0;; ++halvings) {
      next = fit.r + t * step;
      evaluate(pc, n, s, next, prior, total, true, trial);
      // Armijo on the objective; near the optimum its change drowns in rounding
      // (~1e-14 relative over many pairs), so a smaller gradient also accepts.
      const bool sufficient = trial.nll <= cur.nll + 1e-4 * t * slope + 1e-13 * std::abs(cur.nll) ||
                              trial.g.norm() < 0.5 * cur.g.norm();
      if (sufficient || halvings >= 40) break;
      t *= 0.5;
    }
    fit.r = std::move(next);
    std::swap(cur, trial);
  }
  fit.gradient_norm = cur.g.norm();
  fit.converged = fit.converged || fit.gradient_norm < options.tolerance;
  fit.neg_log_likelihood = cur.nll;
  center_components(fit.r, fit.component, fit.n_components);
  return fit;
}

bt_hessian factor_hessian(const pair_counts& pc, const bt_fit& fit) {
  bt_hessian h;
  if (fit.prior_used || fit.n_components != 1) return h;
  std::vector<double> n(pc.n_pairs()), s(pc.n_pairs());
  double total = 0;
  for (std::size_t p = 0; p < pc.n_pairs(); ++p) {
    n[p] = pc.n(p);
    s[p] = pc.s(p);
    total += n[p];
  }
  if (total <= 0) return h;
  evaluation ev;
  evaluate(pc, n, s, fit.r, 0.0, total, true, ev);
  add_gauge(ev.h, fit.component, fit.n_components);
  h.llt.compute(ev.h);
  h.usable = h.llt.info() == Eigen::Success;
  h.at = fit.r;
  h.sigma.resize(pc.n_pairs());
  for (std::size_t p = 0; p < pc.n_pairs(); ++p)
    h.sigma[p] = win_probability(fit, pc.i[p], pc.j[p]);
  return h;
}

bt_fit refit_bradley_terry(const pair_counts& pc, const bt_fit& near, const bt_hessian& h, const bt_options& options) {
  if (!h.usable) return fit_bradley_terry(pc, options, &near.r);
  const std::size_t m = pc.n_models;
  // Cheap existence screen: every model must have won and lost something
  // (the full check runs in fit_bradley_terry when this fails).
  thread_local pair_sums sums;
  sum_pairs(pc, sums);
  const auto& [n, s, model_n, model_s, total] = sums;
  for (std::size_t k = 0; k < m; ++k)
    if (model_n[k] <= 0 || model_s[k] <= 0 || model_s[k] >= model_n[k]) return fit_bradley_terry(pc, options, &near.r);
  // No Kosaraju check here: if the chord reaches a point with ‖∇‖ < tolerance,
  // a finite stationary point of the convex NLL exists, i.e. the MLE does;
  // when it does not, the iterations diverge, stall and fall back to Newton,
  // which runs the full check and applies the prior.
  bt_fit fit;
  fit.component = near.component;
  fit.n_components = near.n_components;
  fit.r = near.r;
  evaluation ev;
  double last = std::numeric_limits<double>::infinity();
  for (fit.iterations = 0; fit.iterations < options.max_iterations; ++fit.iterations) {
    if (fit.iterations == 0 && h.sigma.size() == pc.n_pairs() && h.at.size() == fit.r.size() && h.at == fit.r) {
      gradient_at_fit(pc, n, s, h.sigma, total, ev.g);
    } else {
      evaluate(pc, n, s, fit.r, 0.0, total, false, ev, false);
    }
    fit.gradient_norm = ev.g.norm();
    if (fit.gradient_norm < options.tolerance) {
      fit.converged = true;
      if (options.final_likelihood) evaluate(pc, n, s, fit.r, 0.0, total, false, ev);  // the likelihood, once, at the answer
      break;
    }
    if (fit.gradient_norm > 0.7 * last) return fit_bradley_terry(pc, options, &fit.r);  // stalled: Newton
    last = fit.gradient_norm;
    const Eigen::VectorXd step = h.llt.solve(ev.g);
    fit.r -= step;
    if (step.cwiseAbs().maxCoeff() < options.step_tolerance) {
      fit.converged = true;
      if (options.final_likelihood) {
        evaluate(pc, n, s, fit.r, 0.0, total, false, ev);
        fit.gradient_norm = ev.g.norm();
      }
      ++fit.iterations;
      break;
    }
  }
  fit.neg_log_likelihood = ev.nll;
  center_components(fit.r, fit.component, fit.n_components);
  return fit;
}

Eigen::MatrixXd sandwich_covariance(const pair_counts& pc, const bt_fit& fit, const bt_options& options) {
  const std::size_t m = pc.n_models;
  const auto mi = static_cast<Eigen::Index>(m);
  Eigen::MatrixXd h = Eigen::MatrixXd::Zero(mi, mi), g = Eigen::MatrixXd::Zero(mi, mi);
  // Per battle of pair p with score y (1, 0, ½): score vector α(y − σ)(e_i − e_j).
  static constexpr double y[n_cells] = {1.0, 0.0, 0.5, 0.5};
  for (std::size_t p = 0; p < pc.n_pairs(); ++p) {
    const auto a = pc.i[p], b = pc.j[p];
    const double sig = 1.0 / (1.0 + std::exp(-ln10 * (fit.r[a] - fit.r[b])));
    const double w = pc.weight[p];
    double v = 0;
    for (std::size_t c = 0; c < n_cells; ++c) {
      const double cw = pc.cell_weight.empty() ? 1.0 : pc.cell_weight[p][c];  // battle weight (cell mean)
      v += pc.count[p][c] * cw * cw * (y[c] - sig) * (y[c] - sig);
    }
    v *= ln10 * ln10 * w * w;
    const double hd = ln10 * ln10 * pc.n(p) * sig * (1 - sig);
    for (auto [mat, val] : {std::pair{&h, hd}, std::pair{&g, v}}) {
      (*mat)(a, a) += val;
      (*mat)(b, b) += val;
      (*mat)(a, b) -= val;
      (*mat)(b, a) -= val;
    }
  }
  if (fit.prior_used) {
    for (Eigen::Index k = 0; k < mi; ++k) {
      const double sig = 1.0 / (1.0 + std::exp(-ln10 * fit.r[k]));
      h(k, k) += ln10 * ln10 * options.prior_ties * sig * (1 - sig);
    }
  } else {
    // (H + c Σ u uᵀ)⁻¹ = H⁺ + Σ (1 / (c |u|²)) u uᵀ/|u|², and G u = 0, so A G A = H⁺ G H⁺.
    add_gauge(h, fit.component, fit.n_components);
  }
  const Eigen::MatrixXd a = h.ldlt().solve(Eigen::MatrixXd::Identity(mi, mi));
  return a * g * a;
}

double win_probability(const bt_fit& fit, std::uint32_t i, std::uint32_t j) {
  return 1.0 / (1.0 + std::exp(-ln10 * (fit.r[i] - fit.r[j])));
}

}  // namespace huashan::ranking
