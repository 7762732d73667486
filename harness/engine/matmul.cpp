// Matrix products over weight rows. Activations are converted once per call to
// the weight type's vec_dot_type; then each thread takes chunks of output rows
// and, for a tile of tokens, dots every row of its chunk with every token of
// the tile, so a weight row is read from memory once per tile, not per token.
#include "harness/engine/matmul.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <vector>

#include "common/error.hpp"
#include "harness/engine/quants.hpp"

namespace huashan::engine {

namespace {

// Tokens per tile: their quantized activations (≤ 64 x ~3.3 KB for n_in 3072)
// stay in L2 while a chunk of weight rows is swept.
constexpr std::int64_t token_tile = 64;
// Smallest number of output rows a thread claims at once.
constexpr std::int64_t row_grain = 8;

void check_weight(const tensor_view& w, std::string_view op) {
  if (!has_kernels(w.type)) {
    throw input_error(fmt::format("{}: tensor '{}' has type {}, which has no CPU kernels (supported: f32, f16, bf16, "
                                  "q8_0, q4_0, q4_k, q6_k)",
                                  op, w.name, traits_of(w.type).name));
  }
  const auto bs = traits_of(w.type).block_size;
  if (w.ne[0] % bs != 0) {
    throw input_error(fmt::format("{}: tensor '{}' row length {} is not a multiple of the {} block size {}", op,
                                  w.name, w.ne[0], traits_of(w.type).name, bs));
  }
}

}  // namespace

namespace {

// Weights packed sixteen rows at a time (AVX-512 VNNI; quants.hpp): the
// activations are quantized once (q8_0 with block sums, or q8_k, or left as
// float pairs for f16), then each thread takes groups of sixteen output rows
// and sweeps token tiles over them. One call may hold several weights with the
// same input and activation format (q, k, v), their row groups in one loop.
// Weights one matmul_packed call takes at most (q, k and v need three).
constexpr std::size_t max_shared_outputs = 4;

struct packed_kind {
  int activation = 0;             // weights of the same value share prepared activations
  std::int64_t block_size = 1;    // input elements per activation unit
  std::size_t act_bytes = 0;      // bytes per activation unit
  std::size_t packed_bytes = 0;   // bytes per packed unit (sixteen rows of one block)
  void (*prepare)(const float* in, void* out, std::int64_t n) = nullptr;
  void (*gemm)(const void* w, std::int64_t n_units, const void* x, std::size_t x_stride_units, std::int64_t n_tokens,
               float* y, std::int64_t y_stride) = nullptr;
};

void prepare_q8_k(const float* in, void* out, std::int64_t n) { quantize_row(tensor_type::q8_k, in, out, n); }

void prepare_q8_0_summed(const float* in, void* out, std::int64_t n) {
  thread_local std::vector<block_q8_0> row;
  row.resize(static_cast<std::size_t>(n / qk8_0));
  quantize_row(tensor_type::q8_0, in, row.data(), n);
  vnni::sum_q8_0(row.data(), n / qk8_0, static_cast<block_q8_0_summed*>(out));
}

void prepare_f32_pairs(const float* in, void* out, std::int64_t n) {
  std::memcpy(out, in, sizeof(float) * static_cast<std::size_t>(n));
}

// The typed products behind one signature.
template <class Packed, class Act,
          void (*Gemm)(const Packed*, std::int64_t, const Act*, std::size_t, std::int64_t, float*, std::int64_t)>
void gemm_erased(const void* w, std::int64_t n_units, const void* x, std::size_t x_stride_units, std::int64_t n_tokens,
                 float* y, std::int64_t y_stride) {
  Gemm(static_cast<const Packed*>(w), n_units, static_cast<const Act*>(x), x_stride_units, n_tokens, y, y_stride);
}

template <class Packed, class Act,
          void (*Gemm)(const Packed*, std::int64_t, const Act*, std::size_t, std::int64_t, float*, std::int64_t)>
packed_kind make_kind(int activation, std::int64_t block_size, void (*prepare)(const float*, void*, std::int64_t)) {
  static_assert(alignof(Act) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);
  return {activation, block_size, sizeof(Act), sizeof(Packed), prepare, gemm_erased<Packed, Act, Gemm>};
}

packed_kind kind_of(const tensor_view& w) {
  switch (w.type) {
    case tensor_type::q8_0:
      return make_kind<block_q8_0x16, block_q8_0_summed, vnni::gemm_q8_0x16>(1, qk8_0, prepare_q8_0_summed);
    case tensor_type::q4_k:
      return make_kind<block_q4_kx16, block_q8_k, vnni::gemm_q4_kx16>(2, qk_k, prepare_q8_k);
    case tensor_type::q6_k:
      return make_kind<block_q6_kx16, block_q8_k, vnni::gemm_q6_kx16>(2, qk_k, prepare_q8_k);
    case tensor_type::f16:
      return make_kind<block_f16x16, f32_pair, vnni::gemm_f16x16>(3, 2, prepare_f32_pairs);
    default:
      throw input_error(fmt::format("matmul: tensor '{}' has packed weights of type {}, which has no packed product",
                                    w.name, traits_of(w.type).name));
  }
}

void matmul_packed(std::span<const matmul_output> outs, const float* x, std::int64_t n_tokens, thread_pool& pool) {
  packed_kind kinds[max_shared_outputs];
  std::int64_t first_group[max_shared_outputs + 1] = {};
  for (std::size_t i = 0; i < outs.size(); ++i) {
    kinds[i] = kind_of(*outs[i].w);
    first_group[i + 1] = first_group[i] + outs[i].w->n_rows() / packed_rows;
  }
  const packed_kind& k0 = kinds[0];
  const std::int64_t n_in = outs[0].w->ne[0];
  const std::int64_t nb = n_in / k0.block_size;
  const std::size_t x_stride = static_cast<std::size_t>(nb) * k0.act_bytes;
  thread_local std::vector<std::byte> activations;
  activations.resize(x_stride * static_cast<std::size_t>(n_tokens));
  std::byte* xs = activations.data();  // the caller's buffer: pool threads fill it
  auto prepare = [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t t = begin; t < end; ++t) k0.prepare(x + t * n_in, xs + static_cast<std::size_t>(t) * x_stride, n_in);
  };
  if (n_tokens >= 8) {
    pool.parallel_for(n_tokens, prepare, 2);
  } else {
    prepare(0, n_tokens);
  }
  pool.parallel_for(
      first_group[outs.size()],
      [&](std::int64_t group_begin, std::int64_t group_end) {
        for (std::int64_t t0 = 0; t0 < n_tokens; t0 += token_tile) {
          const std::int64_t t1 = std::min(n_tokens, t0 + token_tile);
          std::size_t i = 0;
          for (std::int64_t g = group_begin; g < group_end; ++g) {
            while (g >= first_group[i + 1]) ++i;
            const packed_kind& k = kinds[i];
            const std::int64_t n_out = outs[i].w->n_rows();
            const std::int64_t local = g - first_group[i];
            const auto* packed = static_cast<const std::byte*>(outs[i].w->packed) +
                                 static_cast<std::size_t>(local * nb) * k.packed_bytes;
            k.gemm(packed, nb, xs + static_cast<std::size_t>(t0) * x_stride, static_cast<std::size_t>(nb), t1 - t0,
                   outs[i].y + t0 * n_out + packed_rows * local, n_out);
          }
        }
      },
      1);
}

}  // namespace

