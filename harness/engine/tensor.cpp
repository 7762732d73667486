// Layouts of the GGUF tensor types (ggml numbering). Sizes of types the engine
// cannot compute with are still known, so the reader can bounds-check them and
// `model info` can name them.
#include "harness/engine/tensor.hpp"

#include <fmt/format.h>

#include "common/error.hpp"

namespace huashan::engine {

namespace {

struct type_row {
  std::uint32_t id;
  type_traits traits;
};

// {id, {name, block elements, block bytes, supported}}
constexpr type_row type_table[] = {
    {0, {"f32", 1, 4, true}},
    {1, {"f16", 1, 2, true}},
    {2, {"q4_0", 32, 18, true}},
    {3, {"q4_1", 32, 20, false}},
    {6, {"q5_0", 32, 22, false}},
    {7, {"q5_1", 32, 24, false}},
    {8, {"q8_0", 32, 34, true}},
    {9, {"q8_1", 32, 36, false}},
    {10, {"q2_k", 256, 84, false}},
    {11, {"q3_k", 256, 110, false}},
    {12, {"q4_k", 256, 144, true}},
    {13, {"q5_k", 256, 176, false}},
    {14, {"q6_k", 256, 210, true}},
    {15, {"q8_k", 256, 292, false}},  // activation format only
    {16, {"iq2_xxs", 256, 66, false}},
    {17, {"iq2_xs", 256, 74, false}},
    {18, {"iq3_xxs", 256, 98, false}},
    {19, {"iq1_s", 256, 50, false}},
    {20, {"iq4_nl", 32, 18, false}},
    {21, {"iq3_s", 256, 110, false}},
    {22, {"iq2_s", 256, 82, false}},
    {23, {"iq4_xs", 256, 136, false}},
    {24, {"i8", 1, 1, false}},
    {25, {"i16", 1, 2, false}},
    {26, {"i32", 1, 4, false}},
    {27, {"i64", 1, 8, false}},
    {28, {"f64", 1, 8, false}},
    {29, {"iq1_m", 256, 56, false}},
    {30, {"bf16", 1, 2, true}},
    {34, {"tq1_0", 256, 54, false}},
    {35, {"tq2_0", 256, 66, false}},
    {39, {"mxfp4", 32, 17, false}},
};

// Direct lookup by id (ids are small); tensor_view::row_stride calls this per row.
constexpr std::uint32_t max_type_id = 64;
constexpr std::array<type_traits, max_type_id> make_lookup() {
  std::array<type_traits, max_type_id> out{};
  for (auto& t : out) t = type_traits{"unknown", 0, 0, false};
  for (const auto& row : type_table) out[row.id] = row.traits;
  return out;
}
constexpr std::array<type_traits, max_type_id> lookup = make_lookup();

}  // namespace

type_traits traits_of(std::uint32_t type_id) {
  return type_id < max_type_id ? lookup[type_id] : type_traits{"unknown", 0, 0, false};
}

std::size_t row_bytes(tensor_type t, std::int64_t n) {
  const type_traits traits = traits_of(t);
  if (traits.block_size <= 0 || n < 0 || n % traits.block_size != 0) {
    throw input_error(fmt::format("row of {} elements is not a whole number of {} blocks ({} elements each)", n,
                                  traits.name, traits.block_size));
  }
  return static_cast<std::size_t>(n / traits.block_size) * traits.block_bytes;
}

}  // namespace huashan::engine
