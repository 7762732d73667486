// Per-type reference quantizers and dequantizers behind quants.hpp's
// dequantize_row/quantize_row switch, shared by the scalar and AVX2 files; and
// the cap on the run-time dispatch that the parity tests run each variant with.
#pragma once

#include <cstdint>

#include "harness/engine/quants.hpp"

namespace huashan::engine {

void quantize_q8_0(const float* x, block_q8_0* y, std::int64_t n);
void dequantize_q8_0(const block_q8_0* x, float* y, std::int64_t n);
void quantize_q4_0(const float* x, block_q4_0* y, std::int64_t n);
void dequantize_q4_0(const block_q4_0* x, float* y, std::int64_t n);
void quantize_q4_k(const float* x, block_q4_k* y, std::int64_t n);
void dequantize_q4_k(const block_q4_k* x, float* y, std::int64_t n);
void quantize_q6_k(const float* x, block_q6_k* y, std::int64_t n);
void dequantize_q6_k(const block_q6_k* x, float* y, std::int64_t n);
void quantize_q8_k(const float* x, block_q8_k* y, std::int64_t n);
void dequantize_q8_k(const block_q8_k* x, float* y, std::int64_t n);

// The instruction sets the engine's kernels come in, the plain reference first.
// avx2: AVX2, FMA and F16C; avx512: AVX-512 F, BW, VL and DQ on top (the
// quants' 8-bit dots and packed products also need VNNI).
enum class kernel_isa { scalar, avx2, avx512 };
// Caps what the run-time dispatch of the quants, matmul and attention hands
// out, as if the CPU had no more than `isa` (it never adds what the CPU
// lacks); kernel_isa::avx512, the default, is no cap. For the parity tests
// (tests/unit/engine_ops), which run every variant against the reference: set
// it while no kernel is running.
void limit_kernel_isa(kernel_isa isa);
kernel_isa kernel_isa_limit();

// Sub-block j (0..7) of a q4_k block: its 6-bit scale and min.
void q4_k_scale_min(int j, const std::uint8_t* scales, int& sc, int& m);
// The 256 signed 6-bit levels (-32..31) of a q6_k block.
void q6_k_unpack(const block_q6_k& x, std::int8_t* q);

}  // namespace huashan::engine
