// GGUF parsing. All reads go through `cursor`, which checks every length
// against the bytes left before touching them; sizes are multiplied with
// overflow checks. Numbers are little-endian (big-endian files are refused).
#include "harness/engine/gguf.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <cstdint>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>

#include "common/error.hpp"
#include "harness/engine/align.hpp"

namespace huashan::engine {

static_assert(std::endian::native == std::endian::little, "the GGUF reader assumes a little-endian host");

std::string_view gguf_type_name(gguf_type t) {
  switch (t) {
    case gguf_type::u8: return "u8";
    case gguf_type::i8: return "i8";
    case gguf_type::u16: return "u16";
    case gguf_type::i16: return "i16";
    case gguf_type::u32: return "u32";
    case gguf_type::i32: return "i32";
    case gguf_type::f32: return "f32";
    case gguf_type::boolean: return "bool";
    case gguf_type::string: return "string";
    case gguf_type::array: return "array";
    case gguf_type::u64: return "u64";
    case gguf_type::i64: return "i64";
    case gguf_type::f64: return "f64";
  }
  return "unknown";
}

namespace {

// Bytes of one element of a fixed-size type; 0 for string/array/unknown.
std::size_t scalar_size(gguf_type t) {
  switch (t) {
    case gguf_type::u8:
    case gguf_type::i8:
    case gguf_type::boolean: return 1;
    case gguf_type::u16:
    case gguf_type::i16: return 2;
    case gguf_type::u32:
    case gguf_type::i32:
    case gguf_type::f32: return 4;
    case gguf_type::u64:
    case gguf_type::i64:
    case gguf_type::f64: return 8;
    case gguf_type::string:
    case gguf_type::array: return 0;
  }
  return 0;
}

bool known_type(std::uint32_t id) { return id <= static_cast<std::uint32_t>(gguf_type::f64); }

template <typename T>
T load(const std::byte* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

// Decodes a fixed-size scalar at p into the matching field of a value.
void decode_scalar(gguf_type t, const std::byte* p, gguf_value& v) {
  v.type = t;
  switch (t) {
    case gguf_type::u8: v.u = load<std::uint8_t>(p); break;
    case gguf_type::i8: v.i = load<std::int8_t>(p); break;
    case gguf_type::u16: v.u = load<std::uint16_t>(p); break;
    case gguf_type::i16: v.i = load<std::int16_t>(p); break;
    case gguf_type::u32: v.u = load<std::uint32_t>(p); break;
    case gguf_type::i32: v.i = load<std::int32_t>(p); break;
    case gguf_type::f32: v.f = load<float>(p); break;
    case gguf_type::boolean: v.u = load<std::uint8_t>(p) != 0 ? 1 : 0; break;
    case gguf_type::u64: v.u = load<std::uint64_t>(p); break;
    case gguf_type::i64: v.i = load<std::int64_t>(p); break;
    case gguf_type::f64: v.f = load<double>(p); break;
    case gguf_type::string:
    case gguf_type::array: break;
  }
}

// Checked sequential reads over the file; `what` names the field for errors.
class cursor {
 public:
  cursor(std::span<const std::byte> bytes, const std::string& name, const gguf_limits& limits)
      : bytes_(bytes), name_(name), limits_(limits) {}

  std::size_t pos() const { return pos_; }
  std::size_t left() const { return bytes_.size() - pos_; }

  [[noreturn]] void fail(const std::string& message) const {
    throw input_error(fmt::format("{}: {}", name_, message));
  }

  const std::byte* take(std::size_t n, std::string_view what) {
    if (n > left()) {
      fail(fmt::format("truncated file: {} needs {} bytes at offset {} but only {} remain (file size {})", what, n,
                       pos_, left(), bytes_.size()));
    }
    const std::byte* p = bytes_.data() + pos_;
    pos_ += n;
    return p;
  }

  template <typename T>
  T read(std::string_view what) {
    return load<T>(take(sizeof(T), what));
  }

  std::string_view read_string(std::string_view what) {
    const auto len = read<std::uint64_t>(what);
    if (len > limits_.max_string_bytes) {
      fail(fmt::format("{} has length {} at offset {}, over the limit of {} bytes", what, len, pos_ - 8,
                       limits_.max_string_bytes));
    }
    const std::byte* p = take(static_cast<std::size_t>(len), what);
    return {reinterpret_cast<const char*>(p), static_cast<std::size_t>(len)};
  }

  gguf_type read_type(std::string_view what) {
    const auto id = read<std::uint32_t>(what);
    if (!known_type(id)) fail(fmt::format("{} has unknown value type id {} at offset {}", what, id, pos_ - 4));
    return static_cast<gguf_type>(id);
  }

  gguf_value read_value(gguf_type t, const std::string& what, int depth) {
    gguf_value v;
    v.type = t;
    if (t == gguf_type::string) {
      v.str = read_string(what);
      return v;
    }
    if (t == gguf_type::array) {
      if (depth >= limits_.max_array_depth) {
        fail(fmt::format("{} nests arrays deeper than {}", what, limits_.max_array_depth));
      }
      auto arr = std::make_shared<gguf_array>();
      arr->elem_type = read_type(what + " element type");
      arr->count = read<std::uint64_t>(what + " element count");
      if (arr->count > limits_.max_array_elements) {
        fail(fmt::format("{} has {} elements, over the limit of {}", what, arr->count, limits_.max_array_elements));
      }
      // Smallest encoding of one element: strings 8 bytes (length), arrays 12 (type + count).
      const std::size_t min_elem = arr->elem_type == gguf_type::string  ? 8
                                   : arr->elem_type == gguf_type::array ? 12
                                                                        : scalar_size(arr->elem_type);
      if (arr->count > left() / min_elem) {
        fail(fmt::format("truncated file: {} claims {} {} elements ({}+ bytes each) at offset {} but only {} bytes "
                         "remain",
                         what, arr->count, gguf_type_name(arr->elem_type), min_elem, pos_, left()));
      }
      const auto count = static_cast<std::size_t>(arr->count);
      if (arr->elem_type == gguf_type::string) {
        arr->strings.reserve(count);
        for (std::size_t k = 0; k < count; ++k) arr->strings.push_back(read_string(what));
      } else if (arr->elem_type == gguf_type::array) {
        arr->arrays.reserve(count);
        for (std::size_t k = 0; k < count; ++k) {
          const gguf_type inner = gguf_type::array;
          arr->arrays.push_back(read_value(inner, fmt::format("{}[{}]", what, k), depth + 1));
        }
      } else {
        arr->raw = take(count * min_elem, what);
      }
      v.arr = std::move(arr);
      return v;
    }
    decode_scalar(t, take(scalar_size(t), what), v);
    return v;
  }

 private:
  std::span<const std::byte> bytes_;
  const std::string& name_;
  const gguf_limits& limits_;
  std::size_t pos_ = 0;
};

template <typename Index>
std::size_t find_index(const Index& index, std::string_view key) {
  const auto it = std::lower_bound(index.begin(), index.end(), key,
                                   [](const auto& entry, std::string_view k) { return entry.first < k; });
  if (it == index.end() || it->first != key) return std::numeric_limits<std::size_t>::max();
  return it->second;
}

}  // namespace

// ---------------------------------------------------------------- values

bool gguf_array::is_integer() const {
  gguf_value probe;
  probe.type = elem_type;
  return probe.is_integer() || elem_type == gguf_type::boolean;
}

bool gguf_array::is_float() const { return elem_type == gguf_type::f32 || elem_type == gguf_type::f64; }

std::int64_t gguf_array::int_at(std::size_t i) const {
  if (!is_integer() || raw == nullptr) {
    throw input_error(fmt::format("array of {} read as integers", gguf_type_name(elem_type)));
  }
  if (i >= count) throw input_error(fmt::format("array index {} out of range (size {})", i, count));
  gguf_value v;
  decode_scalar(elem_type, raw + i * scalar_size(elem_type), v);
  return v.is_unsigned() || v.type == gguf_type::boolean ? static_cast<std::int64_t>(v.u) : v.i;
}

double gguf_array::float_at(std::size_t i) const {
  if (!(is_float() || is_integer()) || raw == nullptr) {
    throw input_error(fmt::format("array of {} read as numbers", gguf_type_name(elem_type)));
  }
  if (i >= count) throw input_error(fmt::format("array index {} out of range (size {})", i, count));
  if (is_integer()) return static_cast<double>(int_at(i));
  gguf_value v;
  decode_scalar(elem_type, raw + i * scalar_size(elem_type), v);
  return v.f;
}

std::vector<float> gguf_array::to_f32() const {
  std::vector<float> out(static_cast<std::size_t>(count));
  for (std::size_t k = 0; k < out.size(); ++k) out[k] = static_cast<float>(float_at(k));
  return out;
}

std::vector<std::int32_t> gguf_array::to_i32() const {
  std::vector<std::int32_t> out(static_cast<std::size_t>(count));
  for (std::size_t k = 0; k < out.size(); ++k) {
    const std::int64_t v = int_at(k);
    if (v < std::numeric_limits<std::int32_t>::min() || v > std::numeric_limits<std::int32_t>::max()) {
      throw input_error(fmt::format("array element {} = {} does not fit in i32", k, v));
    }
    out[k] = static_cast<std::int32_t>(v);
  }
  return out;
}

bool gguf_value::is_unsigned() const {
  return type == gguf_type::u8 || type == gguf_type::u16 || type == gguf_type::u32 || type == gguf_type::u64;
}

bool gguf_value::is_signed() const {
  return type == gguf_type::i8 || type == gguf_type::i16 || type == gguf_type::i32 || type == gguf_type::i64;
}

std::optional<std::int64_t> gguf_value::as_int() const {
  if (is_signed()) return i;
  if (is_unsigned()) {
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
    return static_cast<std::int64_t>(u);
  }
  return std::nullopt;
}

std::optional<double> gguf_value::as_float() const {
  if (is_float()) return f;
  if (is_signed()) return static_cast<double>(i);
  if (is_unsigned()) return static_cast<double>(u);
  return std::nullopt;
}

std::string gguf_value::to_display() const {
  if (is_unsigned()) return fmt::format("{}", u);
  if (is_signed()) return fmt::format("{}", i);
  if (type == gguf_type::f32) return fmt::format("{}", static_cast<float>(f));  // shortest float text
  if (is_float()) return fmt::format("{}", f);
  if (type == gguf_type::boolean) return u != 0 ? "true" : "false";
  if (type == gguf_type::string) {
    constexpr std::size_t shown = 60;
    std::string s(str.substr(0, shown));
    for (char& c : s) {
      if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    }
    return fmt::format("\"{}{}\"", s, str.size() > shown ? "..." : "");
  }
  if (type == gguf_type::array && arr) return fmt::format("[{} x {}]", gguf_type_name(arr->elem_type), arr->count);
  return "?";
}

// ---------------------------------------------------------------- file

gguf_file gguf_file::open(const std::filesystem::path& path, const gguf_limits& limits) {
  gguf_file file;
  file.name_ = path.string();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw io_error(fmt::format("{}: cannot open: {}", file.name_, std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw io_error(fmt::format("{}: cannot stat: {}", file.name_, std::strerror(err)));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw input_error(fmt::format("{}: not a regular file", file.name_));
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  if (size == 0) {
    ::close(fd);
    throw input_error(fmt::format("{}: empty file, not a GGUF model", file.name_));
  }
  void* base = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  const int map_err = errno;
  ::close(fd);
  if (base == MAP_FAILED) throw io_error(fmt::format("{}: cannot mmap: {}", file.name_, std::strerror(map_err)));
  file.map_ = base;
  file.map_size_ = size;
  file.bytes_ = {static_cast<const std::byte*>(base), size};
  file.parse(limits);  // on throw, ~gguf_file unmaps
  return file;
}

void gguf_file::release_pages(const void* data, std::size_t n_bytes) const {
  if (map_ == nullptr) return;
  const auto base = reinterpret_cast<std::uintptr_t>(map_);
  const auto begin = reinterpret_cast<std::uintptr_t>(data);
  if (begin < base || begin - base > map_size_ || n_bytes > map_size_ - (begin - base)) return;
  // Whole pages only: a page shared with a neighbouring tensor stays.
  const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  const std::uintptr_t first = (begin + page - 1) / page * page;
  const std::uintptr_t last = (begin + n_bytes) / page * page;
  if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}

gguf_file gguf_file::open_memory(std::span<const std::byte> bytes, std::string name, const gguf_limits& limits) {
  gguf_file file;
  file.name_ = std::move(name);
  file.bytes_ = bytes;
  file.parse(limits);
  return file;
}

gguf_file::gguf_file(gguf_file&& other) noexcept { *this = std::move(other); }

gguf_file& gguf_file::operator=(gguf_file&& other) noexcept {
  if (this == &other) return *this;
  unmap();
  name_ = std::move(other.name_);
  bytes_ = other.bytes_;
  map_ = std::exchange(other.map_, nullptr);
  map_size_ = std::exchange(other.map_size_, 0);
  version_ = other.version_;
  alignment_ = other.alignment_;
  data_offset_ = other.data_offset_;
  kvs_ = std::move(other.kvs_);
  tensors_ = std::move(other.tensors_);
  kv_index_ = std::move(other.kv_index_);
  tensor_index_ = std::move(other.tensor_index_);
  other.bytes_ = {};
  return *this;
}

gguf_file::~gguf_file() { unmap(); }

void gguf_file::unmap() noexcept {
  if (map_ != nullptr) ::munmap(map_, map_size_);
  map_ = nullptr;
  map_size_ = 0;
}

void gguf_file::parse(const gguf_limits& limits) {
  cursor in(bytes_, name_, limits);

  const std::byte* magic = in.take(4, "magic");
  if (std::memcmp(magic, "GGUF", 4) != 0) {
    in.fail("not a GGUF file (the first 4 bytes are not \"GGUF\")");
  }
  version_ = in.read<std::uint32_t>("version");
  if (version_ == 1) in.fail("GGUF version 1 is not supported (versions 2 and 3 are)");
  if (version_ != 2 && version_ != 3) {
    if ((version_ & 0xffffu) == 0 && (__builtin_bswap32(version_) == 2 || __builtin_bswap32(version_) == 3)) {
      in.fail("big-endian GGUF files are not supported");
    }
    in.fail(fmt::format("unsupported GGUF version {} (versions 2 and 3 are)", version_));
  }
  const auto n_tensors = in.read<std::uint64_t>("tensor count");
  const auto n_kv = in.read<std::uint64_t>("metadata count");
  // Smallest encodings: a key/value 13 bytes (key length, type, u8), a tensor info 24.
  if (n_kv > limits.max_kv || n_kv > in.left() / 13) {
    in.fail(fmt::format("metadata count {} is impossible for a file of {} bytes (truncated or corrupt header)", n_kv,
                        bytes_.size()));
  }
  if (n_tensors > limits.max_tensors || n_tensors > in.left() / 24) {
    in.fail(fmt::format("tensor count {} is impossible for a file of {} bytes (truncated or corrupt header)",
                        n_tensors, bytes_.size()));
  }

  kvs_.reserve(static_cast<std::size_t>(n_kv));
  for (std::uint64_t k = 0; k < n_kv; ++k) {
    const std::string_view key = in.read_string(fmt::format("metadata key #{}", k));
    const std::string what = fmt::format("metadata '{}'", key);
    const gguf_type type = in.read_type(what + " type");
    kvs_.push_back({key, in.read_value(type, what, 0)});
  }
  kv_index_.reserve(kvs_.size());
  for (std::size_t k = 0; k < kvs_.size(); ++k) kv_index_.emplace_back(kvs_[k].key, k);
  std::sort(kv_index_.begin(), kv_index_.end());
  for (std::size_t k = 1; k < kv_index_.size(); ++k) {
    if (kv_index_[k].first == kv_index_[k - 1].first) in.fail(fmt::format("duplicate metadata key '{}'", kv_index_[k].first));
  }

  if (const gguf_value* a = find("general.alignment")) {
    const auto v = a->as_int();
    if (!v || *v <= 0 || !std::has_single_bit(static_cast<std::uint64_t>(*v)) || *v > (1 << 20)) {
      in.fail(fmt::format("general.alignment must be a power of two up to 1 MiB, got {}", a->to_display()));
    }
    alignment_ = static_cast<std::uint64_t>(*v);
  }

  struct raw_info {
    std::uint64_t offset;
  };
  std::vector<raw_info> raw(static_cast<std::size_t>(n_tensors));
  tensors_.resize(static_cast<std::size_t>(n_tensors));
  for (std::uint64_t k = 0; k < n_tensors; ++k) {
    tensor_view& t = tensors_[k];
    t.name = std::string(in.read_string(fmt::format("tensor #{} name", k)));
    const std::string what = fmt::format("tensor '{}'", t.name);
    const auto n_dims = in.read<std::uint32_t>(what + " dimension count");
    if (n_dims > static_cast<std::uint32_t>(max_dims)) {
      in.fail(fmt::format("{} has {} dimensions (at most {})", what, n_dims, max_dims));
    }
    t.n_dims = static_cast<int>(n_dims);
    std::int64_t n_elements = 1;
    for (std::uint32_t d = 0; d < n_dims; ++d) {
      const auto ne = in.read<std::uint64_t>(what + " dimension");
      if (ne > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        in.fail(fmt::format("{} dimension {} is {}, too large", what, d, ne));
      }
      t.ne[d] = static_cast<std::int64_t>(ne);
      if (__builtin_mul_overflow(n_elements, t.ne[d], &n_elements)) {
        in.fail(fmt::format("{} element count overflows (dimensions too large)", what));
      }
    }
    const auto type_id = in.read<std::uint32_t>(what + " type");
    const type_traits traits = traits_of(type_id);
    if (traits.block_size == 0) in.fail(fmt::format("{} has unknown tensor type id {}", what, type_id));
    t.type = static_cast<tensor_type>(type_id);
    if (t.ne[0] % traits.block_size != 0) {
      in.fail(fmt::format("{} row length {} is not a multiple of the {} block size {}", what, t.ne[0], traits.name,
                          traits.block_size));
    }
    // n_elements is a multiple of the block size since ne[0] is.
    const auto n_blocks = static_cast<std::uint64_t>(n_elements / traits.block_size);
    std::uint64_t n_bytes = 0;
    if (__builtin_mul_overflow(n_blocks, static_cast<std::uint64_t>(traits.block_bytes), &n_bytes) ||
        n_bytes > bytes_.size()) {
      in.fail(fmt::format("{} of {} {} elements needs more bytes than the file has ({})", what, n_elements,
                          traits.name, bytes_.size()));
    }
    t.n_bytes = static_cast<std::size_t>(n_bytes);
    raw[k].offset = in.read<std::uint64_t>(what + " offset");
    if (raw[k].offset % alignment_ != 0) {
      in.fail(fmt::format("{} offset {} is not a multiple of the alignment {}", what, raw[k].offset, alignment_));
    }
  }

  // Data starts at the next multiple of the alignment after the infos.
  const std::uint64_t end_of_infos = in.pos();
  data_offset_ = align_up(end_of_infos, alignment_);
  const std::uint64_t size = bytes_.size();
  for (std::size_t k = 0; k < tensors_.size(); ++k) {
    tensor_view& t = tensors_[k];
    std::uint64_t begin = 0;
    std::uint64_t end = 0;
    if (__builtin_add_overflow(data_offset_, raw[k].offset, &begin) || __builtin_add_overflow(begin, t.n_bytes, &end) ||
        end > size) {
      in.fail(fmt::format("tensor '{}' data [{}, {} + {}) (data section starts at {}) exceeds file size {}", t.name,
                          raw[k].offset, raw[k].offset, t.n_bytes, data_offset_, size));
    }
    t.data = bytes_.data() + begin;
  }

  tensor_index_.reserve(tensors_.size());
  for (std::size_t k = 0; k < tensors_.size(); ++k) tensor_index_.emplace_back(tensors_[k].name, k);
  std::sort(tensor_index_.begin(), tensor_index_.end());
  for (std::size_t k = 1; k < tensor_index_.size(); ++k) {
    if (tensor_index_[k].first == tensor_index_[k - 1].first) {
      in.fail(fmt::format("duplicate tensor name '{}'", tensor_index_[k].first));
    }
  }
}

// ---------------------------------------------------------------- lookups

const gguf_value* gguf_file::find(std::string_view key) const {
  const std::size_t k = find_index(kv_index_, key);
  return k < kvs_.size() ? &kvs_[k].value : nullptr;
}

namespace {

[[noreturn]] void wrong_type(const std::string& file, std::string_view key, std::string_view expected,
                             const gguf_value& v) {
  throw input_error(fmt::format("{}: metadata '{}' should be {} but is {} {}", file, key, expected,
                                gguf_type_name(v.type), v.to_display()));
}

}  // namespace

std::optional<std::string_view> gguf_file::get_string(std::string_view key) const {
  const gguf_value* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (v->type != gguf_type::string) wrong_type(name_, key, "a string", *v);
  return v->str;
}

std::optional<std::uint32_t> gguf_file::get_u32(std::string_view key) const {
  const gguf_value* v = find(key);
  if (v == nullptr) return std::nullopt;
  const auto i = v->as_int();
  if (!i || *i < 0 || *i > std::numeric_limits<std::uint32_t>::max()) wrong_type(name_, key, "a u32", *v);
  return static_cast<std::uint32_t>(*i);
}

std::optional<std::uint64_t> gguf_file::get_u64(std::string_view key) const {
  const gguf_value* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_unsigned()) return v->u;
  const auto i = v->as_int();
  if (!i || *i < 0) wrong_type(name_, key, "a u64", *v);
  return static_cast<std::uint64_t>(*i);
}

std::optional<std::int64_t> gguf_file::get_i64(std::string_view key) const {
  const gguf_value* v = find(key);
  if (v == nullptr) return std::nullopt;
  const auto i = v->as_int();
  if (!i) wrong_type(name_, key, "an integer", *v);
  return *i;
}

std::optional<float> gguf_file::get_f32(std::string_view key) const {
  const gguf_value* v = find(key);
  if (v == nullptr) return std::nullopt;
  const auto f = v->as_float();
  if (!f) wrong_type(name_, key, "a number", *v);
  return static_cast<float>(*f);
}

std::optional<bool> gguf_file::get_bool(std::string_view key) const {
  const gguf_value* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (v->type != gguf_type::boolean) wrong_type(name_, key, "a bool", *v);
  return v->u != 0;
}

const gguf_array* gguf_file::get_array(std::string_view key) const {
  const gguf_value* v = find(key);
  if (v == nullptr) return nullptr;
  if (v->type != gguf_type::array || !v->arr) wrong_type(name_, key, "an array", *v);
  return v->arr.get();
}

namespace {
[[noreturn]] void missing(const std::string& file, std::string_view key) {
  throw input_error(fmt::format("{}: metadata '{}' is missing", file, key));
}
}  // namespace

std::string_view gguf_file::require_string(std::string_view key) const {
  const auto v = get_string(key);
  if (!v) missing(name_, key);
  return *v;
}

std::uint32_t gguf_file::require_u32(std::string_view key) const {
  const auto v = get_u32(key);
  if (!v) missing(name_, key);
  return *v;
}

float gguf_file::require_f32(std::string_view key) const {
  const auto v = get_f32(key);
  if (!v) missing(name_, key);
  return *v;
}

const gguf_array& gguf_file::require_array(std::string_view key) const {
  const gguf_array* v = get_array(key);
  if (v == nullptr) missing(name_, key);
  return *v;
}

std::string_view gguf_file::architecture() const { return get_string("general.architecture").value_or(""); }

std::string gguf_file::arch_key(std::string_view suffix) const {
  return fmt::format("{}.{}", architecture(), suffix);
}

const tensor_view* gguf_file::find_tensor(std::string_view name) const {
  const std::size_t k = find_index(tensor_index_, name);
  return k < tensors_.size() ? &tensors_[k] : nullptr;
}

const tensor_view& gguf_file::require_tensor(std::string_view name) const {
  const tensor_view* t = find_tensor(name);
  if (t == nullptr) throw input_error(fmt::format("{}: tensor '{}' is missing", name_, name));
  return *t;
}

}  // namespace huashan::engine
