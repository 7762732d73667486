// IEEE half <-> float conversion for the KV cache (bit exact, round to nearest even).
// Kept local to the cache and attention so the model code does not depend on the
// quantization kernels; the compiler turns these into F16C instructions when allowed.
#pragma once

#include <cstdint>
#include <cstring>

namespace huashan::engine::kv {

// float -> half bits, round to nearest even; overflow becomes infinity, NaN stays NaN.
inline std::uint16_t float_to_half(float f) {
  std::uint32_t x;
  std::memcpy(&x, &f, 4);
  const std::uint32_t sign = (x >> 16) & 0x8000u;
  const std::uint32_t abs = x & 0x7fffffffu;
  if (abs > 0x7f800000u) return static_cast<std::uint16_t>(sign | 0x7e00u);  // NaN
  if (abs >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);  // rounds to inf
  if (abs < 0x38800000u) {  // subnormal half (or zero): value = m * 2^-24
    // Add 0.5 (as float) so the FPU rounds the mantissa for us, then take the low bits.
    float a;
    std::uint32_t ab = abs;
    std::memcpy(&a, &ab, 4);
    a += 0.5f;
    std::uint32_t r;
    std::memcpy(&r, &a, 4);
    return static_cast<std::uint16_t>(sign | (r - 0x3f000000u));
  }
  // Normal: rebias exponent (127 -> 15) and round the 13 dropped mantissa bits to even.
  const std::uint32_t mant_odd = (abs >> 13) & 1u;
  std::uint32_t h = abs + 0xc8000fffu + mant_odd;  // -(112 << 23) + rounding bias
  return static_cast<std::uint16_t>(sign | (h >> 13));
}

// half bits -> float (exact).
inline float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exp = (h >> 10) & 0x1fu;
  const std::uint32_t mant = h & 0x3ffu;
  std::uint32_t bits;
  if (exp == 0) {
    // zero or subnormal: mant * 2^-24
    float v = static_cast<float>(mant) * 5.9604644775390625e-08f;
    std::memcpy(&bits, &v, 4);
    bits |= sign;
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 112u) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// dst[i] = float_to_half(src[i]) for i < n, with F16C where the CPU has it
// (the same bits: both round to nearest even; NaNs keep their sign, not their payload).
void floats_to_halves(const float* src, std::uint16_t* dst, std::int64_t n);

}  // namespace huashan::engine::kv
