// Tensor element types (GGUF/ggml numbering) and a non-owning view of a tensor's
// bytes. Shapes follow ggml: ne[0] is the contiguous (row) dimension, so a weight
// matrix W of ne = {n_in, n_out} holds n_out rows of n_in elements each.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace huashan::engine {

// Values are the on-disk GGUF type ids.
enum class tensor_type : std::uint32_t {
  f32 = 0,
  f16 = 1,
  q4_0 = 2,
  q4_1 = 3,
  q5_0 = 6,
  q5_1 = 7,
  q8_0 = 8,
  q8_1 = 9,
  q2_k = 10,
  q3_k = 11,
  q4_k = 12,
  q5_k = 13,
  q6_k = 14,
  q8_k = 15,
  i8 = 24,
  i16 = 25,
  i32 = 26,
  i64 = 27,
  f64 = 28,
  bf16 = 30,
};

// Layout of a type: `block_size` elements are stored in `block_bytes` bytes.
struct type_traits {
  std::string_view name;  // "q4_k"
  std::int64_t block_size = 0;
  std::size_t block_bytes = 0;
  bool supported = false;  // the engine can compute with it
};

// Traits of a GGUF type id; `supported` is false for ids the engine cannot use
// (their name is still given when known, "unknown" otherwise).
type_traits traits_of(std::uint32_t type_id);
inline type_traits traits_of(tensor_type t) { return traits_of(static_cast<std::uint32_t>(t)); }

// Bytes needed for `n` elements of `t`; n must be a multiple of the block size.
std::size_t row_bytes(tensor_type t, std::int64_t n);

constexpr int max_dims = 4;

// A tensor inside a mapped model file (or any buffer): no ownership.
struct tensor_view {
  std::string name;
  tensor_type type = tensor_type::f32;
  int n_dims = 0;
  std::array<std::int64_t, max_dims> ne{1, 1, 1, 1};  // elements per dimension, ne[0] contiguous
  const void* data = nullptr;
  std::size_t n_bytes = 0;
  // q8_0, q4_k, q6_k: the same weights interleaved sixteen rows at a time for
  // the AVX-512 VNNI product (quants.hpp, pack_rows16), owned by the model;
  // nullptr when the CPU lacks VNNI or the row count is not a multiple of 16.
  const void* packed = nullptr;

  std::int64_t n_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
  std::int64_t n_rows() const { return ne[1] * ne[2] * ne[3]; }
  // Bytes of one row of ne[0] elements.
  std::size_t row_stride() const { return row_bytes(type, ne[0]); }
  const std::byte* row(std::int64_t i) const {
    return static_cast<const std::byte*>(data) + static_cast<std::size_t>(i) * row_stride();
  }
};

}  // namespace huashan::engine
