// Small GGUF files built in memory by the tests of this folder.
#pragma once

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "harness/engine/gguf_writer.hpp"
#include "harness/engine/quants.hpp"

namespace huashan::engine::test {

// n floats ~ N(0, sigma^2) from a fixed seed.
inline std::vector<float> gaussian(std::size_t n, std::uint32_t seed, float sigma = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// rows x n floats quantized row by row to `type`.
inline std::vector<std::byte> quantized(tensor_type type, const std::vector<float>& x, std::int64_t n) {
  const std::size_t rb = row_bytes(type, n);
  const std::size_t rows = x.size() / static_cast<std::size_t>(n);
  std::vector<std::byte> out(rb * rows);
  for (std::size_t r = 0; r < rows; ++r) quantize_row(type, x.data() + r * n, out.data() + r * rb, n);
  return out;
}

// A file exercising every metadata type, nested arrays and three tensor types.
inline gguf_writer sample_writer() {
  gguf_writer w;
  w.set_string("general.architecture", "llama");
  w.set("t.u8", gguf_out_value::of_u8(200));
  w.set("t.i8", gguf_out_value::of_i8(-100));
  w.set("t.u16", gguf_out_value::of_u16(60000));
  w.set("t.i16", gguf_out_value::of_i16(-30000));
  w.set_u32("t.u32", 4000000000u);
  w.set_i32("t.i32", -2000000000);
  w.set_f32("t.f32", 1.5f);
  w.set_bool("t.bool", true);
  w.set_string("t.string", "héllo");
  w.set_u64("t.u64", 1ull << 40);
  w.set("t.i64", gguf_out_value::of_i64(-(1ll << 40)));
  w.set("t.f64", gguf_out_value::of_f64(0.125));
  w.set_string_array("t.strings", {"a", "", "ccc"});
  w.set_f32_array("t.floats", {0.5f, -1.0f});
  w.set_i32_array("t.ints", {1, -2, 3});
  w.set("t.nested", gguf_out_value::of_array(
                        gguf_type::array, {gguf_out_value::of_array(gguf_type::string, {gguf_out_value::of_string("x")}),
                                           gguf_out_value::of_array(gguf_type::u8, {gguf_out_value::of_u8(7)})}));
  const auto x = gaussian(64 * 4, 1);
  std::vector<std::byte> f32_bytes(x.size() * 4);
  std::memcpy(f32_bytes.data(), x.data(), f32_bytes.size());
  w.add_tensor("a.f32", tensor_type::f32, {64, 4}, f32_bytes);
  w.add_tensor("b.q8_0", tensor_type::q8_0, {64, 4}, quantized(tensor_type::q8_0, x, 64));
  const auto y = gaussian(256 * 2, 2);
  w.add_tensor("c.q4_k", tensor_type::q4_k, {256, 2}, quantized(tensor_type::q4_k, y, 256));
  return w;
}

}  // namespace huashan::engine::test
