// Sampling chain: penalties, greedy or top-k/top-p/min-p/temperature, seeded draw.
#include "harness/engine/sampling.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <unordered_set>

#include "harness/engine/cpu_features.hpp"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#endif

namespace huashan::engine {

std::int32_t argmax_reference(std::span<const float> logits) {
  assert(!logits.empty());
  std::size_t best = 0;
  for (std::size_t i = 1; i < logits.size(); ++i)
    if (logits[i] > logits[best]) best = i;
  return static_cast<std::int32_t>(best);
}

#if defined(__x86_64__) || defined(_M_X64)
namespace {
// argmax_reference in two passes: the largest value (NaNs skipped, as the
// reference's `>` skips them), 32 at a time in four independent maxima, then
// the first position holding it (equal compares -0 and +0 alike, as `>` does).
// Greedy decoding reads a whole vocabulary row per token: 152k logits for
// Qwen, where the one-at-a-time loop shows in a batch-16 step.
__attribute__((target("avx2"))) std::int32_t argmax_avx2(std::span<const float> logits) {
  const float* x = logits.data();
  const std::size_t n = logits.size();
  if (std::isnan(x[0])) return 0;  // nothing compares greater than a NaN first
  __m256 m[4];
  for (auto& v : m) v = _mm256_set1_ps(x[0]);
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32)
    for (int u = 0; u < 4; ++u) m[u] = _mm256_max_ps(_mm256_loadu_ps(x + i + 8 * u), m[u]);  // NaN: keeps m
  const __m256 m01 = _mm256_max_ps(m[0], m[1]), m23 = _mm256_max_ps(m[2], m[3]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, _mm256_max_ps(m01, m23));
  float best = x[0];
  for (const float v : lanes) best = v > best ? v : best;
  for (; i < n; ++i) best = x[i] > best ? x[i] : best;
  const __m256 target = _mm256_set1_ps(best);
  std::size_t j = 0;
  for (; j + 8 <= n; j += 8) {
    const int hits = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(x + j), target, _CMP_EQ_OQ));
    if (hits != 0) return static_cast<std::int32_t>(j + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(hits))));
  }
  for (; j < n; ++j)
    if (x[j] == best) break;
  return static_cast<std::int32_t>(j);
}
}  // namespace
#endif

std::int32_t argmax(std::span<const float> logits) {
  assert(!logits.empty());
#if defined(__x86_64__) || defined(_M_X64)
  static const bool avx2 = detect_cpu_features().avx2;
  if (avx2) return argmax_avx2(logits);
#endif
  return argmax_reference(logits);
}

void apply_repetition_penalty(std::span<float> logits, std::span<const std::int32_t> recent, float penalty) {
  if (penalty == 1.0f) return;
  std::unordered_set<std::int32_t> seen;
  for (std::int32_t id : recent) {
    if (id < 0 || static_cast<std::size_t>(id) >= logits.size() || !seen.insert(id).second) continue;
    float& l = logits[static_cast<std::size_t>(id)];
    l = l > 0.0f ? l / penalty : l * penalty;
  }
}

std::vector<token_prob> filtered_distribution(std::span<const float> logits, const sampling_params& params) {
  std::vector<token_prob> c(logits.size());
  for (std::size_t i = 0; i < logits.size(); ++i) c[i] = {static_cast<std::int32_t>(i), logits[i]};
  auto by_logit = [](const token_prob& a, const token_prob& b) { return a.p > b.p || (a.p == b.p && a.id < b.id); };

  // top-k on logits
  std::size_t k = c.size();
  if (params.top_k > 0 && static_cast<std::size_t>(params.top_k) < k) {
    k = static_cast<std::size_t>(params.top_k);
    std::partial_sort(c.begin(), c.begin() + static_cast<std::ptrdiff_t>(k), c.end(), by_logit);
    c.resize(k);
  } else {
    std::sort(c.begin(), c.end(), by_logit);
  }

  // softmax of the raw (penalised) logits over the candidates
  auto softmax = [](std::vector<token_prob>& v, float temp) {
    const float max_l = v.front().p;
    double sum = 0.0;
    for (auto& t : v) {
      t.p = std::exp((t.p - max_l) / temp);
      sum += t.p;
    }
    for (auto& t : v) t.p = static_cast<float>(t.p / sum);
  };
  std::vector<float> raw(c.size());
  for (std::size_t i = 0; i < c.size(); ++i) raw[i] = c[i].p;
  softmax(c, 1.0f);

  // top-p: the smallest prefix whose mass reaches top_p (at least one token)
  std::size_t keep = c.size();
  if (params.top_p < 1.0f) {
    double cum = 0.0;
    for (std::size_t i = 0; i < c.size(); ++i) {
      cum += c[i].p;
      if (cum >= params.top_p) {
        keep = i + 1;
        break;
      }
    }
  }
  // min-p: drop tokens with p < min_p · p_max
  if (params.min_p > 0.0f) {
    const float threshold = params.min_p * c.front().p;
    std::size_t n = 1;
    while (n < keep && c[n].p >= threshold) ++n;
    keep = n;
  }
  c.resize(keep);

  // temperature on the surviving logits, renormalised
  for (std::size_t i = 0; i < c.size(); ++i) c[i].p = raw[i];
  softmax(c, params.temperature > 0.0f ? params.temperature : 1.0f);
  return c;
}

sampler::sampler(const sampling_params& params) : params_(params), rng_(params.seed) {}

std::int32_t sampler::sample(std::span<const float> logits, std::span<const std::int32_t> history) {
  std::span<const float> row = logits;
  if (params_.repetition_penalty != 1.0f && params_.repetition_last_n != 0) {
    work_.assign(logits.begin(), logits.end());
    const std::size_t n = params_.repetition_last_n < 0
                              ? history.size()
                              : std::min(history.size(), static_cast<std::size_t>(params_.repetition_last_n));
    apply_repetition_penalty(work_, history.subspan(history.size() - n), params_.repetition_penalty);
    row = work_;
  }
  if (params_.temperature <= 0.0f) return argmax(row);
  const auto dist = filtered_distribution(row, params_);
  const double u = rng_.uniform();
  double cum = 0.0;
  for (const auto& t : dist) {
    cum += t.p;
    if (u < cum) return t.id;
  }
  return dist.back().id;
}

}  // namespace huashan::engine
