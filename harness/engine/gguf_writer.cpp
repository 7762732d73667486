// GGUF v3 encoding (see gguf.hpp for the layout). The head (header, metadata,
// tensor infos) is encoded in memory; tensor data is streamed after it, each
// tensor padded with zeros to the alignment.
#include "harness/engine/gguf_writer.hpp"

#include <fmt/format.h>

#include <bit>
#include <cassert>
#include <cstdio>
#include <cstring>

#include "common/error.hpp"
#include "harness/engine/align.hpp"

namespace huashan::engine {

gguf_out_value gguf_out_value::of_u8(std::uint8_t v) { gguf_out_value o; o.type = gguf_type::u8; o.u = v; return o; }
gguf_out_value gguf_out_value::of_i8(std::int8_t v) { gguf_out_value o; o.type = gguf_type::i8; o.i = v; return o; }
gguf_out_value gguf_out_value::of_u16(std::uint16_t v) { gguf_out_value o; o.type = gguf_type::u16; o.u = v; return o; }
gguf_out_value gguf_out_value::of_i16(std::int16_t v) { gguf_out_value o; o.type = gguf_type::i16; o.i = v; return o; }
gguf_out_value gguf_out_value::of_u32(std::uint32_t v) { gguf_out_value o; o.type = gguf_type::u32; o.u = v; return o; }
gguf_out_value gguf_out_value::of_i32(std::int32_t v) { gguf_out_value o; o.type = gguf_type::i32; o.i = v; return o; }
gguf_out_value gguf_out_value::of_u64(std::uint64_t v) { gguf_out_value o; o.type = gguf_type::u64; o.u = v; return o; }
gguf_out_value gguf_out_value::of_i64(std::int64_t v) { gguf_out_value o; o.type = gguf_type::i64; o.i = v; return o; }
gguf_out_value gguf_out_value::of_f32(float v) { gguf_out_value o; o.type = gguf_type::f32; o.f = v; return o; }
gguf_out_value gguf_out_value::of_f64(double v) { gguf_out_value o; o.type = gguf_type::f64; o.f = v; return o; }
gguf_out_value gguf_out_value::of_bool(bool v) { gguf_out_value o; o.type = gguf_type::boolean; o.u = v ? 1 : 0; return o; }
gguf_out_value gguf_out_value::of_string(std::string v) {
  gguf_out_value o;
  o.type = gguf_type::string;
  o.str = std::move(v);
  return o;
}
gguf_out_value gguf_out_value::of_array(gguf_type elem_type, std::vector<gguf_out_value> items) {
  gguf_out_value o;
  o.type = gguf_type::array;
  o.elem_type = elem_type;
  o.items = std::move(items);
  return o;
}

namespace {

class encoder {
 public:
  explicit encoder(std::vector<std::byte>& out) : out_(out) {}

  template <typename T>
  void put(T v) {
    const auto* p = reinterpret_cast<const std::byte*>(&v);
    out_.insert(out_.end(), p, p + sizeof(T));
  }
  void put_string(std::string_view s) {
    put<std::uint64_t>(s.size());
    const auto* p = reinterpret_cast<const std::byte*>(s.data());
    out_.insert(out_.end(), p, p + s.size());
  }
  // The value's payload (not its type id).
  void put_value(const gguf_out_value& v) {
    switch (v.type) {
      case gguf_type::u8: put<std::uint8_t>(static_cast<std::uint8_t>(v.u)); break;
      case gguf_type::i8: put<std::int8_t>(static_cast<std::int8_t>(v.i)); break;
      case gguf_type::u16: put<std::uint16_t>(static_cast<std::uint16_t>(v.u)); break;
      case gguf_type::i16: put<std::int16_t>(static_cast<std::int16_t>(v.i)); break;
      case gguf_type::u32: put<std::uint32_t>(static_cast<std::uint32_t>(v.u)); break;
      case gguf_type::i32: put<std::int32_t>(static_cast<std::int32_t>(v.i)); break;
      case gguf_type::f32: put<float>(static_cast<float>(v.f)); break;
      case gguf_type::boolean: put<std::uint8_t>(v.u != 0 ? 1 : 0); break;
      case gguf_type::u64: put<std::uint64_t>(v.u); break;
      case gguf_type::i64: put<std::int64_t>(v.i); break;
      case gguf_type::f64: put<double>(v.f); break;
      case gguf_type::string: put_string(v.str); break;
      case gguf_type::array:
        put<std::uint32_t>(static_cast<std::uint32_t>(v.elem_type));
        put<std::uint64_t>(v.items.size());
        for (const auto& item : v.items) {
          assert(item.type == v.elem_type && "array items must all have the array's element type");
          put_value(item);
        }
        break;
    }
  }
  void pad_to(std::size_t alignment) {
    while (out_.size() % alignment != 0) out_.push_back(std::byte{0});
  }

