#include "ranking/pair_counts.hpp"

#include <algorithm>
#include <numeric>
#include <utility>

namespace huashan::ranking {

namespace {

// Battle k with its lower model index first (the outcome seen from that side).
struct ordered_battle {
  std::uint32_t a, b;
  outcome o;
};
ordered_battle ordered(const battle_table& t, std::size_t k) {
  if (t.model_a[k] <= t.model_b[k]) return {t.model_a[k], t.model_b[k], t.winner[k]};
  return {t.model_b[k], t.model_a[k], swapped(t.winner[k])};
}

}  // namespace

double pair_counts::total() const {
  double t = 0;
  for (std::size_t p = 0; p < n_pairs(); ++p) t += battles(p);
  return t;
}

pair_counts count_pairs(const battle_table& t) {
  const std::size_t m = t.n_models();
  pair_counts pc;
  pc.n_models = m;
  // Dense m×m slot table for ≤ 4096 models (64 MB of uint32 at most); the
  // pair list is then read off in (i, j) order.
  std::vector<std::array<std::uint32_t, n_cells>> dense;
  if (m <= 4096) {
    dense.assign(m * m, {0, 0, 0, 0});
    for (std::size_t k = 0; k < t.size(); ++k) {
      const auto [a, b, o] = ordered(t, k);
      ++dense[static_cast<std::size_t>(a) * m + b][static_cast<std::size_t>(o)];
    }
    for (std::uint32_t a = 0; a < m; ++a)
      for (std::uint32_t b = a + 1; b < m; ++b) {
        const auto& c = dense[static_cast<std::size_t>(a) * m + b];
        if (c[0] + c[1] + c[2] + c[3] == 0) continue;
        pc.i.push_back(a);
        pc.j.push_back(b);
        pc.count.push_back({double(c[0]), double(c[1]), double(c[2]), double(c[3])});
      }
  } else {
    // Many models: sort (pair key, outcome) codes instead.
    std::vector<std::uint64_t> keys(t.size());
    for (std::size_t k = 0; k < t.size(); ++k) {
      const auto [a, b, o] = ordered(t, k);
      keys[k] = (std::uint64_t{a} << 34) | (std::uint64_t{b} << 2) | static_cast<std::uint64_t>(o);
    }
    std::sort(keys.begin(), keys.end());
    for (const auto key : keys) {
      const auto a = static_cast<std::uint32_t>(key >> 34), b = static_cast<std::uint32_t>((key >> 2) & 0xFFFFFFFFu);
      if (pc.i.empty() || pc.i.back() != a || pc.j.back() != b) {
        pc.i.push_back(a);
        pc.j.push_back(b);
        pc.count.push_back({0, 0, 0, 0});
      }
      pc.count.back()[key & 3] += 1.0;
    }
  }
  pc.weight.assign(pc.n_pairs(), 1.0);
  return pc;
}

pair_counts count_pairs(const battle_table& t, const std::vector<double>& battle_weight) {
  pair_counts pc = count_pairs(t);
  // Pairs are sorted by (i, j): find each battle's pair by binary search.
  std::vector<std::array<double, n_cells>> sum(pc.n_pairs(), {0, 0, 0, 0});
  for (std::size_t k = 0; k < t.size(); ++k) {
    const auto [a, b, o] = ordered(t, k);
    std::size_t lo = 0, hi = pc.n_pairs();
    while (lo < hi) {
      const std::size_t mid = (lo + hi) / 2;
      if (pc.i[mid] < a || (pc.i[mid] == a && pc.j[mid] < b)) lo = mid + 1; else hi = mid;
    }
    sum[lo][static_cast<std::size_t>(o)] += battle_weight[k];
  }
  pc.cell_weight.assign(pc.n_pairs(), {1, 1, 1, 1});
  for (std::size_t p = 0; p < pc.n_pairs(); ++p)
    for (std::size_t c = 0; c < n_cells; ++c)
      if (pc.count[p][c] > 0) pc.cell_weight[p][c] = sum[p][c] / pc.count[p][c];
  return pc;
}

pair_counts with_added_votes(const pair_counts& pc, std::uint32_t winner, std::uint32_t loser, double k) {
  pair_counts out = pc;
  const auto lo = std::min(winner, loser), hi = std::max(winner, loser);
  const std::size_t c = winner == lo ? 0 : 1;  // the cell from lo's side
  for (std::size_t p = 0; p < out.n_pairs(); ++p)
    if (out.i[p] == lo && out.j[p] == hi) {
      out.count[p][c] += k;
      return out;
    }
  std::size_t p = 0;
  while (p < out.n_pairs() && std::pair(out.i[p], out.j[p]) < std::pair(lo, hi)) ++p;
  const auto at = static_cast<std::ptrdiff_t>(p);
  std::array<double, n_cells> cells{0, 0, 0, 0};
  cells[c] = k;
  out.i.insert(out.i.begin() + at, lo);
  out.j.insert(out.j.begin() + at, hi);
  out.count.insert(out.count.begin() + at, cells);
  out.weight.insert(out.weight.begin() + at, 1.0);
  if (!out.cell_weight.empty()) out.cell_weight.insert(out.cell_weight.begin() + at, {1.0, 1.0, 1.0, 1.0});
  return out;
}

void reweight_pairs(pair_counts& pc, double floor) {
  for (std::size_t p = 0; p < pc.n_pairs(); ++p) pc.weight[p] = 1.0 / std::max(pc.battles(p), floor);
}

std::vector<std::uint32_t> components(const pair_counts& pc, std::size_t& n_components) {
  std::vector<std::uint32_t> parent(pc.n_models);
  std::iota(parent.begin(), parent.end(), 0u);
  auto find = [&](std::uint32_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  };
  for (std::size_t p = 0; p < pc.n_pairs(); ++p) {
    if (pc.battles(p) <= 0) continue;
    const auto a = find(pc.i[p]), b = find(pc.j[p]);
    if (a != b) parent[std::max(a, b)] = std::min(a, b);
  }
  std::vector<std::uint32_t> comp(pc.n_models);
  std::vector<std::int64_t> label(pc.n_models, -1);
  n_components = 0;
  for (std::size_t m = 0; m < pc.n_models; ++m) {
    const auto root = find(static_cast<std::uint32_t>(m));
    if (label[root] < 0) label[root] = static_cast<std::int64_t>(n_components++);
    comp[m] = static_cast<std::uint32_t>(label[root]);
  }
  return comp;
}

}  // namespace huashan::ranking
