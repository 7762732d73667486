// Tensor types: half conversions, hand-built blocks in llama.cpp's layouts,
// dequantize(quantize(x)) error bounds per type, and the AVX2 dot products and
// activation quantizers against the scalar reference.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <string>

#include "fixtures.hpp"
#include "harness/engine/cpu_features.hpp"
#include "harness/engine/quants.hpp"
#include "harness/engine/quants_internal.hpp"

using namespace huashan::engine;

TEST_CASE("type traits") {
  CHECK(traits_of(tensor_type::q8_0).block_bytes == 34);
  CHECK(traits_of(tensor_type::q4_k).block_size == 256);
  CHECK(traits_of(tensor_type::q6_k).block_bytes == 210);
  CHECK(traits_of(tensor_type::bf16).name == "bf16");
  CHECK(traits_of(tensor_type::q5_k).block_bytes == 176);
  CHECK_FALSE(traits_of(tensor_type::q5_k).supported);
  CHECK(traits_of(12345u).name == "unknown");
  CHECK(row_bytes(tensor_type::q4_0, 64) == 36);
  CHECK_THROWS(row_bytes(tensor_type::q4_k, 100));
  for (auto t : {tensor_type::f32, tensor_type::f16, tensor_type::bf16, tensor_type::q8_0, tensor_type::q4_0,
                 tensor_type::q4_k, tensor_type::q6_k}) {
    CHECK(traits_of(t).supported);
    CHECK(has_kernels(t));
  }
}

TEST_CASE("fp16 and bf16 conversions") {
  CHECK(f32_to_fp16(1.0f) == 0x3c00);
  CHECK(f32_to_fp16(-2.0f) == 0xc000);
  CHECK(f32_to_fp16(65504.0f) == 0x7bff);
  CHECK(f32_to_fp16(65519.0f) == 0x7bff);
  CHECK(f32_to_fp16(65520.0f) == 0x7c00);  // ties to even overflows to infinity
  CHECK(f32_to_fp16(0.1f) == 0x2e66);
  CHECK(f32_to_fp16(std::ldexp(1.0f, -24)) == 0x0001);
  CHECK(f32_to_fp16(std::ldexp(1.0f, -26)) == 0x0000);
  CHECK(fp16_to_f32(0x0001) == std::ldexp(1.0f, -24));
  CHECK(std::isnan(fp16_to_f32(f32_to_fp16(std::nanf("")))));
  // Every finite half survives half -> float -> half.
  for (std::uint32_t h = 0; h < 0x10000; ++h) {
    const float f = fp16_to_f32(static_cast<std::uint16_t>(h));
    if (std::isnan(f)) continue;
    REQUIRE(f32_to_fp16(f) == h);
  }
  CHECK(f32_to_bf16(1.0f) == 0x3f80);
  CHECK(bf16_to_f32(0x3f80) == 1.0f);
  CHECK(f32_to_bf16(std::bit_cast<float>(0x3f808000u)) == 0x3f80);  // tie -> even
  CHECK(f32_to_bf16(std::bit_cast<float>(0x3f818000u)) == 0x3f82);  // tie -> even (up)
}

