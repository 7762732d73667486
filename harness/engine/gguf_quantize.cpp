#include "harness/engine/gguf_quantize.hpp"

#include <fmt/format.h>

#include <cstddef>
#include <cstring>
#include <span>
#include <vector>

#include "common/error.hpp"
#include "harness/engine/gguf.hpp"
#include "harness/engine/gguf_writer.hpp"
#include "harness/engine/quants.hpp"

namespace huashan::engine {

namespace {

// llama.cpp's LLAMA_FTYPE_MOSTLY_* for a file whose weights are mostly `t`.
std::uint32_t file_type_id(tensor_type t) {
  switch (t) {
    case tensor_type::f16: return 1;
    case tensor_type::q4_0: return 2;
    case tensor_type::q8_0: return 7;
    case tensor_type::q4_k: return 15;
    case tensor_type::q6_k: return 18;
    case tensor_type::bf16: return 32;
    default: return 0;
  }
}

// Why `t` stays in its type, or "" when it is converted.
std::string reason_to_keep(const tensor_view& t, tensor_type target) {
  if (t.n_dims != 2) return fmt::format("{} dimension(s), only matrices are converted", t.n_dims);
  if (t.type == target) return "already in the target type";
  const type_traits traits = traits_of(target);
  if (t.ne[0] % traits.block_size != 0) {
    return fmt::format("row length {} is not a multiple of {}'s block of {}", t.ne[0], traits.name, traits.block_size);
  }
  return "";
}

}  // namespace

bool can_quantize_to(tensor_type t) { return t != tensor_type::f32 && has_kernels(t); }

quantize_report quantize_gguf(const std::filesystem::path& input, const std::filesystem::path& output,
                              tensor_type target) {
  if (!can_quantize_to(target)) {
    throw input_error(fmt::format("quantize: cannot write tensor type '{}' (f16, bf16, q8_0, q4_0, q4_k or q6_k)",
                                  traits_of(target).name));
  }
  const gguf_file src = gguf_file::open(input);
  gguf_writer w(static_cast<std::uint32_t>(src.alignment()));
  w.copy_metadata(src, "");  // general.alignment included: the same value the writer was given
  w.set_u32("general.file_type", file_type_id(target));

  quantize_report report;
  for (const tensor_view& t : src.tensors()) {
    if (!has_kernels(t.type)) {
      throw input_error(fmt::format("{}: tensor '{}' has type '{}', which the engine cannot read", src.name(), t.name,
                                    traits_of(t.type).name));
    }
    std::vector<std::int64_t> ne(t.ne.begin(), t.ne.begin() + t.n_dims);
    report.bytes_in += t.n_bytes;
    const std::string why = reason_to_keep(t, target);
    if (!why.empty()) {
      report.kept.push_back(fmt::format("{}: {}", t.name, why));
      report.bytes_out += t.n_bytes;
      w.add_tensor(t.name, t.type, ne, std::span<const std::byte>(static_cast<const std::byte*>(t.data), t.n_bytes));
      continue;
    }
    ++report.converted;
    const std::size_t out_row = row_bytes(target, t.ne[0]);
    report.bytes_out += out_row * static_cast<std::size_t>(t.n_rows());
    // Rows are converted while the file is written, so a large model never sits whole in memory.
    w.add_tensor(t.name, target, ne, [t, target, out_row](std::span<std::byte> out) {
      std::vector<float> row(static_cast<std::size_t>(t.ne[0]));
      for (std::int64_t r = 0; r < t.n_rows(); ++r) {
        dequantize_row(t.type, t.row(r), row.data(), t.ne[0]);
        quantize_row(target, row.data(), out.data() + static_cast<std::size_t>(r) * out_row, t.ne[0]);
      }
    });
  }
  w.write(output);
  return report;
}

}  // namespace huashan::engine
