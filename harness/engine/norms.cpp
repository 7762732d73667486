// RMSNorm and SwiGLU, plain scalar code: they are a small share of the time.
#include "harness/engine/norms.hpp"

#include <cmath>

namespace huashan::engine {

void rms_norm(const float* x, const float* w, std::int64_t n, float eps, float* out) {
  double sum = 0.0;
  for (std::int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i] * x[i]);  // float products, double sum: ggml's order
  const float mean = static_cast<float>(sum / static_cast<double>(n));
  const float scale = 1.0f / std::sqrt(mean + eps);
  for (std::int64_t i = 0; i < n; ++i) out[i] = (x[i] * scale) * w[i];
}

void swiglu(float* gate, const float* up, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    gate[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

}  // namespace huashan::engine
