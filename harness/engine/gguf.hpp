// GGUF reader (versions 2 and 3). The file is memory-mapped read-only; every
// count, offset, size, string length and tensor extent is checked against the
// file size before it is used, so a malformed or truncated file is an
// input_error naming the file and the field, never an out-of-bounds read.
// Format: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md
//   header   : magic "GGUF", u32 version, u64 n_tensors, u64 n_kv
//   metadata : n_kv x (string key, u32 value type, value)
//   tensors  : n_tensors x (string name, u32 n_dims, u64 ne[n_dims], u32 type, u64 offset)
//   padding to general.alignment (default 32), then the tensor data; offsets
//   are relative to that data start and must be multiples of the alignment.
// Strings are u64 length + UTF-8 bytes (not NUL-terminated).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "harness/engine/tensor.hpp"

namespace huashan::engine {

// Metadata value types; the values are the on-disk ids.
enum class gguf_type : std::uint32_t {
  u8 = 0,
  i8 = 1,
  u16 = 2,
  i16 = 3,
  u32 = 4,
  i32 = 5,
  f32 = 6,
  boolean = 7,
  string = 8,
  array = 9,
  u64 = 10,
  i64 = 11,
  f64 = 12,
};

// "u32", "string", ...; "unknown" for ids outside the enum.
std::string_view gguf_type_name(gguf_type t);

struct gguf_value;

// An array value. Numeric elements stay in the mapped file (packed,
// little-endian) and are read through the accessors; strings are views into
// the mapping; nested arrays are parsed values.
struct gguf_array {
  gguf_type elem_type = gguf_type::u8;
  std::uint64_t count = 0;
  const std::byte* raw = nullptr;           // numeric/bool elements: count * element size bytes
  std::vector<std::string_view> strings;    // elem_type == string (views into the mapping)
  std::vector<gguf_value> arrays;           // elem_type == array

  bool is_integer() const;  // u8..i64 element type
  bool is_float() const;    // f32 or f64 element type
  // Element i as an integer (integer or bool element types); throws input_error otherwise.
  std::int64_t int_at(std::size_t i) const;
  // Element i as a double (float or integer element types); throws input_error otherwise.
  double float_at(std::size_t i) const;
  // All elements converted; throw input_error when the element type does not convert.
  std::vector<float> to_f32() const;
  std::vector<std::int32_t> to_i32() const;
};

// A metadata value: exactly one of the fields is meaningful, chosen by `type`.
struct gguf_value {
  gguf_type type = gguf_type::u8;
  std::uint64_t u = 0;    // u8, u16, u32, u64; bool as 0/1
  std::int64_t i = 0;     // i8, i16, i32, i64
  double f = 0.0;         // f32, f64
  std::string_view str;   // string (a view into the mapping)
  std::shared_ptr<gguf_array> arr;  // array

  bool is_unsigned() const;  // u8..u64
  bool is_signed() const;    // i8..i64
  bool is_integer() const { return is_unsigned() || is_signed(); }
  bool is_float() const { return type == gguf_type::f32 || type == gguf_type::f64; }
  // The value as an integer when it is one (any width/signedness); nullopt otherwise.
  std::optional<std::int64_t> as_int() const;
  // The value as a double when it is a float or an integer; nullopt otherwise.
  std::optional<double> as_float() const;
  // Short human-readable rendering ("151936", "\"qwen3\"", "[string x 151936]").
  std::string to_display() const;
};

struct gguf_kv {
  std::string_view key;  // a view into the mapping
  gguf_value value;
};

// Limits on what the reader accepts, beyond the file size itself.
struct gguf_limits {
  std::uint64_t max_string_bytes = 1ull << 26;    // one string (keys, values, names)
  std::uint64_t max_array_elements = 1ull << 28;  // one array
  std::uint64_t max_tensors = 1ull << 20;
  std::uint64_t max_kv = 1ull << 20;
  int max_array_depth = 4;                        // arrays of arrays of ...
};

// An open GGUF file. Move-only; owns the mapping, so views (strings, tensor
// data) stay valid for as long as this object lives (moving keeps them valid).
class gguf_file {
 public:
  // Maps and parses the file; throws io_error when it cannot be opened/mapped
  // and input_error when it is not a well-formed GGUF.
  static gguf_file open(const std::filesystem::path& path, const gguf_limits& limits = {});
  // Parses a buffer the caller keeps alive longer than the result; `name`
  // stands for the file name in error messages. Throws input_error.
  static gguf_file open_memory(std::span<const std::byte> bytes, std::string name = "<memory>",
                               const gguf_limits& limits = {});

