// Half-precision conversions and the per-type dispatch of quants.hpp.
#include "harness/engine/quants.hpp"

#include <fmt/format.h>

#include <atomic>
#include <bit>
#include <cmath>
#include <cstring>

#include "common/error.hpp"
#include "harness/engine/cpu_features.hpp"
#include "harness/engine/quants_internal.hpp"

namespace huashan::engine {

float fp16_to_f32(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exp = (h >> 10) & 0x1fu;
  const std::uint32_t mant = h & 0x3ffu;
  if (exp == 0) {
    // Zero or subnormal: mant * 2^-24.
    const float v = static_cast<float>(mant) * 5.9604644775390625e-8f;
    return sign != 0 ? -v : v;
  }
  if (exp == 31) return std::bit_cast<float>(sign | 0x7f800000u | (mant << 13));
  return std::bit_cast<float>(sign | ((exp + 112) << 23) | (mant << 13));
}

std::uint16_t f32_to_fp16(float f) {
  const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
  const auto sign = static_cast<std::uint16_t>((x >> 16) & 0x8000u);
  const std::uint32_t ax = x & 0x7fffffffu;
  if (ax >= 0x7f800000u) return static_cast<std::uint16_t>(sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u : 0u));
  if (ax >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);  // >= 65520 rounds to infinity
  if (ax < 0x38800000u) {
    // Below the smallest normal 2^-14: a subnormal of step 2^-24 (scaling by 2^24 is exact).
    const auto m = static_cast<std::uint32_t>(std::nearbyint(std::bit_cast<float>(ax) * 16777216.0f));
    return static_cast<std::uint16_t>(sign | m);
  }
  std::uint32_t h = (((ax >> 23) - 112) << 10) | ((ax & 0x7fffffu) >> 13);
  const std::uint32_t rest = ax & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u) != 0)) ++h;  // a carry into the exponent is correct
  return static_cast<std::uint16_t>(sign | h);
}

float bf16_to_f32(std::uint16_t h) { return std::bit_cast<float>(static_cast<std::uint32_t>(h) << 16); }