TEST_CASE("hand-built blocks decode in llama.cpp's layouts") {
  SUBCASE("q4_0: low nibbles are elements 0..15, high nibbles 16..31, value (q-8)*d") {
    block_q4_0 b{};
    b.d = f32_to_fp16(0.5f);
    for (auto& q : b.qs) q = 0x88;  // zeros
    b.qs[0] = 0x1f;
    b.qs[15] = 0x0a;
    float y[32];
    dequantize_row(tensor_type::q4_0, &b, y, 32);
    CHECK(y[0] == 3.5f);     // (15-8)*0.5
    CHECK(y[16] == -3.5f);   // (1-8)*0.5
    CHECK(y[15] == 1.0f);    // (10-8)*0.5
    CHECK(y[31] == -4.0f);   // (0-8)*0.5
    CHECK(y[1] == 0.0f);
  }
  SUBCASE("q8_0") {
    block_q8_0 b{};
    b.d = f32_to_fp16(0.25f);
    b.qs[3] = -127;
    b.qs[31] = 8;
    float y[32];
    dequantize_row(tensor_type::q8_0, &b, y, 32);
    CHECK(y[3] == -31.75f);
    CHECK(y[31] == 2.0f);
  }
  SUBCASE("q4_k: 6-bit scale/min packing of sub-blocks 1 and 5") {
    block_q4_k b{};
    b.d = f32_to_fp16(1.0f);
    b.dmin = f32_to_fp16(0.5f);
    // Sub-block 1 (j < 4): scale in scales[1] & 63, min in scales[5] & 63.
    // Sub-block 5 (j >= 4): low 4 bits in scales[9] (scale low nibble, min high
    // nibble), high 2 bits in the top bits of scales[1] (scale) and scales[5] (min).
    const int sc1 = 9, m1 = 4, sc5 = 53, m5 = 42;
    b.scales[1] = static_cast<std::uint8_t>(sc1 | ((sc5 >> 4) << 6));
    b.scales[5] = static_cast<std::uint8_t>(m1 | ((m5 >> 4) << 6));
    b.scales[9] = static_cast<std::uint8_t>((sc5 & 0x0f) | ((m5 & 0x0f) << 4));
    // Element 32 + 2 is in sub-block 1: chunk 0, high nibble of qs[2].
    // Element 160 + 7 is in sub-block 5: chunk 2, high nibble of qs[64 + 7].
    b.qs[2] = 0x60;
    b.qs[64 + 7] = 0x3c;  // low nibble 12 -> element 128 + 7 (sub-block 4, scale/min 0)
    float y[256];
    dequantize_row(tensor_type::q4_k, &b, y, 256);
    CHECK(y[34] == doctest::Approx(1.0 * sc1 * 6 - 0.5 * m1));
    CHECK(y[167] == doctest::Approx(1.0 * sc5 * 3 - 0.5 * m5));
    CHECK(y[135] == 0.0f);
    CHECK(y[160] == doctest::Approx(-0.5 * m5));  // q = 0 in sub-block 5
  }
  SUBCASE("q6_k: ql/qh interleave and per-16 scales") {
    block_q6_k b{};
    b.d = f32_to_fp16(2.0f);
    for (int j = 0; j < 16; ++j) b.scales[j] = static_cast<std::int8_t>(j + 1);
    // Byte 0 of each part feeds elements 0, 32, 64, 96 of the first half.
    b.ql[0] = 0x21;                  // element 0 low bits 1, element 64 low bits 2
    b.ql[32] = 0x40;                 // element 32 low bits 0, element 96 low bits 4
    b.qh[0] = 0b11100100;            // high bits: element 0 -> 0, 32 -> 1, 64 -> 2, 96 -> 3
    b.ql[64 + 5] = 0x0f;             // second half: element 128 + 5
    b.qh[32 + 5] = 0x03;             //   its high bits 3 -> q = 63
    float y[256];
    dequantize_row(tensor_type::q6_k, &b, y, 256);
    CHECK(y[0] == 2.0f * 1 * (1 - 32));
    CHECK(y[32] == 2.0f * 3 * (16 - 32));
    CHECK(y[64] == 2.0f * 5 * (34 - 32));
    CHECK(y[96] == 2.0f * 7 * (52 - 32));
    CHECK(y[133] == 2.0f * 9 * (63 - 32));
    CHECK(y[1] == 2.0f * 1 * -32);
  }
}

namespace {

struct roundtrip {
  std::vector<float> x;
  std::vector<float> y;
};

roundtrip run_roundtrip(tensor_type t, std::int64_t n, std::uint32_t seed) {
  roundtrip r;
  r.x = test::gaussian(static_cast<std::size_t>(n), seed);
  // Some structure: a few outliers and a constant run, as real weights have.
  r.x[5] = 6.0f;
  r.x[700] = -5.0f;
  for (int i = 1024; i < 1056; ++i) r.x[i] = 0.0f;
  std::vector<std::byte> q(row_bytes(t, n));
  quantize_row(t, r.x.data(), q.data(), n);
  r.y.resize(static_cast<std::size_t>(n));
  dequantize_row(t, q.data(), r.y.data(), n);
  return r;
}

float amax_of(const float* x, int n) {
  float m = 0.0f;
  for (int i = 0; i < n; ++i) m = std::max(m, std::fabs(x[i]));
  return m;
}

}  // namespace

