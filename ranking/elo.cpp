#include "ranking/elo.hpp"

#include <cmath>

namespace huashan::ranking {

std::vector<double> online_elo(const battle_table& t, const elo_options& o) {
  std::vector<double> r(t.n_models(), o.initial);
  for (std::size_t k = 0; k < t.size(); ++k) {
    double& ra = r[t.model_a[k]];
    double& rb = r[t.model_b[k]];
    const double ea = 1.0 / (1.0 + std::pow(o.base, (rb - ra) / o.scale));
    const double eb = 1.0 / (1.0 + std::pow(o.base, (ra - rb) / o.scale));
    const double sa = score_a(t.winner[k]);
    ra += o.k * (sa - ea);
    rb += o.k * (1.0 - sa - eb);
  }
  return r;
}

}  // namespace huashan::ranking