std::uint16_t f32_to_bf16(float f) {
  const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((x >> 16) | 0x40u);  // quiet NaN
  return static_cast<std::uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

tensor_type vec_dot_type(tensor_type t) {
  switch (t) {
    case tensor_type::q8_0:
    case tensor_type::q4_0: return tensor_type::q8_0;
    case tensor_type::q4_k:
    case tensor_type::q6_k: return tensor_type::q8_k;
    default: return tensor_type::f32;
  }
}

bool has_kernels(tensor_type t) {
  switch (t) {
    case tensor_type::f32:
    case tensor_type::f16:
    case tensor_type::bf16:
    case tensor_type::q8_0:
    case tensor_type::q4_0:
    case tensor_type::q4_k:
    case tensor_type::q6_k: return true;
    default: return false;
  }
}

namespace {

[[noreturn]] void no_kernels(tensor_type t, std::string_view what) {
  throw input_error(fmt::format("tensor type {} has no {} kernel (supported: f32, f16, bf16, q8_0, q4_0, q4_k, q6_k)",
                                traits_of(t).name, what));
}

void check_blocks(tensor_type t, std::int64_t n) {
  const auto bs = traits_of(t).block_size;
  if (bs <= 0 || n % bs != 0) {
    throw input_error(fmt::format("{} elements are not a whole number of {} blocks of {}", n, traits_of(t).name, bs));
  }
}

std::atomic<kernel_isa> isa_limit{kernel_isa::avx512};

bool use_avx2() {
  static const bool ok = [] {
    const auto& f = detect_cpu_features();
    return avx2::compiled() && f.avx2 && f.fma && f.f16c;
  }();
  return ok && isa_limit.load(std::memory_order_relaxed) >= kernel_isa::avx2;
}

bool use_vnni() {
  static const bool ok = [] {
    const auto& f = detect_cpu_features();
    return vnni::compiled() && f.avx512vnni && f.avx512vl && f.avx512bw && f.avx512dq;
  }();
  return ok && use_avx2() && isa_limit.load(std::memory_order_relaxed) >= kernel_isa::avx512;
}

}  // namespace

void limit_kernel_isa(kernel_isa isa) { isa_limit.store(isa, std::memory_order_relaxed); }

kernel_isa kernel_isa_limit() { return isa_limit.load(std::memory_order_relaxed); }

void dequantize_row(tensor_type t, const void* src, float* dst, std::int64_t n) {
  check_blocks(t, n);
  switch (t) {
    case tensor_type::f32: std::memcpy(dst, src, static_cast<std::size_t>(n) * sizeof(float)); return;
    case tensor_type::f16: {
      const auto* h = static_cast<const std::uint16_t*>(src);
      for (std::int64_t i = 0; i < n; ++i) dst[i] = fp16_to_f32(h[i]);
      return;
    }
    case tensor_type::bf16: {
      const auto* h = static_cast<const std::uint16_t*>(src);
      for (std::int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(h[i]);
      return;
    }
    case tensor_type::q8_0: dequantize_q8_0(static_cast<const block_q8_0*>(src), dst, n); return;
    case tensor_type::q4_0: dequantize_q4_0(static_cast<const block_q4_0*>(src), dst, n); return;
    case tensor_type::q4_k: dequantize_q4_k(static_cast<const block_q4_k*>(src), dst, n); return;
    case tensor_type::q6_k: dequantize_q6_k(static_cast<const block_q6_k*>(src), dst, n); return;
    case tensor_type::q8_k: dequantize_q8_k(static_cast<const block_q8_k*>(src), dst, n); return;
    default: no_kernels(t, "dequantize");
  }
}

void quantize_row(tensor_type t, const float* src, void* dst, std::int64_t n) {
  check_blocks(t, n);
  switch (t) {
    case tensor_type::f32: std::memcpy(dst, src, static_cast<std::size_t>(n) * sizeof(float)); return;
    case tensor_type::f16: {
      auto* h = static_cast<std::uint16_t*>(dst);
      for (std::int64_t i = 0; i < n; ++i) h[i] = f32_to_fp16(src[i]);
      return;
    }
    case tensor_type::bf16: {
      auto* h = static_cast<std::uint16_t*>(dst);
      for (std::int64_t i = 0; i < n; ++i) h[i] = f32_to_bf16(src[i]);
      return;
    }
    case tensor_type::q8_0:
      if (use_avx2()) {
        avx2::quantize_row_q8_0(src, dst, n);
      } else {
        quantize_q8_0(src, static_cast<block_q8_0*>(dst), n);
      }
      return;
    case tensor_type::q4_0: quantize_q4_0(src, static_cast<block_q4_0*>(dst), n); return;
    case tensor_type::q4_k: quantize_q4_k(src, static_cast<block_q4_k*>(dst), n); return;
    case tensor_type::q6_k: quantize_q6_k(src, static_cast<block_q6_k*>(dst), n); return;
    case tensor_type::q8_k:
      if (use_avx2()) {
        avx2::quantize_row_q8_k(src, dst, n);
      } else {
        quantize_q8_k(src, static_cast<block_q8_k*>(dst), n);
      }
      return;
    default: no_kernels(t, "quantize");
  }
}

dot_fn dot_kernel_scalar(tensor_type t) {
  switch (t) {
    case tensor_type::f32: return scalar::dot_f32;
    case tensor_type::f16: return scalar::dot_f16;
    case tensor_type::bf16: return scalar::dot_bf16;
    case tensor_type::q8_0: return scalar::dot_q8_0;
    case tensor_type::q4_0: return scalar::dot_q4_0;
    case tensor_type::q4_k: return scalar::dot_q4_k;
    case tensor_type::q6_k: return scalar::dot_q6_k;
    default: return nullptr;
  }
}

dot_fn dot_kernel_avx2(tensor_type t) {
  if (!use_avx2()) return nullptr;
  switch (t) {
    case tensor_type::f32: return avx2::dot_f32;
    case tensor_type::f16: return avx2::dot_f16;
    case tensor_type::bf16: return avx2::dot_bf16;
    case tensor_type::q8_0: return avx2::dot_q8_0;
    case tensor_type::q4_0: return avx2::dot_q4_0;
    case tensor_type::q4_k: return avx2::dot_q4_k;
    case tensor_type::q6_k: return avx2::dot_q6_k;
    default: return nullptr;
  }
}

dot_fn dot_kernel_vnni(tensor_type t) {
  if (!use_vnni()) return nullptr;
  switch (t) {
    case tensor_type::q8_0: return vnni::dot_q8_0;
    default: return nullptr;
  }
}

dot_fn dot_f32_prompt_kernel() { return use_avx2() ? avx2::dot_f32_prompt : scalar::dot_f32_prompt; }

dot8_f32_fn dot8_f32_kernel() { return use_vnni() ? vnni::dot8_f32 : nullptr; }

dot4_fn dot4_kernel(tensor_type t) {
  if (!use_avx2()) return nullptr;
  if (use_vnni() && t == tensor_type::q8_0) return vnni::dot4_q8_0;
  switch (t) {
    case tensor_type::f16: return avx2::dot4_f16;
    case tensor_type::q8_0: return avx2::dot4_q8_0;
    case tensor_type::q4_k: return avx2::dot4_q4_k;
    case tensor_type::q6_k: return avx2::dot4_q6_k;
    default: return nullptr;
  }
}

dot_fn dot_kernel(tensor_type t) {
  if (dot_fn f = dot_kernel_vnni(t)) return f;
  if (dot_fn f = dot_kernel_avx2(t)) return f;
  return dot_kernel_scalar(t);
}

float dot_row(tensor_type t, const void* w, const void* x, std::int64_t n) {
  const dot_fn f = dot_kernel(t);
  if (f == nullptr) no_kernels(t, "dot product");
  check_blocks(t, n);
  return f(w, x, n);
}

bool packed_product_available() { return use_vnni(); }


namespace {

void pack_q8_0_rows16(const tensor_view& w, std::byte* out) {
  const std::int64_t nb = w.ne[0] / qk8_0;
  auto* packed = reinterpret_cast<block_q8_0x16*>(out);
  for (std::int64_t g = 0; g < w.n_rows() / packed_rows; ++g) {
    const block_q8_0* rows[packed_rows];
    for (int r = 0; r < packed_rows; ++r)
      rows[r] = reinterpret_cast<const block_q8_0*>(w.row(packed_rows * g + r));
    for (std::int64_t k = 0; k < nb; ++k) {
      block_q8_0x16& p = packed[g * nb + k];
      for (int r = 0; r < packed_rows; ++r) p.d[r] = rows[r][k].d;
      for (int group = 0; group < qk8_0 / 4; ++group)
        for (int r = 0; r < packed_rows; ++r)
          for (int i = 0; i < 4; ++i)
            p.qs[group * 64 + r * 4 + i] = static_cast<std::uint8_t>(rows[r][k].qs[group * 4 + i] + 128);
    }
  }
}

void pack_q4_k_rows16(const tensor_view& w, std::byte* out) {
  const std::int64_t nb = w.ne[0] / qk_k;
  auto* packed = reinterpret_cast<block_q4_kx16*>(out);
  for (std::int64_t g = 0; g < w.n_rows() / packed_rows; ++g) {
    const block_q4_k* rows[16];
    for (int r = 0; r < 16; ++r) rows[r] = reinterpret_cast<const block_q4_k*>(w.row(16 * g + r));
    for (std::int64_t k = 0; k < nb; ++k) {
      block_q4_kx16& p = packed[g * nb + k];
      for (int r = 0; r < 16; ++r) {
        const block_q4_k& b = rows[r][k];
        p.d[r] = b.d;
        p.dmin[r] = b.dmin;
        for (int j = 0; j < 8; ++j) {
          int sc = 0, m = 0;
          q4_k_scale_min(j, b.scales, sc, m);
          p.scales[j][r] = static_cast<std::uint8_t>(sc);
          p.mins[j / 2][2 * r + j % 2] = static_cast<std::uint8_t>(m);
        }
        for (int j = 0; j < 8; ++j) {
          // Sub-block j is the low (even j) or high (odd j) nibbles of qs[32·(j/2) ..];
          // a row's byte e of line i holds elements 4i + e (low) and 16 + 4i + e (high).
          const std::uint8_t* q = b.qs + 32 * (j / 2);
          const int shift = 4 * (j % 2);
          for (int i = 0; i < 4; ++i)
            for (int e = 0; e < 4; ++e) {
              const int lo = (q[4 * i + e] >> shift) & 0x0f;
              const int hi = (q[16 + 4 * i + e] >> shift) & 0x0f;
              p.qs[j][i][4 * r + e] = static_cast<std::uint8_t>(lo | (hi << 4));
            }
        }
      }
    }
  }
}

void pack_q6_k_rows16(const tensor_view& w, std::byte* out) {
  const std::int64_t nb = w.ne[0] / qk_k;
  auto* packed = reinterpret_cast<block_q6_kx16*>(out);
  std::int8_t q[qk_k];
  for (std::int64_t g = 0; g < w.n_rows() / packed_rows; ++g) {
    for (int r = 0; r < 16; ++r) {
      const auto* row = reinterpret_cast<const block_q6_k*>(w.row(16 * g + r));
      for (std::int64_t k = 0; k < nb; ++k) {
        block_q6_kx16& p = packed[g * nb + k];
        p.d[r] = row[k].d;
        q6_k_unpack(row[k], q);
        for (int j = 0; j < 16; ++j) {
          p.scales[j][r] = row[k].scales[j];
          for (int e = 0; e < 16; ++e) {
            const auto v = static_cast<std::uint8_t>(q[16 * j + e] + 32);  // 0..63
            const int group = e / 4;
            const int at = 4 * r + e % 4;
            std::uint8_t& lo = p.sub[j].ql[group % 2][at];
            lo = static_cast<std::uint8_t>(group < 2 ? (lo & 0xf0) | (v & 0x0f) : (lo & 0x0f) | ((v & 0x0f) << 4));
            std::uint8_t& hi = p.sub[j].qh[at];
            hi = static_cast<std::uint8_t>((hi & ~(3 << (2 * group))) | ((v >> 4) << (2 * group)));
          }
        }
      }
    }
  }
}

void pack_f16_rows16(const tensor_view& w, std::byte* out) {
  const std::int64_t n_pairs = w.ne[0] / 2;
  auto* packed = reinterpret_cast<block_f16x16*>(out);
  for (std::int64_t g = 0; g < w.n_rows() / packed_rows; ++g) {
    const std::uint16_t* rows[16];
    for (int r = 0; r < 16; ++r) rows[r] = reinterpret_cast<const std::uint16_t*>(w.row(16 * g + r));
    // Block by block (each written whole), reading the sixteen rows side by side.
    for (std::int64_t k = 0; k < n_pairs; ++k) {
      block_f16x16& p = packed[g * n_pairs + k];
      for (int r = 0; r < 16; ++r) {
        p.w[0][r] = rows[r][2 * k];
        p.w[1][r] = rows[r][2 * k + 1];
      }
    }
  }
}

}  // namespace

bool packable_rows16(const tensor_view& w) {
  if (w.n_rows() % packed_rows != 0) return false;
  switch (w.type) {
    case tensor_type::q8_0: return w.ne[0] % qk8_0 == 0;
    case tensor_type::q4_k:
    case tensor_type::q6_k: return w.ne[0] % qk_k == 0;
    case tensor_type::f16: return w.ne[0] % 2 == 0;
    default: return false;
  }
}

std::size_t packed_rows16_bytes(const tensor_view& w) {
  if (!packable_rows16(w)) return 0;
  const auto groups = static_cast<std::size_t>(w.n_rows() / packed_rows);
  switch (w.type) {
    case tensor_type::q4_k: return groups * static_cast<std::size_t>(w.ne[0] / qk_k) * sizeof(block_q4_kx16);
    case tensor_type::q6_k: return groups * static_cast<std::size_t>(w.ne[0] / qk_k) * sizeof(block_q6_kx16);
    default: return w.n_bytes;
  }
}

void pack_rows16(const tensor_view& w, std::byte* out) {
  if (!packable_rows16(w)) {
    throw input_error(fmt::format("pack_rows16: tensor '{}' ({}, {} rows) is not q8_0, q4_k, q6_k or f16 with a "
                                  "multiple of 16 rows",
                                  w.name, traits_of(w.type).name, w.n_rows()));
  }
  std::memset(out, 0, packed_rows16_bytes(w));  // the packers fill bit fields in place
  switch (w.type) {
    case tensor_type::q8_0: pack_q8_0_rows16(w, out); break;
    case tensor_type::q4_k: pack_q4_k_rows16(w, out); break;
    case tensor_type::q6_k: pack_q6_k_rows16(w, out); break;
    default: pack_f16_rows16(w, out); break;
  }
}

}  // namespace huashan::engine
