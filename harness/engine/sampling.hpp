// Token sampling from a row of logits, llama.cpp's default chain order:
//   repetition penalty -> (greedy if temperature <= 0) -> top-k -> softmax ->
//   top-p -> min-p -> temperature -> draw with the request's own RNG.
// Each request owns its sampler and seed, so what it draws does not depend on
// which other requests share its batches.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/xoshiro256.hpp"

namespace huashan::engine {

struct sampling_params {
  float temperature = 0.0f;         // <= 0: greedy (argmax, lowest id on ties)
  std::int32_t top_k = 0;           // <= 0: off
  float top_p = 1.0f;               // >= 1: off
  float min_p = 0.0f;               // <= 0: off; keep p >= min_p · p_max
  float repetition_penalty = 1.0f;  // 1: off; CTRL-style on the last repetition_last_n tokens
  std::int32_t repetition_last_n = 64;
  std::uint64_t seed = 0;
};

struct token_prob {
  std::int32_t id;
  float p;  // probability (or logit before softmax)
};

// Index of the largest value; the lowest index wins ties and NaNs are passed
// over (a NaN first gives 0). Asserts a non-empty span. Vectorised where the
// CPU allows; argmax_reference is the plain loop it must agree with.
std::int32_t argmax(std::span<const float> logits);
std::int32_t argmax_reference(std::span<const float> logits);

// Divides positive / multiplies negative logits of tokens in `recent` by `penalty` (once per distinct token).
void apply_repetition_penalty(std::span<float> logits, std::span<const std::int32_t> recent, float penalty);

// The candidates left after top-k, top-p and min-p with temperature applied,
// as normalised probabilities sorted by decreasing probability (ties by id).
// `logits` are already penalised. Used by sampler and tested on its own.
std::vector<token_prob> filtered_distribution(std::span<const float> logits, const sampling_params& params);

class sampler {
 public:
  explicit sampler(const sampling_params& params);
  // Picks the next token given `logits` (one row, n_vocab) and the tokens so far
  // (prompt + generated; the last repetition_last_n are penalised).
  std::int32_t sample(std::span<const float> logits, std::span<const std::int32_t> history);
  const sampling_params& params() const { return params_; }

 private:
  sampling_params params_;
  xoshiro256ss rng_;  // seeded with params.seed
  std::vector<float> work_;
};

}  // namespace huashan::engine
