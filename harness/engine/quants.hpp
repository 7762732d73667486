// Block layouts and row kernels of the tensor types (llama.cpp/ggml's on-disk
// layouts, so GGUF files written by llama.cpp decode bit-exactly):
//   q8_0 : 32 elements = f16 d, int8 q[32];                     x = d*q
//   q4_0 : 32 elements = f16 d, u8 qs[16] (low nibble = element j,
//          high nibble = element j+16);                          x = d*(q-8)
//   q4_k : 256 elements = f16 d, f16 dmin, u8 scales[12] (8 six-bit scales
//          and 8 six-bit mins, packed), u8 qs[128]; in each 64-element chunk
//          the low nibbles are sub-block 2c, the high nibbles 2c+1;
//          x = d*sc[s]*q - dmin*m[s]
//   q6_k : 256 elements = u8 ql[128] (low 4 bits), u8 qh[64] (high 2 bits),
//          int8 scales[16] (one per 16 elements), f16 d;  x = d*sc[s]*(q-32)
//   q8_k : 256 elements = f32 d, int8 q[256], int16 bsums[16] (sums of 16);
//          only an activation format, never stored in files.
// Dot products take the weight row in its own type and the activation row in
// the weight's vec_dot_type (q8_0 for q8_0/q4_0, q8_k for q4_k/q6_k, f32 for
// the float types): integer products per block, one float multiply per block.
#pragma once

#include <cstddef>
#include <cstdint>

#include "harness/engine/tensor.hpp"

