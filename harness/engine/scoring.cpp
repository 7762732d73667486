// Log-softmax, ranks and top-n of one logits row; rolling windows for perplexity.
#include "harness/engine/scoring.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace huashan::engine {

double log_sum_exp(std::span<const float> logits) {
  float max_l = -INFINITY;
  for (float l : logits) max_l = std::max(max_l, l);
  double sum = 0.0;
  for (float l : logits) sum += std::exp(static_cast<double>(l) - max_l);
  return max_l + std::log(sum);
}

token_score score_token(std::span<const float> logits, std::int32_t id, std::int32_t top_n) {
  assert(id >= 0 && static_cast<std::size_t>(id) < logits.size());
  const double lse = log_sum_exp(logits);
  token_score s;
  s.id = id;
  const float l = logits[static_cast<std::size_t>(id)];
  s.logprob = static_cast<float>(l - lse);
  std::int32_t greater = 0;
  bool tie_before = false;
  for (std::size_t i = 0; i < logits.size(); ++i) {
    if (logits[i] > l) ++greater;
    if (logits[i] == l && static_cast<std::int32_t>(i) < id) tie_before = true;
  }
  s.rank = 1 + greater;
  s.is_argmax = greater == 0 && !tie_before;
  if (top_n > 0) {
    const std::size_t n = std::min(static_cast<std::size_t>(top_n), logits.size());
    std::vector<std::int32_t> idx(logits.size());
    for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<std::int32_t>(i);
    std::partial_sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(n), idx.end(), [&](std::int32_t a, std::int32_t b) {
      const float la = logits[static_cast<std::size_t>(a)];
      const float lb = logits[static_cast<std::size_t>(b)];
      return la > lb || (la == lb && a < b);
    });
    for (std::size_t i = 0; i < n; ++i) {
      s.top.emplace_back(idx[i], static_cast<float>(logits[static_cast<std::size_t>(idx[i])] - lse));
    }
  }
  return s;
}

std::vector<rolling_window> rolling_windows(std::span<const std::int32_t> tokens, std::int32_t prefix_token,
                                            std::int32_t max_len) {
  std::vector<rolling_window> out;
  if (tokens.empty() || max_len < 1) return out;
  const auto n = static_cast<std::int64_t>(tokens.size());
  const std::int64_t first = std::min<std::int64_t>(max_len, n);
  rolling_window w;
  w.context.push_back(prefix_token);
  w.context.insert(w.context.end(), tokens.begin(), tokens.begin() + (first - 1));
  w.continuation.assign(tokens.begin(), tokens.begin() + first);
  // make_disjoint_window: the context is what precedes the first predicted token.
  w.context.resize(w.context.size() - static_cast<std::size_t>(first - 1));
  out.push_back(std::move(w));
  std::int64_t predicted = first;
  const std::int64_t pred_len = max_len;  // max_len - context_len + 1 with context_len = 1
  while (predicted < n) {
    const std::int64_t window_pred = std::min(n - predicted, pred_len);
    const std::int64_t end = predicted + window_pred;
    const std::int64_t ctx_begin = std::max<std::int64_t>(0, end - max_len - 1);
    rolling_window r;
    r.context.assign(tokens.begin() + ctx_begin, tokens.begin() + (end - window_pred));
    r.continuation.assign(tokens.begin() + (end - window_pred), tokens.begin() + end);
    out.push_back(std::move(r));
    predicted = end;
  }
  return out;
}

}  // namespace huashan::engine
