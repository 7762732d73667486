// Log-probabilities of tokens under a row of logits (the scoring side of the
// engine: lm-evaluation-harness's loglikelihood and loglikelihood_rolling).
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace huashan::engine {

// log Σ_i exp(logits[i]), computed in double around the maximum.
double log_sum_exp(std::span<const float> logits);

struct token_score {
  std::int32_t id = 0;
  float logprob = 0.0f;  // natural log of the softmax probability of `id`
  std::int32_t rank = 1; // 1 + number of tokens with a strictly larger logit
  bool is_argmax = true; // id is the greedy choice (argmax, lowest id on ties)
  std::vector<std::pair<std::int32_t, float>> top;  // the top_n (id, logprob), decreasing logit, ties by id
};

// Score of `id` under `logits` with the top_n alternatives. Asserts id in range.
token_score score_token(std::span<const float> logits, std::int32_t id, std::int32_t top_n);

// A window of rolling log-likelihood: the continuation is scored after the context.
struct rolling_window {
  std::vector<std::int32_t> context;
  std::vector<std::int32_t> continuation;
};

// lm-evaluation-harness's get_rolling_token_windows + make_disjoint_window with
// context_len 1: windows of at most max_len tokens that together predict every
// token of `tokens` exactly once; the first is conditioned on `prefix_token`
// (BOS, or EOS for models without one), later ones on the max_len tokens before them.
std::vector<rolling_window> rolling_windows(std::span<const std::int32_t> tokens, std::int32_t prefix_token,
                                            std::int32_t max_len);

}  // namespace huashan::engine