// Bounds (per element, from the format):
//   f16  : |e| <= max(2^-11 |x|, 2^-25)            bf16 : |e| <= 2^-8 |x|
//   q8_0 : |e| <= 0.5 d + 127 d 2^-11 ≈ 0.57 d, d = amax32/127 (half-step rounding + f16 d)
//   q8_k : |e| <= 0.5 d, d = amax256/127 (f32 d)
//   q4_0 : |e| <= 1.01 amax32/8 (the level on the far side of the extreme clips to +7)
//   q4_k : |e| <= step + dmin/2 with step = d·sc of the sub-block (half a step of
//          rounding, the rest from 6-bit scales/mins and the least-squares fit)
//   q6_k : |e| <= |d·sc| of the 16-element sub-block (one step; +31 clips)
TEST_CASE("dequantize(quantize(x)) within each type's bound") {
  constexpr std::int64_t n = 4096;
  for (std::uint32_t seed = 1; seed <= 3; ++seed) {
    CAPTURE(seed);
    {
      const auto r = run_roundtrip(tensor_type::f16, n, seed);
      // Subnormal halves (|x| < 2^-14) have a fixed step of 2^-24.
      for (std::int64_t i = 0; i < n; ++i) {
        REQUIRE(std::fabs(r.y[i] - r.x[i]) <= std::max(std::ldexp(std::fabs(r.x[i]), -11), std::ldexp(1.0f, -25)));
      }
    }
    {
      const auto r = run_roundtrip(tensor_type::bf16, n, seed);
      for (std::int64_t i = 0; i < n; ++i) REQUIRE(std::fabs(r.y[i] - r.x[i]) <= std::ldexp(std::fabs(r.x[i]), -8));
    }
    {
      const auto r = run_roundtrip(tensor_type::q8_0, n, seed);
      for (std::int64_t b = 0; b < n / 32; ++b) {
        const float d = amax_of(&r.x[32 * b], 32) / 127.0f;
        for (int j = 0; j < 32; ++j) REQUIRE(std::fabs(r.y[32 * b + j] - r.x[32 * b + j]) <= 0.57f * d + 1e-7f);
      }
    }
    {
      const auto r = run_roundtrip(tensor_type::q8_k, n, seed);
      for (std::int64_t b = 0; b < n / 256; ++b) {
        const float d = amax_of(&r.x[256 * b], 256) / 127.0f;
        for (int j = 0; j < 256; ++j) REQUIRE(std::fabs(r.y[256 * b + j] - r.x[256 * b + j]) <= 0.5f * d * 1.0001f);
      }
    }
    {
      const auto r = run_roundtrip(tensor_type::q4_0, n, seed);
      for (std::int64_t b = 0; b < n / 32; ++b) {
        const float bound = 1.01f * amax_of(&r.x[32 * b], 32) / 8.0f;
        for (int j = 0; j < 32; ++j) REQUIRE(std::fabs(r.y[32 * b + j] - r.x[32 * b + j]) <= bound + 1e-7f);
      }
    }
    {
      const auto r = run_roundtrip(tensor_type::q4_k, n, seed);
      std::vector<std::byte> q(row_bytes(tensor_type::q4_k, n));
      quantize_row(tensor_type::q4_k, r.x.data(), q.data(), n);
      const auto* blocks = reinterpret_cast<const block_q4_k*>(q.data());
      double se = 0.0, sx = 0.0;
      for (std::int64_t b = 0; b < n / 256; ++b) {
        const float d = fp16_to_f32(blocks[b].d);
        const float dmin = fp16_to_f32(blocks[b].dmin);
        for (int j = 0; j < 8; ++j) {
          int sc, m;
          q4_k_scale_min(j, blocks[b].scales, sc, m);
          const float bound = d * static_cast<float>(sc) + 0.5f * dmin + 1e-6f;
          for (int l = 0; l < 32; ++l) {
            const std::size_t i = static_cast<std::size_t>(256 * b + 32 * j + l);
            REQUIRE(std::fabs(r.y[i] - r.x[i]) <= bound);
            se += (r.y[i] - r.x[i]) * (r.y[i] - r.x[i]);
            sx += r.x[i] * r.x[i];
          }
        }
      }
      CHECK(std::sqrt(se / sx) < 0.12);  // 4-bit with per-32 scale and min: RMS error ~ 8-10 % of RMS
    }
    {
      const auto r = run_roundtrip(tensor_type::q6_k, n, seed);
      std::vector<std::byte> q(row_bytes(tensor_type::q6_k, n));
      quantize_row(tensor_type::q6_k, r.x.data(), q.data(), n);
      const auto* blocks = reinterpret_cast<const block_q6_k*>(q.data());
      for (std::int64_t b = 0; b < n / 256; ++b) {
        const float d = fp16_to_f32(blocks[b].d);
        for (int j = 0; j < 16; ++j) {
          const float bound = std::fabs(d * blocks[b].scales[j]) + 1e-6f;
          for (int l = 0; l < 16; ++l) {
            const std::size_t i = static_cast<std::size_t>(256 * b + 16 * j + l);
            REQUIRE(std::fabs(r.y[i] - r.x[i]) <= bound);
          }
        }
      }
    }
  }
}

