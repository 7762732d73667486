// GGUF v3 writer: metadata of every value type (arrays included, nested too)
// and tensors padded to general.alignment. Used by `huashan model synth` and by
// tests to build fixtures. Tensor data can be given as bytes or produced on
// demand while writing, so a large synthetic model never sits whole in memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "harness/engine/gguf.hpp"
#include "harness/engine/tensor.hpp"

namespace huashan::engine {

// A metadata value to write; build with the static helpers.
struct gguf_out_value {
  gguf_type type = gguf_type::u8;
  std::uint64_t u = 0;  // unsigned types and bool
  std::int64_t i = 0;   // signed types
  double f = 0.0;       // f32, f64
  std::string str;      // string
  gguf_type elem_type = gguf_type::u8;  // array
  std::vector<gguf_out_value> items;    // array

  static gguf_out_value of_u8(std::uint8_t v);
  static gguf_out_value of_i8(std::int8_t v);
  static gguf_out_value of_u16(std::uint16_t v);
  static gguf_out_value of_i16(std::int16_t v);
  static gguf_out_value of_u32(std::uint32_t v);
  static gguf_out_value of_i32(std::int32_t v);
  static gguf_out_value of_u64(std::uint64_t v);
  static gguf_out_value of_i64(std::int64_t v);
  static gguf_out_value of_f32(float v);
  static gguf_out_value of_f64(double v);
  static gguf_out_value of_bool(bool v);
  static gguf_out_value of_string(std::string v);
  // An array of `elem_type`; every item must have that type (asserted when written).
  static gguf_out_value of_array(gguf_type elem_type, std::vector<gguf_out_value> items);
};

// Fills `out` (exactly the tensor's byte size) with the tensor's data.
using gguf_tensor_producer = std::function<void(std::span<std::byte> out)>;

class gguf_writer {
 public:
  // `alignment` is written as general.alignment when it is not the default 32;
  // it must be a power of two (else config_error).
  explicit gguf_writer(std::uint32_t alignment = 32);

  // Metadata setters; setting an existing key replaces its value (order kept).
  void set(std::string_view key, gguf_out_value value);
  void set_u32(std::string_view key, std::uint32_t v);
  void set_i32(std::string_view key, std::int32_t v);
  void set_u64(std::string_view key, std::uint64_t v);
  void set_f32(std::string_view key, float v);
  void set_bool(std::string_view key, bool v);
  void set_string(std::string_view key, std::string v);
  void set_string_array(std::string_view key, std::vector<std::string> v);
  void set_f32_array(std::string_view key, std::vector<float> v);
  void set_i32_array(std::string_view key, std::vector<std::int32_t> v);
  // Copies every key of `src` whose name starts with `prefix` (e.g. "tokenizer.ggml.").
  void copy_metadata(const gguf_file& src, std::string_view prefix);

  // Adds a tensor with ggml dims ne (ne[0] contiguous). ne[0] must be a
  // multiple of the type's block size and data.size() must equal the tensor's
  // byte size (input_error otherwise). The bytes are copied.
  void add_tensor(std::string name, tensor_type type, std::vector<std::int64_t> ne,
                  std::span<const std::byte> data);
  // Same, but the bytes are produced while writing.
  void add_tensor(std::string name, tensor_type type, std::vector<std::int64_t> ne,
                  gguf_tensor_producer producer);

  std::size_t n_tensors() const { return tensors_.size(); }

  // The whole file in memory (tests, fuzz seeds).
  std::vector<std::byte> to_bytes() const;
  // Writes the file (via a temporary beside it, renamed at the end); io_error on failure.
  void write(const std::filesystem::path& path) const;

 private:
  struct pending_tensor {
    std::string name;
    tensor_type type;
    std::vector<std::int64_t> ne;
    std::size_t n_bytes = 0;
    std::vector<std::byte> data;   // when given up front
    gguf_tensor_producer producer;  // when produced on write
  };
  // Header, metadata and tensor infos, padded to the alignment.
  std::vector<std::byte> encode_head() const;
  void write_to(const std::function<void(std::span<const std::byte>)>& sink) const;

  std::uint32_t alignment_;
  std::vector<std::pair<std::string, gguf_out_value>> kvs_;
  std::vector<pending_tensor> tensors_;
};

}  // namespace huashan::engine
