#include "ranking/robustness.hpp"

#include <algorithm>
#include <cmath>

#include <Eigen/Cholesky>

namespace huashan::ranking {

std::optional<std::uint64_t> votes_to_swap(const pair_counts& pc, const bt_fit& fit, std::uint32_t upper,
                                           std::uint32_t lower, const bt_options& options, std::uint64_t cap) {
  if (fit.component[upper] != fit.component[lower]) return std::nullopt;
  if (fit.r[lower] >= fit.r[upper]) return 0;
  const auto m = static_cast<Eigen::Index>(pc.n_models);
  // Total-NLL Hessian (Laplacian) with the gauge term; its inverse A gives the
  // first-order response Δr = A · ln10 (1 − σ_wl)(e_w − e_l) to one vote w > l.
  Eigen::MatrixXd h = Eigen::MatrixXd::Zero(m, m);
  for (std::size_t p = 0; p < pc.n_pairs(); ++p) {
    const auto a = pc.i[p], b = pc.j[p];
    const double sig = win_probability(fit, a, b);
    const double v = ln10 * ln10 * pc.n(p) * sig * (1 - sig);
    h(a, a) += v, h(b, b) += v, h(a, b) -= v, h(b, a) -= v;
  }
  h.array() += std::max(h.diagonal().maxCoeff(), 1e-12);
  const Eigen::MatrixXd inv = h.ldlt().solve(Eigen::MatrixXd::Identity(m, m));
  // Effect of one vote w > l on the gap r_lower − r_upper (we want it to rise).
  auto effect = [&](std::uint32_t w, std::uint32_t l) {
    const double push = ln10 * (1 - win_probability(fit, w, l));
    return push * ((inv(lower, w) - inv(lower, l)) - (inv(upper, w) - inv(upper, l)));
  };
  std::uint32_t best_w = lower, best_l = upper;
  double best = effect(lower, upper);
  for (std::uint32_t x = 0; x < pc.n_models; ++x) {
    if (x == upper || x == lower || fit.component[x] != fit.component[upper]) continue;
    if (const double e = effect(lower, x); e > best) best = e, best_w = lower, best_l = x;
    if (const double e = effect(x, upper); e > best) best = e, best_w = x, best_l = upper;
  }
  auto swapped_after = [&](std::uint64_t k) {
    const bt_fit f = fit_bradley_terry(with_added_votes(pc, best_w, best_l, static_cast<double>(k)), options, &fit.r);
    return f.r[lower] >= f.r[upper];
  };
  // Bracket by doubling from the first-order estimate, then bisect.
  const double gap = fit.r[upper] - fit.r[lower];
  std::uint64_t hi = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(gap / std::max(best, 1e-12))));
  hi = std::min(hi, cap);
  std::uint64_t lo = 0;
  while (!swapped_after(hi)) {
    if (hi >= cap) return std::nullopt;
    lo = hi;
    hi = std::min(cap, hi * 2);
  }
  while (hi - lo > 1) {
    const std::uint64_t mid = lo + (hi - lo) / 2;
    (swapped_after(mid) ? hi : lo) = mid;
  }
  return hi;
}

}  // namespace huashan::ranking
