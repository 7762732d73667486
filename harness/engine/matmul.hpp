// The engine's hot operations on weight tensors: matrix products against
// activation rows and embedding lookups, for every type quants.hpp supports.
// Weights W have ggml shape ne = {n_in, n_out}: n_out rows of n_in elements.
#pragma once

#include <cstdint>
#include <span>

#include "harness/engine/tensor.hpp"
#include "harness/engine/thread_pool.hpp"

namespace huashan::engine {

// y[t*n_out + o] = Σ_i W[o,i] · x[t*n_in + i] for t < n_tokens, o < n_out.
// x: n_tokens x n_in floats, y: n_tokens x n_out floats (must not alias x).
// Quantized weights: x is first quantized to vec_dot_type(w.type) (q8_0/q8_k),
// then integer dot products per block. Work is split over output rows; each
// weight row is used for every token while it is in cache.
// prompt_rows (optional, n_tokens flags): rows that belong to a prompt of two
// or more tokens. For f32 weights whose shape llama.cpp's prompt path accepts
// (rows % 4 == 0, n_in % 8 == 0: prompt_order_matters) those rows are summed
// in that path's order (dot_f32_prompt_kernel), the others in its single-token
// order; other types ignore the flags. Either way a row's result depends only
// on its own flag, not on the other rows in the call.
// Throws input_error when w's type has no kernels or n_in is not a multiple of its block.
void matmul(const tensor_view& w, const float* x, std::int64_t n_tokens, float* y, thread_pool& pool,
            const std::uint8_t* prompt_rows = nullptr);

// One weight of matmul_shared_input and where its product goes.
struct matmul_output {
  const tensor_view* w = nullptr;
  float* y = nullptr;
};
// matmul of the same x by each of outs (at most four: q, k and v; gate and
// up), each with the same results as its own matmul call. Where all are packed
// with one activation format, x is prepared once and one parallel loop covers
// every weight's rows (fewer waits for the slowest thread).
void matmul_shared_input(std::span<const matmul_output> outs, const float* x, std::int64_t n_tokens,
                         thread_pool& pool, const std::uint8_t* prompt_rows = nullptr);

// Whether matmul's prompt_rows flags change w's results (see matmul).
bool prompt_order_matters(const tensor_view& w);

// Same product computed plainly: dequantize each row to floats, float dot in
// double precision, single-threaded. The reference matmul is tested against.
void matmul_reference(const tensor_view& w, const float* x, std::int64_t n_tokens, float* y);

// out[k*n_in .. (k+1)*n_in) = row ids[k] of w, dequantized (embedding lookup).
// Throws input_error for an id outside [0, n_rows) or a type without kernels.
void get_rows(const tensor_view& w, std::span<const std::int32_t> ids, float* out);

// The whole tensor as floats (n_elements()); e.g. norm weights stored as f16.
void dequantize_tensor(const tensor_view& w, float* out);

}  // namespace huashan::engine
