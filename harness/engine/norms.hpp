// Row-wise normalisation and activation helpers of the transformer block.
#pragma once

#include <cstdint>

namespace huashan::engine {

// out[i] = x[i] / sqrt(mean(x²) + eps) · w[i] for i < n (the sum of squares in
// double, as ggml does). out may alias x.
void rms_norm(const float* x, const float* w, std::int64_t n, float eps, float* out);
// gate[i] = silu(gate[i]) · up[i] = gate/(1+exp(-gate)) · up, for i < n.
void swiglu(float* gate, const float* up, std::int64_t n);

}  // namespace huashan::engine
