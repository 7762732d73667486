#include "ranking/bootstrap.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <thread>

#include <fmt/format.h>

#include "common/error.hpp"
#include "ranking/vector_clones.hpp"

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

namespace {

// Poisson draws for the cells of one count class: X = lo + #{window entries ≤ u},
// a full search of `cdf` when u falls outside [below, high). Returns Σ X.
HUASHAN_VECTOR_CLONES
std::uint64_t draw_class_cells(rng_lanes& lanes, const std::uint32_t* cells, std::size_t n, const double* window,
                               std::size_t window_size, std::uint64_t lo, double below, const double* cdf, double* out) {
  constexpr std::size_t width = rng_lanes::width;
  const double high = window[window_size - 1];
  std::uint64_t sum = 0;
  alignas(64) double u[width];
  // Integer counts: their sums may be reordered, so the lanes become one vector.
  alignas(64) std::uint64_t x[width];
  for (std::size_t b = 0; b < n; b += width) {
    lanes.uniforms(u);
    for (std::size_t l = 0; l < width; ++l) x[l] = lo;
    for (std::size_t j = 0; j < window_size; ++j) {
      const double f = window[j];
      for (std::size_t l = 0; l < width; ++l) x[l] += u[l] >= f ? 1 : 0;
    }
    bool outside = false;
    for (std::size_t l = 0; l < width; ++l) outside |= (u[l] < below) | (u[l] >= high);
    if (outside) [[unlikely]] {
      for (std::size_t l = 0; l < width; ++l) {
        if (u[l] >= below && u[l] < high) continue;
        std::uint64_t k = 0;
        while (u[l] >= cdf[k]) ++k;
        x[l] = k;
      }
    }
    const std::size_t lanes_used = std::min(width, n - b);
    for (std::size_t l = 0; l < lanes_used; ++l) {
      out[cells[b + l]] = static_cast<double>(x[l]);
      sum += x[l];
    }
  }
  return sum;
}

// A window edge: the CDF is below this at the window's left, above 1 − this at its right.
constexpr double window_tail = 1e-5;

}  // namespace

