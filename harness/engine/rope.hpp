// Rotary position embedding (RoPE), both pair layouts. For pair i < n_rot/2 of a
// head vector at position p:
//   θ_i = p · freq_scale · base^(-2i/n_rot) / freq_factor_i
//   (a, b) -> (a·cos θ_i − b·sin θ_i, a·sin θ_i + b·cos θ_i)
// where (a, b) = (x[2i], x[2i+1]) for the normal layout (llama) and
// (x[i], x[i + n_rot/2]) for NeoX (qwen2/qwen3). Elements past n_rot are unchanged.
#pragma once

#include <cstdint>

#include "harness/engine/model.hpp"

namespace huashan::engine {

struct rope_params {
  rope_layout layout = rope_layout::normal;
  std::int32_t n_rot = 0;
  float freq_base = 10000.0f;
  float freq_scale = 1.0f;
  const float* freq_factors = nullptr;  // [n_rot/2] or nullptr
};

// The rope parameters of a model.
rope_params rope_params_of(const model& m);
// cs[2i] = cos θ_i, cs[2i+1] = sin θ_i for i < n_rot/2 at position `pos`.
void rope_cos_sin(const rope_params& p, std::int32_t pos, float* cs);
// Rotates one head vector `x` (at least n_rot elements) in place with the table from rope_cos_sin.
void rope_apply(const rope_params& p, const float* cs, float* x);

}  // namespace huashan::engine