namespace huashan::engine {

constexpr std::int64_t qk8_0 = 32;
constexpr std::int64_t qk4_0 = 32;
constexpr std::int64_t qk_k = 256;

struct block_q8_0 {
  std::uint16_t d;  // f16 scale
  std::int8_t qs[qk8_0];
};
static_assert(sizeof(block_q8_0) == 34);

struct block_q4_0 {
  std::uint16_t d;  // f16 scale
  std::uint8_t qs[qk4_0 / 2];
};
static_assert(sizeof(block_q4_0) == 18);

struct block_q4_k {
  std::uint16_t d;     // f16 super-block scale of the sub-block scales
  std::uint16_t dmin;  // f16 super-block scale of the sub-block mins
  std::uint8_t scales[12];
  std::uint8_t qs[qk_k / 2];
};
static_assert(sizeof(block_q4_k) == 144);

struct block_q6_k {
  std::uint8_t ql[qk_k / 2];
  std::uint8_t qh[qk_k / 4];
  std::int8_t scales[qk_k / 16];
  std::uint16_t d;  // f16
};
static_assert(sizeof(block_q6_k) == 210);

struct block_q8_k {
  float d;
  std::int8_t qs[qk_k];
  std::int16_t bsums[qk_k / 16];
};
static_assert(sizeof(block_q8_k) == 292);

// IEEE half and bfloat16 conversions (round to nearest even; NaN kept NaN).
float fp16_to_f32(std::uint16_t h);
std::uint16_t f32_to_fp16(float f);
float bf16_to_f32(std::uint16_t h);
std::uint16_t f32_to_bf16(float f);

// The format the activation row must be in for dot products with weights of type t.
tensor_type vec_dot_type(tensor_type t);

// Whether t has dequantize/quantize/dot kernels (f32, f16, bf16, q8_0, q4_0, q4_k, q6_k).
bool has_kernels(tensor_type t);

// n elements of type t at src -> n floats. n must be a multiple of the block
// size; an unsupported type is an input_error.
void dequantize_row(tensor_type t, const void* src, float* dst, std::int64_t n);
// n floats -> n elements of type t (reference quantizers; also q8_k). Same failures.
void quantize_row(tensor_type t, const float* src, void* dst, std::int64_t n);

// Σ_i w[i]·x[i] over n elements: w in type t, x in vec_dot_type(t).
// dot_row dispatches to the AVX2 kernel when the CPU has AVX2+FMA+F16C.
using dot_fn = float (*)(const void* w, const void* x, std::int64_t n);
float dot_row(tensor_type t, const void* w, const void* x, std::int64_t n);
// The kernel dot_row uses for t; nullptr when t has no kernels.
dot_fn dot_kernel(tensor_type t);
// The plain scalar reference for t (nullptr when t has no kernels).
dot_fn dot_kernel_scalar(tensor_type t);
// The AVX2/FMA kernel for t; nullptr when not compiled in, the CPU lacks it, or t has none.
dot_fn dot_kernel_avx2(tensor_type t);
// The AVX-512 VNNI kernel for t; nullptr when not compiled in, the CPU lacks it, or t has none.
dot_fn dot_kernel_vnni(tensor_type t);

// F32 rows of a prompt in llama.cpp's prompt order (its tinyBLAS path, x86
// AVX2 build): one 8-lane FMA chain over the row (n a multiple of 8), then the
// lanes summed as ((0+4)+(2+6)) + ((1+5)+(3+7)). dot_kernel(f32) follows its
// single-token vector dot instead. AVX2 kernel when the CPU has it, else the
// scalar emulation (the same bits).
dot_fn dot_f32_prompt_kernel();

// vnni::dot8_f32 where the CPU has it (AVX-512), else nullptr.
using dot8_f32_fn = void (*)(const float* w, std::int64_t w_stride, const float* x, std::int64_t n,
                             bool prompt_order, float* out);
dot8_f32_fn dot8_f32_kernel();

// Four dot products of one weight row with four activation rows (x, x +
// x_stride, ... bytes apart), out[0..3]; bit-identical to four dot_kernel()
// calls, with the weight unpacked once. Used by matmul for batches.
using dot4_fn = void (*)(const void* w, const void* x, std::size_t x_stride, std::int64_t n, float* out);
// The four-row kernel for t, or nullptr (then call dot_kernel per row).
dot4_fn dot4_kernel(tensor_type t);

namespace scalar {
float dot_f32(const void* w, const void* x, std::int64_t n);
float dot_f32_prompt(const void* w, const void* x, std::int64_t n);
float dot_f16(const void* w, const void* x, std::int64_t n);
float dot_bf16(const void* w, const void* x, std::int64_t n);
float dot_q8_0(const void* w, const void* x, std::int64_t n);
float dot_q4_0(const void* w, const void* x, std::int64_t n);
float dot_q4_k(const void* w, const void* x, std::int64_t n);
float dot_q6_k(const void* w, const void* x, std::int64_t n);
}  // namespace scalar

namespace avx2 {
float dot_f32_prompt(const void* w, const void* x, std::int64_t n);
// Defined in quants_avx2.cpp (compiled with -mavx2 -mfma -mf16c); call only
// when detect_cpu_features() reports avx2, fma and f16c.
bool compiled();
float dot_f32(const void* w, const void* x, std::int64_t n);
float dot_f16(const void* w, const void* x, std::int64_t n);
float dot_bf16(const void* w, const void* x, std::int64_t n);
float dot_q8_0(const void* w, const void* x, std::int64_t n);
float dot_q4_0(const void* w, const void* x, std::int64_t n);
float dot_q4_k(const void* w, const void* x, std::int64_t n);
float dot_q6_k(const void* w, const void* x, std::int64_t n);
void dot4_f16(const void* w, const void* x, std::size_t x_stride, std::int64_t n, float* out);
void dot4_q8_0(const void* w, const void* x, std::size_t x_stride, std::int64_t n, float* out);
void dot4_q4_k(const void* w, const void* x, std::size_t x_stride, std::int64_t n, float* out);
void dot4_q6_k(const void* w, const void* x, std::size_t x_stride, std::int64_t n, float* out);
// Activation quantizers, same output as the scalar quantize_row.
void quantize_row_q8_0(const float* x, void* dst, std::int64_t n);
void quantize_row_q8_k(const float* x, void* dst, std::int64_t n);
}  // namespace avx2

// q8_0 weights interleaved sixteen rows at a time: for each 32-element block,
// the sixteen rows' scales, then for each 4-byte group g the sixteen rows'
// bytes of that group (64 bytes, row-major) with 128 added to every weight
// (unsigned for vpdpbusd). One 512-bit multiply-add then covers a group of
// sixteen rows against one broadcast group of a token, and every 32-bit lane
// belongs to one row, so no lanes are summed across. Same size as the rows.
struct block_q8_0x16 {
  std::uint16_t d[16];
  std::uint8_t qs[512];
};
static_assert(sizeof(block_q8_0x16) == 16 * sizeof(block_q8_0));
inline constexpr std::int64_t packed_rows = 16;
// Whether matmul can use packed weights on this CPU (AVX-512 VNNI, BW, VL).
bool packed_product_available();
// Activations for the packed product, per token and block: the 32 quantized
// values, the block's scale as a float and -128 x the sum of the values (the
// correction for the +128 on the weights).
struct block_q8_0_summed {
  std::int8_t qs[32];
  float d;
  std::int32_t offset_correction;
};

// q4_k weights interleaved sixteen rows at a time, per 256-element super-block:
// the rows' f16 d and dmin, each 32-element sub-block's 6-bit scale and the
// mins as pairs (m[2p], m[2p+1]) per row, then per sub-block four 64-byte
// lines (16 rows x 4 bytes): line i holds group i in its low nibbles and group
// i + 4 in its high nibbles. Unsigned 4-bit weights go straight into
// vpdpbusd. 2,368 bytes for 16 x 144.
struct block_q4_kx16 {
  std::uint16_t d[16];
  std::uint16_t dmin[16];
  std::uint8_t scales[8][16];
  std::uint8_t mins[4][32];
  std::uint8_t qs[8][4][64];
};
static_assert(sizeof(block_q4_kx16) == 2368);
// q6_k weights sixteen rows at a time, per super-block: the rows' f16 d and
// each 16-element sub-block's int8 scale per row (padded to whole cache
// lines), then per sub-block two lines of low nibbles (line i: group i low,
// group i + 2 high) and one line of the high two bits (group i at bits 2i,
// 2i+1), so the product reads one forward stream of aligned lines. The 6-bit
// values 0..63 are unsigned; -32 is applied through the activations' block
// sums. 3,392 bytes for 16 x 210.
struct block_q6_kx16 {
  std::uint16_t d[16];
  std::int8_t scales[16][16];
  std::uint8_t padding[32];
  struct sub_block {
    std::uint8_t ql[2][64];
    std::uint8_t qh[64];
  } sub[16];
};
static_assert(sizeof(block_q6_kx16) == 3392 && sizeof(block_q6_kx16) % 64 == 0);
// f16 weights sixteen rows at a time: for each pair of columns, the sixteen
// rows' values of the first column, then of the second (one 64-byte line).
// Same size as the rows.
struct block_f16x16 {
  std::uint16_t w[2][16];
};
static_assert(sizeof(block_f16x16) == 64);
// Two consecutive activations, the packed f16 product's unit of input.
struct f32_pair {
  float x[2];
};
// Whether w can be packed for the AVX-512 products (q8_0, q4_k, q6_k or f16,
// rows a multiple of 16) and how many bytes the packed copy takes.
bool packable_rows16(const tensor_view& w);
std::size_t packed_rows16_bytes(const tensor_view& w);
// Packs w into out (packed_rows16_bytes(w) bytes); input_error if not packable.
void pack_rows16(const tensor_view& w, std::byte* out);

namespace vnni {
// Defined in quants_vnni.cpp (compiled with AVX-512 VNNI/VL/BW on top of AVX2);
// call only when detect_cpu_features() reports avx512vnni, avx512vl and
// avx512bw as well. The integer block sums are the AVX2 kernels' sums made by
// one vpdpbusd instead of maddubs + madd, and the float steps are the same, so
// results are bit-identical to the AVX2 kernels.
bool compiled();
float dot_q8_0(const void* w, const void* x, std::int64_t n);
// Eight F32 rows (w, w + w_stride floats, ...) dotted with one activation row
// x, out[0..7]: each exactly avx2::dot_f32's result (single-token order) or,
// with prompt_order (n a multiple of 8), dot_f32_prompt's; the rows' chains
// and reductions run side by side in 32 registers.
void dot8_f32(const float* w, std::int64_t w_stride, const float* x, std::int64_t n, bool prompt_order, float* out);
// One token's q8_0 row (n/32 blocks) with the sums the packed product needs.
void sum_q8_0(const block_q8_0* x, std::int64_t n_blocks, block_q8_0_summed* out);
// y[t*y_stride + r] for the 16 rows of one packed group and tokens [0, n_tokens):
// Σ_k (d_w·d_x)·(Σ (w+128)·x − 128·Σx) accumulated block by block in one float
// chain per row and token, the same steps for any n_tokens, so a token's
// result does not depend on the batch it came in.
void gemm_q8_0x16(const block_q8_0x16* w, std::int64_t n_blocks, const block_q8_0_summed* x,
                  std::size_t x_stride_blocks, std::int64_t n_tokens, float* y, std::int64_t y_stride);
// The same for packed q4_k / q6_k against q8_k activations (one float chain per
// row and token, sub-block after sub-block).
void gemm_q4_kx16(const block_q4_kx16* w, std::int64_t n_blocks, const block_q8_k* x, std::size_t x_stride_blocks,
                  std::int64_t n_tokens, float* y, std::int64_t y_stride);
void gemm_q6_kx16(const block_q6_kx16* w, std::int64_t n_blocks, const block_q8_k* x, std::size_t x_stride_blocks,
                  std::int64_t n_tokens, float* y, std::int64_t y_stride);
// Packed f16 against f32 activations: per row and token two float FMA chains
// (even and odd columns), added at the end.
void gemm_f16x16(const block_f16x16* w, std::int64_t n_pairs, const f32_pair* x, std::size_t x_stride_pairs,
                 std::int64_t n_tokens, float* y, std::int64_t y_stride);
void dot4_q8_0(const void* w, const void* x, std::size_t x_stride, std::int64_t n, float* out);
}  // namespace vnni

}  // namespace huashan::engine
