// Rewrites a GGUF with its weight matrices in another tensor type (what
// llama.cpp's llama-quantize does for one target type): metadata copied as is
// but general.file_type, every 2-D tensor whose row length is a multiple of
// the target's block size converted row by row through the reference
// quantizers, everything else (norms, rows the blocks do not tile) kept in
// its own type. Used by `huashan model quantize` and the demo models.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "harness/engine/tensor.hpp"

namespace huashan::engine {

struct quantize_report {
  std::int64_t converted = 0;             // tensors written in the target type
  std::vector<std::string> kept;          // tensors left in their type, with why ("name: reason")
  std::uint64_t bytes_in = 0;             // tensor data, before
  std::uint64_t bytes_out = 0;            // and after
};

// The types `quantize_gguf` can write: f16, bf16, q8_0, q4_0, q4_k, q6_k.
bool can_quantize_to(tensor_type t);
// Reads `input` and writes `output` (via a temporary renamed at the end) with
// the weights in `target`. input_error for a malformed input, a tensor type
// the engine cannot read, or a target it cannot write; io_error when writing
// fails (no partial file is left).
quantize_report quantize_gguf(const std::filesystem::path& input, const std::filesystem::path& output,
                              tensor_type target);

}  // namespace huashan::engine
