#include "ranking/bootstrap.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <thread>

#include <fmt/format.h>

#include "common/error.hpp"

namespace huashan::ranking {

unsigned worker_count(unsigned requested, std::size_t jobs) {
  unsigned t = requested != 0 ? requested : std::max(1u, std::thread::hardware_concurrency());
  return static_cast<unsigned>(std::max<std::size_t>(1, std::min<std::size_t>(t, jobs)));
}

void draw_multinomial(rng& g, const std::vector<double>& counts, double total, std::vector<double>& out) {
  out.assign(counts.size(), 0.0);
  auto left = static_cast<std::int64_t>(std::llround(total));
  double mass = total;
  for (std::size_t k = 0; k + 1 < counts.size() && left > 0; ++k) {
    if (counts[k] <= 0) continue;
    const double p = mass > counts[k] ? counts[k] / mass : 1.0;
    const auto x = binomial(g, left, p);
    out[k] = static_cast<double>(x);
    left -= x;
    mass -= counts[k];
  }
  if (!counts.empty() && left > 0) out.back() += static_cast<double>(left);
}

multinomial_sampler::multinomial_sampler(const std::vector<double>& counts) {
  double n = 0;
  for (double c : counts) n += c;
  total_ = static_cast<std::uint64_t>(std::llround(n));
  const double theta = total_ > 0 ? std::max(0.0, 1.0 - 3.0 / std::sqrt(static_cast<double>(total_))) : 0.0;
  cells_.resize(counts.size());
  for (std::size_t k = 0; k < counts.size(); ++k) {
    auto& c = cells_[k];
    c.lambda = theta * counts[k];
    if (c.lambda <= 0) continue;
    c.inv_lambda = 1.0 / c.lambda;
    c.mode = static_cast<std::uint32_t>(std::floor(c.lambda));
    const double m = c.mode;
    c.f_mode = std::exp(m * std::log(c.lambda) - c.lambda - std::lgamma(m + 1));
    // P(X ≤ mode) = Σ_{j ≤ mode} pmf(j), summed downward until the terms vanish.
    double f = c.f_mode, sum = f;
    for (double j = m; j > 0 && f > 1e-20 * sum; j -= 1) {
      f *= j / c.lambda;
      sum += f;
    }
    c.F_mode = std::min(sum, 1.0);
  }
  // Vose's alias table over counts / N.
  const std::size_t k_cells = counts.size();
  alias_prob_.assign(k_cells, 0.0);
  alias_.assign(k_cells, 0);
  if (total_ == 0) return;
  std::vector<double> scaled(k_cells);
  std::vector<std::uint32_t> small, large;
  for (std::size_t k = 0; k < k_cells; ++k) {
    scaled[k] = counts[k] * static_cast<double>(k_cells) / n;
    (scaled[k] < 1.0 ? small : large).push_back(static_cast<std::uint32_t>(k));
  }
  while (!small.empty() && !large.empty()) {
    const auto s = small.back(), l = large.back();
    small.pop_back();
    alias_prob_[s] = scaled[s];
    alias_[s] = l;
    scaled[l] -= 1.0 - scaled[s];
    if (scaled[l] < 1.0) {
      large.pop_back();
      small.push_back(l);
    }
  }
  for (auto k : large) alias_prob_[k] = 1.0;
  for (auto k : small) alias_prob_[k] = 1.0;  // rounding leftovers
  // Cells holding a small count share one Poisson(θ c) CDF table per c: a
  // style design has a cell per battle, nearly all with count 1, and reading
  // one byte per cell instead of its 40-byte record halves a round's draw.
  small_count_.assign(k_cells, generic_cell);
  std::vector<std::vector<double>> tables(max_small_count + 1);
  for (std::size_t k = 0; k < k_cells; ++k) {
    const double c = counts[k];
    if (c <= 0) {
      small_count_[k] = empty_cell;
      continue;
    }
    if (c > max_small_count || c != std::floor(c)) continue;
    const auto ci = static_cast<std::size_t>(c);
    small_count_[k] = static_cast<std::uint8_t>(ci);
    auto& cdf = tables[ci];
    if (!cdf.empty()) continue;
    const double lambda = theta * c;
    double f = std::exp(-lambda), F = f;
    for (double j = 1; F < 1.0 - 1e-17 && f > 1e-300; j += 1) {
      cdf.push_back(F);
      f *= lambda / j;
      F += f;
    }
    // +inf ends every search; the padding keeps the branch-free part in bounds.
    cdf.resize(std::max(cdf.size(), small_cdf_unrolled), std::numeric_limits<double>::infinity());
    cdf.push_back(std::numeric_limits<double>::infinity());
  }
  // One flat array (a cell then finds its table without a second indirection).
  small_cdf_offset_.assign(max_small_count + 1, 0);
  small_cdf_.clear();
  for (std::size_t c = 1; c <= max_small_count; ++c) {
    small_cdf_offset_[c] = small_cdf_.size();
    small_cdf_.insert(small_cdf_.end(), tables[c].begin(), tables[c].end());
  }
}

std::uint64_t multinomial_sampler::poisson(rng& g, const poisson_cell& c) const {
  const double u = g.uniform();
  double f = c.f_mode, F = c.F_mode;
  std::uint64_t k = c.mode;
  if (u < F) {
    // Smallest k with P(X ≤ k) > u, walking down: P(X ≤ k − 1) = F − f.
    while (k > 0 && F - f > u) {
      F -= f;
      f *= static_cast<double>(k) * c.inv_lambda;
      --k;
    }
    return k;
  }
  while (F <= u) {
    ++k;
    f *= c.lambda / static_cast<double>(k);
    F += f;
    if (f < 1e-300) break;  // u within rounding of 1
  }
  return k;
}

void multinomial_sampler::draw(rng& g, std::vector<double>& out) const {
  out.assign(cells_.size(), 0.0);
  if (total_ == 0) return;
  std::uint64_t s = 0;
  do {
    s = 0;
    for (std::size_t k = 0; k < cells_.size(); ++k) {
      std::uint64_t x = 0;
      const std::uint8_t kind = small_count_[k];
      if (kind == empty_cell) continue;
      if (kind != generic_cell) {
        const double u = g.uniform();
        const double* cdf = small_cdf_.data() + small_cdf_offset_[kind];
        // Branch-free over the first entries (a search's branches mispredict
        // at random); the tail beyond them is rare.
        for (std::size_t j = 0; j < small_cdf_unrolled; ++j) x += u >= cdf[j];
        while (u >= cdf[x]) ++x;
      } else {
        x = poisson(g, cells_[k]);
      }
      out[k] = static_cast<double>(x);
      s += x;
    }
  } while (s > total_);
  const auto k_cells = static_cast<std::uint64_t>(cells_.size());
  for (std::uint64_t r = s; r < total_; ++r) {
    const auto k = g.below(k_cells);
    out[g.uniform() < alias_prob_[k] ? k : alias_[k]] += 1.0;
  }
}

bootstrap_samples bootstrap_pairs(const pair_counts& pc, const bootstrap_options& options, const pair_refit& refit) {
  // Flatten the cells: pair p, cell c -> k = n_cells·p + c.
  std::vector<double> cells(pc.n_pairs() * n_cells);
  for (std::size_t p = 0; p < pc.n_pairs(); ++p)
    for (std::size_t c = 0; c < n_cells; ++c) {
      const double v = pc.count[p][c];
      if (v != std::floor(v) || v < 0)
        throw input_error(fmt::format("bootstrap: pair count {} is not a whole number", v));
      cells[n_cells * p + c] = v;
    }
  // Both tie kinds enter every model (BT and the tie models) only through their
  // sum, so resampling them as one cell is the same in distribution and saves
  // a quarter of the draws. Weights are per pair, so they are unaffected;
  // per-cell battle weights may differ between the tie kinds, so not then.
  for (std::size_t p = 0; p < pc.n_pairs() && pc.cell_weight.empty(); ++p) {
    cells[n_cells * p + 2] += cells[n_cells * p + 3];
    cells[n_cells * p + 3] = 0;
  }
  bootstrap_samples out;
  out.r.resize(options.rounds, static_cast<Eigen::Index>(pc.n_models));
  if (options.rounds == 0) return out;

  const multinomial_sampler sampler(cells);
  std::atomic<std::uint32_t> next{0}, with_prior{0}, not_converged{0};
  auto work = [&] {
    pair_counts local = pc;  // weights and pair list shared, counts replaced per round
    std::vector<double> drawn;
    for (;;) {
      const std::uint32_t round = next.fetch_add(1);
      if (round >= options.rounds) return;
      rng g(options.seed, round);
      sampler.draw(g, drawn);
      for (std::size_t p = 0; p < local.n_pairs(); ++p)
        for (std::size_t c = 0; c < n_cells; ++c) local.count[p][c] = drawn[n_cells * p + c];
      bool prior_used = false, converged = true;
      const Eigen::VectorXd r = refit(local, prior_used, converged);
      if (prior_used) ++with_prior;
      if (!converged) ++not_converged;
      out.r.row(round) = r.transpose();
    }
  };
  const unsigned n_threads = worker_count(options.threads, options.rounds);
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < n_threads; ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  out.rounds_with_prior = with_prior;
  out.rounds_not_converged = not_converged;
  return out;
}

bootstrap_samples bootstrap_bradley_terry(const pair_counts& pc, const bt_fit& full, const bt_options& fit_options,
                                          const bootstrap_options& options) {
  const bt_hessian h = factor_hessian(pc, full);  // shared read-only by the workers
  bt_options round_options = fit_options;
  if (round_options.step_tolerance <= 0) round_options.step_tolerance = 2.5e-5;
  return bootstrap_pairs(pc, options, [&](const pair_counts& resampled, bool& prior_used, bool& converged) {
    bt_fit f = refit_bradley_terry(resampled, full, h, round_options);
    prior_used = f.prior_used;
    converged = f.converged;
    return std::move(f.r);
  });
}

Eigen::VectorXd column_quantile(const Eigen::MatrixXd& samples, double q) {
  Eigen::VectorXd out(samples.cols());
  std::vector<double> col(static_cast<std::size_t>(samples.rows()));
  for (Eigen::Index c = 0; c < samples.cols(); ++c) {
    if (col.empty()) {
      out[c] = std::nan("");
      continue;
    }
    for (Eigen::Index r = 0; r < samples.rows(); ++r) col[static_cast<std::size_t>(r)] = samples(r, c);
    std::sort(col.begin(), col.end());
    const double pos = q * static_cast<double>(col.size() - 1);
    const auto lo = static_cast<std::size_t>(std::floor(pos));
    const auto hi = std::min(lo + 1, col.size() - 1);
    out[c] = col[lo] + (pos - static_cast<double>(lo)) * (col[hi] - col[lo]);
  }
  return out;
}

}  // namespace huashan::ranking