  gguf_file(gguf_file&& other) noexcept;
  gguf_file& operator=(gguf_file&& other) noexcept;
  gguf_file(const gguf_file&) = delete;
  gguf_file& operator=(const gguf_file&) = delete;
  ~gguf_file();

  const std::string& name() const { return name_; }  // file name used in messages
  std::uint32_t version() const { return version_; }
  std::uint64_t alignment() const { return alignment_; }
  std::uint64_t data_offset() const { return data_offset_; }  // start of tensor data in the file
  std::size_t file_size() const { return bytes_.size(); }
  std::span<const std::byte> bytes() const { return bytes_; }
  // The pages of the mapped file inside [data, data + n_bytes) are not needed
  // for now: the kernel may drop them (they are read from the file again if
  // touched). Used once a tensor has been copied into another layout. No
  // effect on an in-memory file or outside the mapping.
  void release_pages(const void* data, std::size_t n_bytes) const;

  // All key/value pairs in file order.
  std::span<const gguf_kv> metadata() const { return kvs_; }
  // The value of `key`, or nullptr.
  const gguf_value* find(std::string_view key) const;

  // Typed getters: nullopt when the key is absent; input_error when present
  // with a type that does not convert (e.g. a string asked for as u32, or a
  // negative/oversized integer asked for as u32).
  std::optional<std::string_view> get_string(std::string_view key) const;
  std::optional<std::uint32_t> get_u32(std::string_view key) const;
  std::optional<std::uint64_t> get_u64(std::string_view key) const;
  std::optional<std::int64_t> get_i64(std::string_view key) const;
  std::optional<float> get_f32(std::string_view key) const;
  std::optional<bool> get_bool(std::string_view key) const;
  const gguf_array* get_array(std::string_view key) const;  // nullptr when absent; input_error if not an array

  // Same, but absence is an input_error naming the file and key.
  std::string_view require_string(std::string_view key) const;
  std::uint32_t require_u32(std::string_view key) const;
  float require_f32(std::string_view key) const;
  const gguf_array& require_array(std::string_view key) const;

  // general.architecture ("" when absent).
  std::string_view architecture() const;
  // "{architecture}.{suffix}", e.g. arch_key("block_count") -> "qwen3.block_count".
  std::string arch_key(std::string_view suffix) const;

  // Tensor infos in file order; data points into the mapping and is in bounds.
  std::span<const tensor_view> tensors() const { return tensors_; }
  // The tensor called `name`, or nullptr.
  const tensor_view* find_tensor(std::string_view name) const;
  // Same, but absence is an input_error naming the file and tensor.
  const tensor_view& require_tensor(std::string_view name) const;

 private:
  gguf_file() = default;
  void parse(const gguf_limits& limits);
  void unmap() noexcept;

  std::string name_;
  std::span<const std::byte> bytes_;
  void* map_ = nullptr;  // mmap base when the file owns a mapping
  std::size_t map_size_ = 0;
  std::uint32_t version_ = 0;
  std::uint64_t alignment_ = 32;
  std::uint64_t data_offset_ = 0;
  std::vector<gguf_kv> kvs_;
  std::vector<tensor_view> tensors_;
  std::vector<std::pair<std::string_view, std::size_t>> kv_index_;      // sorted by key
  std::vector<std::pair<std::string_view, std::size_t>> tensor_index_;  // sorted by name
};

}  // namespace huashan::engine
