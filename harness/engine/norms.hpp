// Row-wise normalisation and activation helpers of the transformer block.
#pragma once

#include <cstdint>

namespace huashan::engine {

// out[i] = x[i] / sqrt(mean(x²) + eps) · w[i] for i < n (the sum of squares in
// double, as ggml does). out may alias x.
void rms_norm(const float* x, const float* w, std::int64_t n, float eps, float* out);
// rms_norm of `rows` rows, row r at x + r·x_stride and out + r·out_stride (out
// may alias x). Four rows at a time, so that four of the sequential double
// sums run side by side; each row gets exactly rms_norm's result.
void rms_norm_rows(const float* x, std::int64_t x_stride, const float* w, std::int64_t n, std::int64_t rows, float eps,
                   float* out, std::int64_t out_stride);

// e^x by reduction to r = x - k·ln2 (|r| ≤ ln2/2, ln2 in two parts), a degree-5
// polynomial in r and the scale 2^k put into the exponent bits: within 1.5 ulp
// of e^x. It is the exponential llama.cpp's AVX2 build uses for SiLU (ARM's
// published single-precision vector exp, same constants and the same fused
// operations), so that our activations carry the same bits as the reference.
float exp_poly(float x);
// gate[i] = silu(gate[i]) · up[i] = gate/(1+exp(-gate)) · up, for i < n. The
// elements of whole groups of eight take exp_poly, the rest std::exp: the
// split of llama.cpp's 8-lane SwiGLU loop and its scalar tail. The AVX2 path
// and the scalar one give the same bits.
void swiglu(float* gate, const float* up, std::int64_t n);
// The scalar code of swiglu, for the tests.
void swiglu_reference(float* gate, const float* up, std::int64_t n);

}  // namespace huashan::engine