void matmul_shared_input(std::span<const matmul_output> outs, const float* x, std::int64_t n_tokens,
                         thread_pool& pool, const std::uint8_t* prompt_rows) {
  if (n_tokens <= 0 || outs.empty()) return;
  bool fused = outs.size() <= max_shared_outputs && packed_product_available();
  for (const auto& o : outs) {
    check_weight(*o.w, "matmul");
    fused = fused && o.w->packed != nullptr && o.w->ne[0] == outs[0].w->ne[0] &&
            kind_of(*o.w).activation == kind_of(*outs[0].w).activation;
  }
  if (!fused) {
    for (const auto& o : outs) matmul(*o.w, x, n_tokens, o.y, pool, prompt_rows);
    return;
  }
  matmul_packed(outs, x, n_tokens, pool);
}

void matmul(const tensor_view& w, const float* x, std::int64_t n_tokens, float* y, thread_pool& pool,
            const std::uint8_t* prompt_rows) {
  check_weight(w, "matmul");
  if (n_tokens <= 0) return;
  if (w.packed != nullptr && packed_product_available()) {
    const matmul_output one{&w, y};
    matmul_packed({&one, 1}, x, n_tokens, pool);
    return;
  }
  const std::int64_t n_in = w.ne[0];
  const std::int64_t n_out = w.n_rows();
  const tensor_type vt = vec_dot_type(w.type);
  const dot_fn dot = dot_kernel(w.type);
  const dot4_fn dot4 = dot4_kernel(w.type);  // batches: 4 tokens per weight-row read
  // F32 rows of a prompt: llama.cpp's prompt path (tinyBLAS) where its shape
  // allows (rows % 4, columns % 8), its vector dot otherwise.
  const bool prompt_order = prompt_order_matters(w);
  const dot_fn prompt_dot = prompt_order ? dot_f32_prompt_kernel() : dot;
  const dot8_f32_fn dot8 = w.type == tensor_type::f32 ? dot8_f32_kernel() : nullptr;
  const std::size_t w_stride = row_bytes(w.type, n_in);
  const auto* w_base = static_cast<const std::byte*>(w.data);

  // Activations in the dot format: n_tokens rows of x_stride bytes.
  const std::byte* xq = reinterpret_cast<const std::byte*>(x);
  std::size_t x_stride = static_cast<std::size_t>(n_in) * sizeof(float);
  thread_local std::vector<std::byte> x_buffer;
  if (vt != tensor_type::f32) {
    x_stride = row_bytes(vt, n_in);
    x_buffer.resize(x_stride * static_cast<std::size_t>(n_tokens));
    std::byte* dst = x_buffer.data();
    auto quantize_tokens = [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t t = begin; t < end; ++t) {
        quantize_row(vt, x + t * n_in, dst + static_cast<std::size_t>(t) * x_stride, n_in);
      }
    };
    if (n_tokens >= 8) {
      pool.parallel_for(n_tokens, quantize_tokens, 2);
    } else {
      quantize_tokens(0, n_tokens);
    }
    xq = x_buffer.data();
  }

  pool.parallel_for(
      n_out,
      [&](std::int64_t row_begin, std::int64_t row_end) {
        for (std::int64_t t0 = 0; t0 < n_tokens; t0 += token_tile) {
          const std::int64_t t1 = std::min(n_tokens, t0 + token_tile);
          std::int64_t o = row_begin;
          // F32: eight rows at a time per token where the CPU allows (same bits as one by one).
          for (; dot8 != nullptr && o + 8 <= row_end; o += 8) {
            const auto* w_rows = reinterpret_cast<const float*>(w_base + static_cast<std::size_t>(o) * w_stride);
            for (std::int64_t t = t0; t < t1; ++t) {
              const bool prompt_row = prompt_order && prompt_rows != nullptr && prompt_rows[t] != 0;
              float out[8];
              dot8(w_rows, n_in, x + t * n_in, n_in, prompt_row, out);
              for (int k = 0; k < 8; ++k) y[t * n_out + o + k] = out[k];
            }
          }
          for (; o < row_end; ++o) {
            const std::byte* w_row = w_base + static_cast<std::size_t>(o) * w_stride;
            std::int64_t t = t0;
            if (dot4 != nullptr) {
              float out[4];
              for (; t + 4 <= t1; t += 4) {
                dot4(w_row, xq + static_cast<std::size_t>(t) * x_stride, x_stride, n_in, out);
                for (int k = 0; k < 4; ++k) y[(t + k) * n_out + o] = out[k];
              }
            }
            for (; t < t1; ++t) {
              const dot_fn f = prompt_rows != nullptr && prompt_rows[t] != 0 ? prompt_dot : dot;
              y[t * n_out + o] = f(w_row, xq + static_cast<std::size_t>(t) * x_stride, n_in);
            }
          }
        }
      },
      row_grain);
}