namespace {

// Σ |w_i x_i| over the dequantized rows: the scale of a dot's rounding error.
double abs_dot(tensor_type wt, const void* w, const void* x, std::int64_t n) {
  std::vector<float> a(static_cast<std::size_t>(n)), b(static_cast<std::size_t>(n));
  dequantize_row(wt, w, a.data(), n);
  dequantize_row(vec_dot_type(wt), x, b.data(), n);
  double s = 0.0;
  for (std::int64_t i = 0; i < n; ++i) s += std::fabs(static_cast<double>(a[i]) * b[i]);
  return s;
}

double float_dot(tensor_type wt, const void* w, const void* x, std::int64_t n) {
  std::vector<float> a(static_cast<std::size_t>(n)), b(static_cast<std::size_t>(n));
  dequantize_row(wt, w, a.data(), n);
  dequantize_row(vec_dot_type(wt), x, b.data(), n);
  double s = 0.0;
  for (std::int64_t i = 0; i < n; ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

}  // namespace

// Tolerance: the kernels differ only in float summation order (the integer
// block sums are exact), so |simd - scalar| <= 1e-5 · Σ|w_i x_i|; each also
// equals the dot of the dequantized rows within the same bound.
TEST_CASE("dot products: AVX2 equals the scalar reference, both equal the dequantized dot") {
  const bool simd = dot_kernel_avx2(tensor_type::q8_0) != nullptr;
  const std::string simd_note = simd ? "available" : "not available on this CPU: checking scalar only";
  MESSAGE("AVX2 kernels: " << simd_note);
  for (auto t : {tensor_type::f32, tensor_type::f16, tensor_type::bf16, tensor_type::q8_0, tensor_type::q4_0,
                 tensor_type::q4_k, tensor_type::q6_k}) {
    const std::int64_t bs = traits_of(t).block_size;
    for (std::int64_t n : {std::int64_t{256}, std::int64_t{3072}, bs == 1 ? std::int64_t{1003} : std::int64_t{4096}}) {
      CAPTURE(traits_of(t).name);
      CAPTURE(n);
      const auto wf = test::gaussian(static_cast<std::size_t>(n), 11, 0.02f);
      const auto xf = test::gaussian(static_cast<std::size_t>(n), 12);
      std::vector<std::byte> w(row_bytes(t, n)), x(row_bytes(vec_dot_type(t), n));
      quantize_row(t, wf.data(), w.data(), n);
      quantize_row(vec_dot_type(t), xf.data(), x.data(), n);
      const double tol = 1e-5 * abs_dot(t, w.data(), x.data(), n) + 1e-12;
      const float ref = dot_kernel_scalar(t)(w.data(), x.data(), n);
      CHECK(std::fabs(ref - float_dot(t, w.data(), x.data(), n)) <= tol);
      if (simd) {
        const float fast = dot_kernel_avx2(t)(w.data(), x.data(), n);
        CHECK(std::fabs(fast - ref) <= tol);
      }
      CHECK(std::fabs(dot_row(t, w.data(), x.data(), n) - ref) <= tol);
    }
  }
}

TEST_CASE("dot products: AVX-512 VNNI kernels are bit-identical to the AVX2 ones") {
  const bool vnni = dot_kernel_vnni(tensor_type::q8_0) != nullptr;
  MESSAGE("AVX-512 VNNI kernels: " << (vnni ? "available" : "not available on this CPU: nothing to compare"));
  if (!vnni) return;
  for (std::int64_t n : {std::int64_t{32}, std::int64_t{96}, std::int64_t{1024}, std::int64_t{3072}}) {
    CAPTURE(n);
    auto wf = test::gaussian(static_cast<std::size_t>(n), 51, 0.02f);
    wf[0] = -1.0f;  // a block whose largest weight is negative: -127 and the sign paths
    const auto xf = test::gaussian(static_cast<std::size_t>(n), 52);
    std::vector<std::byte> w(row_bytes(tensor_type::q8_0, n));
    const std::size_t stride = row_bytes(tensor_type::q8_0, n);
    std::vector<std::byte> x(4 * stride);
    quantize_row(tensor_type::q8_0, wf.data(), w.data(), n);
    for (int k = 0; k < 4; ++k) {
      const auto xk = test::gaussian(static_cast<std::size_t>(n), 60 + static_cast<std::uint32_t>(k));
      quantize_row(tensor_type::q8_0, xk.data(), x.data() + k * stride, n);
    }
    // Extreme bytes: -128 activations against negative weights (the unsigned 128 case).
    reinterpret_cast<block_q8_0*>(x.data())[0].qs[0] = -128;
    float out[4];
    dot4_kernel(tensor_type::q8_0)(w.data(), x.data(), stride, n, out);
    for (int k = 0; k < 4; ++k) {
      const float avx2 = dot_kernel_avx2(tensor_type::q8_0)(w.data(), x.data() + k * stride, n);
      CHECK(dot_kernel_vnni(tensor_type::q8_0)(w.data(), x.data() + k * stride, n) == avx2);
      CHECK(out[k] == avx2);
    }
  }
}

TEST_CASE("four-token dot kernels are bit-identical to four one-token dots") {
  for (auto t : {tensor_type::f16, tensor_type::q8_0, tensor_type::q4_k, tensor_type::q6_k}) {
    const dot4_fn f4 = dot4_kernel(t);
    if (f4 == nullptr) continue;  // no AVX2: matmul uses the one-token kernel
    CAPTURE(traits_of(t).name);
    // F16 rows also get a length with 8- and 1-element tails.
    for (const std::int64_t n : {std::int64_t{1024}, traits_of(t).block_size == 1 ? std::int64_t{1003} : std::int64_t{1024}}) {
    CAPTURE(n);
    const auto wf = test::gaussian(static_cast<std::size_t>(n), 31, 0.02f);
    std::vector<std::byte> w(row_bytes(t, n));
    quantize_row(t, wf.data(), w.data(), n);
    const std::size_t stride = row_bytes(vec_dot_type(t), n);
    std::vector<std::byte> x(4 * stride);
    for (int k = 0; k < 4; ++k) {
      const auto xf = test::gaussian(static_cast<std::size_t>(n), 40 + static_cast<std::uint32_t>(k));
      quantize_row(vec_dot_type(t), xf.data(), x.data() + k * stride, n);
    }
    float out[4];
    f4(w.data(), x.data(), stride, n, out);
    for (int k = 0; k < 4; ++k) CHECK(out[k] == dot_kernel(t)(w.data(), x.data() + k * stride, n));
    }
  }
}

TEST_CASE("activation quantizers: AVX2 output is byte-identical to the scalar one") {
  constexpr std::int64_t n = 3072;
  auto x = test::gaussian(n, 21);
  x[7] = 0.0f;
  for (int i = 512; i < 768; ++i) x[i] = 0.0f;  // an all-zero q8_k block
  std::vector<block_q8_0> a(n / 32), b(n / 32);
  quantize_row(tensor_type::q8_0, x.data(), a.data(), n);  // dispatched
  quantize_q8_0(x.data(), b.data(), n);                   // reference
  CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(block_q8_0)) == 0);
  std::vector<block_q8_k> c(n / 256), d(n / 256);
  quantize_row(tensor_type::q8_k, x.data(), c.data(), n);
  quantize_q8_k(x.data(), d.data(), n);
  CHECK(std::memcmp(c.data(), d.data(), c.size() * sizeof(block_q8_k)) == 0);
}

TEST_CASE("types without kernels are an input_error") {
  float y[32];
  std::byte buf[64]{};
  CHECK_THROWS_WITH(dequantize_row(tensor_type::q5_0, buf, y, 32), doctest::Contains("q5_0"));
  CHECK_THROWS(quantize_row(tensor_type::q2_k, y, buf, 256));
  const bool no_kernel = dot_kernel(tensor_type::q5_k) == nullptr;
  CHECK(no_kernel);
}
