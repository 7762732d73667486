// Fuzzes the GGUF reader: any bytes must either parse or raise input_error;
// whatever parses must be in bounds (every metadata value, array element and
// tensor byte is read here, and the first row of each computable tensor is
// dequantized), so ASan/UBSan see any read the reader let through.
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "common/error.hpp"
#include "harness/engine/gguf.hpp"
#include "harness/engine/quants.hpp"

namespace {

using namespace huashan::engine;

unsigned touch(const gguf_value& v) {
  unsigned sum = static_cast<unsigned>(v.to_display().size());
  if (v.type != gguf_type::array || !v.arr) return sum;
  const gguf_array& a = *v.arr;
  for (auto s : a.strings) sum += s.empty() ? 0u : static_cast<unsigned char>(s.back());
  for (const auto& inner : a.arrays) sum += touch(inner);
  if (a.raw != nullptr) {
    for (std::size_t i = 0; i < a.count; ++i) {
      sum += a.is_float() ? static_cast<unsigned>(a.float_at(i) != 0.0) : static_cast<unsigned>(a.int_at(i));
    }
  }
  return sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const gguf_file f = gguf_file::open_memory(std::span(reinterpret_cast<const std::byte*>(data), size), "fuzz.gguf");
    unsigned sum = 0;
    for (const auto& kv : f.metadata()) sum += touch(kv.value) + static_cast<unsigned>(kv.key.size());
    for (const auto& t : f.tensors()) {
      const auto* p = static_cast<const unsigned char*>(t.data);
      for (std::size_t i = 0; i < t.n_bytes; ++i) sum += p[i];
      // Dequantize the first row when the type is computable and the row is
      // small; the kernels read blocks as structs, so require their alignment.
      const bool aligned = reinterpret_cast<std::uintptr_t>(t.data) % 4 == 0;
      if (has_kernels(t.type) && aligned && t.n_elements() > 0 && t.ne[0] <= (1 << 16)) {
        std::vector<float> row(static_cast<std::size_t>(t.ne[0]));
        if (row_bytes(t.type, t.ne[0]) > t.n_bytes) std::abort();  // a row must lie inside the tensor
        dequantize_row(t.type, t.data, row.data(), t.ne[0]);
      }
    }
    if (sum == 0xdeadbeef) std::abort();  // keeps the reads from being optimised away
  } catch (const huashan::input_error&) {
  }
  return 0;
}