bool prompt_order_matters(const tensor_view& w) {
  return w.type == tensor_type::f32 && w.n_rows() % 4 == 0 && w.ne[0] % 8 == 0;
}

void matmul_reference(const tensor_view& w, const float* x, std::int64_t n_tokens, float* y) {
  check_weight(w, "matmul_reference");
  const std::int64_t n_in = w.ne[0];
  const std::int64_t n_out = w.n_rows();
  const std::size_t w_stride = row_bytes(w.type, n_in);
  std::vector<float> row(static_cast<std::size_t>(n_in));
  for (std::int64_t o = 0; o < n_out; ++o) {
    dequantize_row(w.type, static_cast<const std::byte*>(w.data) + static_cast<std::size_t>(o) * w_stride, row.data(),
                   n_in);
    for (std::int64_t t = 0; t < n_tokens; ++t) {
      double sum = 0.0;
      for (std::int64_t i = 0; i < n_in; ++i) sum += static_cast<double>(row[i]) * x[t * n_in + i];
      y[t * n_out + o] = static_cast<float>(sum);
    }
  }
}

void get_rows(const tensor_view& w, std::span<const std::int32_t> ids, float* out) {
  check_weight(w, "get_rows");
  const std::int64_t n_in = w.ne[0];
  const std::int64_t n_rows = w.n_rows();
  const std::size_t stride = row_bytes(w.type, n_in);
  for (std::size_t k = 0; k < ids.size(); ++k) {
    if (ids[k] < 0 || ids[k] >= n_rows) {
      throw input_error(fmt::format("get_rows: id {} outside tensor '{}' with {} rows", ids[k], w.name, n_rows));
    }
    dequantize_row(w.type, static_cast<const std::byte*>(w.data) + static_cast<std::size_t>(ids[k]) * stride,
                   out + static_cast<std::int64_t>(k) * n_in, n_in);
  }
}

void dequantize_tensor(const tensor_view& w, float* out) {
  check_weight(w, "dequantize_tensor");
  const std::int64_t n_in = w.ne[0];
  const std::size_t stride = row_bytes(w.type, n_in);
  for (std::int64_t r = 0; r < w.n_rows(); ++r) {
    dequantize_row(w.type, static_cast<const std::byte*>(w.data) + static_cast<std::size_t>(r) * stride,
                   out + r * n_in, n_in);
  }
}

}  // namespace huashan::engine
