// RoPE tables and rotation. θ follows ggml's recurrence (θ_{i+1} = θ_i · base^(-2/n_rot)
// in float) so positions rotate exactly as in llama.cpp, whose goldens we compare with.
#include "harness/engine/rope.hpp"

#include <cmath>

namespace huashan::engine {

rope_params rope_params_of(const model& m) {
  rope_params p;
  p.layout = m.hp.rope;
  p.n_rot = m.hp.n_rot;
  p.freq_base = m.hp.rope_freq_base;
  p.freq_scale = m.hp.rope_freq_scale;
  p.freq_factors = m.rope_freqs_f32.empty() ? nullptr : m.rope_freqs_f32.data();
  return p;
}

void rope_cos_sin(const rope_params& p, std::int32_t pos, float* cs) {
  const float theta_scale = std::pow(p.freq_base, -2.0f / static_cast<float>(p.n_rot));
  float theta_extrap = static_cast<float>(pos);
  for (std::int32_t i = 0; i < p.n_rot / 2; ++i) {
    const float ff = p.freq_factors ? p.freq_factors[i] : 1.0f;
    const float theta = p.freq_scale * (theta_extrap / ff);
    cs[2 * i] = std::cos(theta);
    cs[2 * i + 1] = std::sin(theta);
    theta_extrap *= theta_scale;
  }
}

// The first product of each rotated pair is fused into the sum, as GCC builds
// llama.cpp's rotation (x0·c − x1·s becomes fma(x0, c, −x1·s)): the same bits
// as the reference. Built twice, so that std::fma is one instruction wherever
// the CPU has FMA (the same result either way).
#if defined(__x86_64__) || defined(__i386__)
__attribute__((target_clones("fma", "default")))
#endif
void rope_apply(const rope_params& p, const float* cs, float* x) {
  const std::int32_t half = p.n_rot / 2;
  for (std::int32_t i = 0; i < half; ++i) {
    const float c = cs[2 * i];
    const float s = cs[2 * i + 1];
    float* a = p.layout == rope_layout::normal ? &x[2 * i] : &x[i];
    float* b = p.layout == rope_layout::normal ? &x[2 * i + 1] : &x[i + half];
    const float x0 = *a;
    const float x1 = *b;
    *a = std::fma(x0, c, -(x1 * s));
    *b = std::fma(x0, s, x1 * c);
  }
}

}  // namespace huashan::engine