 private:
  std::vector<std::byte>& out_;
};

}  // namespace

gguf_writer::gguf_writer(std::uint32_t alignment) : alignment_(alignment) {
  if (alignment == 0 || !std::has_single_bit(alignment)) {
    throw config_error(fmt::format("GGUF alignment must be a power of two, got {}", alignment));
  }
  if (alignment != 32) set_u32("general.alignment", alignment);
}

void gguf_writer::set(std::string_view key, gguf_out_value value) {
  for (auto& kv : kvs_) {
    if (kv.first == key) {
      kv.second = std::move(value);
      return;
    }
  }
  kvs_.emplace_back(std::string(key), std::move(value));
}

void gguf_writer::set_u32(std::string_view key, std::uint32_t v) { set(key, gguf_out_value::of_u32(v)); }
void gguf_writer::set_i32(std::string_view key, std::int32_t v) { set(key, gguf_out_value::of_i32(v)); }
void gguf_writer::set_u64(std::string_view key, std::uint64_t v) { set(key, gguf_out_value::of_u64(v)); }
void gguf_writer::set_f32(std::string_view key, float v) { set(key, gguf_out_value::of_f32(v)); }
void gguf_writer::set_bool(std::string_view key, bool v) { set(key, gguf_out_value::of_bool(v)); }
void gguf_writer::set_string(std::string_view key, std::string v) { set(key, gguf_out_value::of_string(std::move(v))); }

void gguf_writer::set_string_array(std::string_view key, std::vector<std::string> v) {
  std::vector<gguf_out_value> items;
  items.reserve(v.size());
  for (auto& s : v) items.push_back(gguf_out_value::of_string(std::move(s)));
  set(key, gguf_out_value::of_array(gguf_type::string, std::move(items)));
}

void gguf_writer::set_f32_array(std::string_view key, std::vector<float> v) {
  std::vector<gguf_out_value> items;
  items.reserve(v.size());
  for (float f : v) items.push_back(gguf_out_value::of_f32(f));
  set(key, gguf_out_value::of_array(gguf_type::f32, std::move(items)));
}

void gguf_writer::set_i32_array(std::string_view key, std::vector<std::int32_t> v) {
  std::vector<gguf_out_value> items;
  items.reserve(v.size());
  for (std::int32_t i : v) items.push_back(gguf_out_value::of_i32(i));
  set(key, gguf_out_value::of_array(gguf_type::i32, std::move(items)));
}

namespace {

gguf_out_value convert_scalar(gguf_type t, const gguf_value& v) {
  gguf_out_value o;
  o.type = t;
  o.u = v.u;
  o.i = v.i;
  o.f = v.f;
  return o;
}

gguf_out_value convert(const gguf_value& v) {
  if (v.type == gguf_type::string) return gguf_out_value::of_string(std::string(v.str));
  if (v.type != gguf_type::array) return convert_scalar(v.type, v);
  const gguf_array& a = *v.arr;
  std::vector<gguf_out_value> items;
  items.reserve(static_cast<std::size_t>(a.count));
  if (a.elem_type == gguf_type::string) {
    for (auto s : a.strings) items.push_back(gguf_out_value::of_string(std::string(s)));
  } else if (a.elem_type == gguf_type::array) {
    for (const auto& inner : a.arrays) items.push_back(convert(inner));
  } else {
    for (std::size_t k = 0; k < a.count; ++k) {
      gguf_value e;
      e.type = a.elem_type;
      if (a.is_float()) {
        e.f = a.float_at(k);
      } else {
        const std::int64_t x = a.int_at(k);
        e.i = x;
        e.u = static_cast<std::uint64_t>(x);
      }
      items.push_back(convert_scalar(a.elem_type, e));
    }
  }
  return gguf_out_value::of_array(a.elem_type, std::move(items));
}

}  // namespace

void gguf_writer::copy_metadata(const gguf_file& src, std::string_view prefix) {
  for (const auto& kv : src.metadata()) {
    if (kv.key.starts_with(prefix)) set(kv.key, convert(kv.value));
  }
}

namespace {

std::size_t checked_tensor_bytes(const std::string& name, tensor_type type, const std::vector<std::int64_t>& ne) {
  if (ne.empty() || ne.size() > static_cast<std::size_t>(max_dims)) {
    throw input_error(fmt::format("tensor '{}': {} dimensions (1 to {} allowed)", name, ne.size(), max_dims));
  }
  const type_traits traits = traits_of(type);
  if (traits.block_size == 0) throw input_error(fmt::format("tensor '{}': unknown type", name));
  std::int64_t n = 1;
  for (auto d : ne) {
    if (d < 0) throw input_error(fmt::format("tensor '{}': negative dimension", name));
    n *= d;
  }
  if (ne[0] % traits.block_size != 0) {
    throw input_error(fmt::format("tensor '{}': row length {} is not a multiple of the {} block size {}", name, ne[0],
                                  traits.name, traits.block_size));
  }
  return static_cast<std::size_t>(n / traits.block_size) * traits.block_bytes;
}

}  // namespace

void gguf_writer::add_tensor(std::string name, tensor_type type, std::vector<std::int64_t> ne,
                             std::span<const std::byte> data) {
  const std::size_t n_bytes = checked_tensor_bytes(name, type, ne);
  if (data.size() != n_bytes) {
    throw input_error(fmt::format("tensor '{}': {} bytes given, {} expected", name, data.size(), n_bytes));
  }
  pending_tensor t{std::move(name), type, std::move(ne), n_bytes, {data.begin(), data.end()}, {}};
  tensors_.push_back(std::move(t));
}

void gguf_writer::add_tensor(std::string name, tensor_type type, std::vector<std::int64_t> ne,
                             gguf_tensor_producer producer) {
  const std::size_t n_bytes = checked_tensor_bytes(name, type, ne);
  pending_tensor t{std::move(name), type, std::move(ne), n_bytes, {}, std::move(producer)};
  tensors_.push_back(std::move(t));
}

std::vector<std::byte> gguf_writer::encode_head() const {
  std::vector<std::byte> out;
  encoder e(out);
  out.insert(out.end(), {std::byte{'G'}, std::byte{'G'}, std::byte{'U'}, std::byte{'F'}});
  e.put<std::uint32_t>(3);
  e.put<std::uint64_t>(tensors_.size());
  e.put<std::uint64_t>(kvs_.size());
  for (const auto& [key, value] : kvs_) {
    e.put_string(key);
    e.put<std::uint32_t>(static_cast<std::uint32_t>(value.type));
    e.put_value(value);
  }
  std::size_t offset = 0;
  for (const auto& t : tensors_) {
    e.put_string(t.name);
    e.put<std::uint32_t>(static_cast<std::uint32_t>(t.ne.size()));
    for (auto d : t.ne) e.put<std::uint64_t>(static_cast<std::uint64_t>(d));
    e.put<std::uint32_t>(static_cast<std::uint32_t>(t.type));
    e.put<std::uint64_t>(offset);
    offset = align_up(offset + t.n_bytes, alignment_);
  }
  // The data section starts aligned; a file without tensors ends here unpadded (as llama.cpp writes it).
  if (!tensors_.empty()) e.pad_to(alignment_);
  return out;
}

void gguf_writer::write_to(const std::function<void(std::span<const std::byte>)>& sink) const {
  sink(encode_head());
  const std::vector<std::byte> zeros(alignment_);
  std::vector<std::byte> buffer;
  for (const auto& t : tensors_) {
    if (t.producer) {
      buffer.assign(t.n_bytes, std::byte{0});
      t.producer(buffer);
      sink(buffer);
    } else {
      sink(t.data);
    }
    const std::size_t pad = align_up(t.n_bytes, alignment_) - t.n_bytes;
    sink(std::span<const std::byte>(zeros.data(), pad));
  }
}

std::vector<std::byte> gguf_writer::to_bytes() const {
  std::vector<std::byte> out;
  write_to([&out](std::span<const std::byte> chunk) { out.insert(out.end(), chunk.begin(), chunk.end()); });
  return out;
}

void gguf_writer::write(const std::filesystem::path& path) const {
  const std::filesystem::path tmp = path.string() + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) throw io_error(fmt::format("{}: cannot create: {}", tmp.string(), std::strerror(errno)));
  try {
    write_to([&](std::span<const std::byte> chunk) {
      if (!chunk.empty() && std::fwrite(chunk.data(), 1, chunk.size(), f) != chunk.size()) {
        throw io_error(fmt::format("{}: write failed: {}", tmp.string(), std::strerror(errno)));
      }
    });
  } catch (...) {
    std::fclose(f);
    std::remove(tmp.c_str());
    throw;
  }
  if (std::fclose(f) != 0) {
    std::remove(tmp.c_str());
    throw io_error(fmt::format("{}: close failed: {}", tmp.string(), std::strerror(errno)));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    throw io_error(fmt::format("{}: cannot rename into place: {}", path.string(), ec.message()));
  }
}

}  // namespace huashan::engine