multinomial_sampler::multinomial_sampler(const std::vector<double>& counts) : n_cells_(counts.size()) {
  double n = 0;
  for (double c : counts) n += c > 0 ? c : 0.0;
  total_ = static_cast<std::uint64_t>(std::llround(n));
  const double theta = total_ > 0 ? std::max(0.0, 1.0 - 3.0 / std::sqrt(static_cast<double>(total_))) : 0.0;
  std::vector<std::vector<std::uint32_t>> by_count(max_class_count + 1);
  for (std::size_t k = 0; k < counts.size(); ++k) {
    const double c = counts[k];
    const auto index = static_cast<std::uint32_t>(k);
    if (!(c > 0)) {
      empty_.push_back(index);
      continue;
    }
    nonempty_.push_back(index);
    if (c <= max_class_count && c == std::floor(c)) {
      by_count[static_cast<std::size_t>(c)].push_back(index);
      continue;
    }
    poisson_cell cell;
    cell.index = index;
    cell.lambda = theta * c;
    if (cell.lambda > 0) {
      cell.inv_lambda = 1.0 / cell.lambda;
      cell.mode = static_cast<std::uint32_t>(std::floor(cell.lambda));
      const double m = cell.mode;
      cell.f_mode = std::exp(m * std::log(cell.lambda) - cell.lambda - std::lgamma(m + 1));
      // P(X ≤ mode) = Σ_{j ≤ mode} pmf(j), summed downward until the terms vanish.
      double f = cell.f_mode, sum = f;
      for (double j = m; j > 0 && f > 1e-20 * sum; j -= 1) {
        f *= j / cell.lambda;
        sum += f;
      }
      cell.F_mode = std::min(sum, 1.0);
    }
    generic_.push_back(cell);
  }
  for (std::size_t c = 1; c <= max_class_count; ++c) {
    if (by_count[c].empty()) continue;
    count_class cls;
    cls.cells_begin = class_cells_.size();
    class_cells_.insert(class_cells_.end(), by_count[c].begin(), by_count[c].end());
    cls.cells_end = class_cells_.size();
    cls.cdf_begin = cdf_.size();
    const double lambda = theta * static_cast<double>(c);
    double f = std::exp(-lambda), F = f;
    for (double j = 1; F < 1.0 - 1e-17 && f > 1e-300; j += 1) {
      cdf_.push_back(F);
      f *= lambda / j;
      F += f;
    }
    cdf_.push_back(std::min(F, 1.0));
    const std::size_t size = cdf_.size() - cls.cdf_begin;
    const double* table = cdf_.data() + cls.cdf_begin;
    std::size_t lo = 0;
    while (lo + 1 < size && table[lo] < window_tail) ++lo;
    std::size_t hi = lo;
    while (hi + 1 < size && table[hi] < 1.0 - window_tail) ++hi;
    cls.lo = static_cast<std::uint32_t>(lo);
    cls.below = lo > 0 ? table[lo - 1] : 0.0;
    cls.window_begin = cls.cdf_begin + lo;
    cls.window_size = hi - lo + 1;
    cdf_.push_back(std::numeric_limits<double>::infinity());  // ends every full search
    classes_.push_back(cls);
  }
  // Vose's alias table over the non-empty cells, P(cell) = count / N.
  const std::size_t k_cells = nonempty_.size();
  alias_prob_.assign(k_cells, 0.0);
  alias_.assign(k_cells, 0);
  if (total_ == 0) return;
  std::vector<double> scaled(k_cells);
  std::vector<std::uint32_t> small, large;
  for (std::size_t k = 0; k < k_cells; ++k) {
    scaled[k] = counts[nonempty_[k]] * static_cast<double>(k_cells) / n;
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
}

std::uint64_t multinomial_sampler::poisson(rng& g, const poisson_cell& c) {
  if (c.lambda <= 0) return 0;
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
  out.resize(n_cells_);
  for (const auto k : empty_) out[k] = 0.0;
  if (total_ == 0) return;
  rng_lanes lanes(g);
  std::uint64_t s = 0;
  do {
    s = 0;
    for (const auto& cls : classes_)
      s += draw_class_cells(lanes, class_cells_.data() + cls.cells_begin, cls.cells_end - cls.cells_begin,
                            cdf_.data() + cls.window_begin, cls.window_size, cls.lo, cls.below,
                            cdf_.data() + cls.cdf_begin, out.data());
    for (const auto& cell : generic_) {
      const auto x = poisson(g, cell);
      out[cell.index] = static_cast<double>(x);
      s += x;
    }
  } while (s > total_);
  const auto k_cells = static_cast<std::uint64_t>(nonempty_.size());
  for (std::uint64_t r = s; r < total_; ++r) {
    const auto k = g.below(k_cells);
    out[nonempty_[g.uniform() < alias_prob_[k] ? k : alias_[k]]] += 1.0;
  }
}

bootstrap_samples bootstrap_pairs(const pair_counts& pc, const bootstrap_options& options, const pair_refit& refit) {
  // Both tie kinds enter every model (BT and the tie models) only through their
  // sum, so resampling them as one cell is the same in distribution and saves
  // a quarter of the draws. Weights are per pair, so they are unaffected;
  // per-cell battle weights may differ between the tie kinds, so not then.
  const bool merge_ties = pc.cell_weight.empty();
  // The non-empty cells only: flat index n_cells·p + c of each, and its count.
  std::vector<std::uint32_t> cell_at;
  std::vector<double> cells;
  for (std::size_t p = 0; p < pc.n_pairs(); ++p)
    for (std::size_t c = 0; c < n_cells; ++c) {
      double v = pc.count[p][c];
      if (v != std::floor(v) || v < 0)
        throw input_error(fmt::format("bootstrap: pair count {} is not a whole number", v));
      if (merge_ties && c == 3) continue;
      if (merge_ties && c == 2) v += pc.count[p][3];
      if (v == 0) continue;
      cell_at.push_back(static_cast<std::uint32_t>(n_cells * p + c));
      cells.push_back(v);
    }
  bootstrap_samples out;
  out.r.resize(options.rounds, static_cast<Eigen::Index>(pc.n_models));
  if (options.rounds == 0) return out;

  const multinomial_sampler sampler(cells);
  std::atomic<std::uint32_t> next{0}, with_prior{0}, not_converged{0};
  auto work = [&] {
    pair_counts local = pc;  // weights and pair list shared, counts replaced per round
    for (auto& count : local.count) count.fill(0.0);  // cells that are empty stay so in every round
    std::vector<double> drawn;
    for (;;) {
      const std::uint32_t round = next.fetch_add(1);
      if (round >= options.rounds) return;
      rng g(options.seed, round);
      sampler.draw(g, drawn);
      for (std::size_t k = 0; k < cell_at.size(); ++k) local.count[cell_at[k] / n_cells][cell_at[k] % n_cells] = drawn[k];
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
  round_options.final_likelihood = false;  // a round keeps only r
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
