// Writer -> reader round trip: every metadata type, nested arrays, tensor
// data and alignment; writing to disk and reading back with mmap.
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>

#include "common/error.hpp"
#include "fixtures.hpp"
#include "harness/engine/gguf.hpp"
#include "harness/engine/gguf_writer.hpp"

using namespace huashan;
using namespace huashan::engine;

namespace {

void check_sample(const gguf_file& f) {
  CHECK(f.version() == 3);
  CHECK(f.architecture() == "llama");
  CHECK(f.find("t.u8")->type == gguf_type::u8);
  CHECK(f.find("t.u8")->u == 200);
  CHECK(f.find("t.i8")->i == -100);
  CHECK(f.find("t.u16")->u == 60000);
  CHECK(f.find("t.i16")->i == -30000);
  CHECK(f.get_u32("t.u32") == 4000000000u);
  CHECK(f.get_i64("t.i32") == -2000000000);
  CHECK(f.get_f32("t.f32") == 1.5f);
  CHECK(f.get_bool("t.bool") == true);
  CHECK(f.get_string("t.string") == "héllo");
  CHECK(f.get_u64("t.u64") == (1ull << 40));
  CHECK(f.get_i64("t.i64") == -(1ll << 40));
  CHECK(f.find("t.f64")->type == gguf_type::f64);
  CHECK(f.find("t.f64")->f == 0.125);
  const gguf_array& strings = f.require_array("t.strings");
  REQUIRE(strings.strings.size() == 3);
  CHECK(strings.strings[0] == "a");
  CHECK(strings.strings[1].empty());
  CHECK(strings.strings[2] == "ccc");
  CHECK(f.require_array("t.floats").to_f32() == std::vector<float>{0.5f, -1.0f});
  CHECK(f.require_array("t.ints").to_i32() == std::vector<std::int32_t>{1, -2, 3});
  const gguf_array& nested = f.require_array("t.nested");
  CHECK(nested.elem_type == gguf_type::array);
  REQUIRE(nested.arrays.size() == 2);
  CHECK(nested.arrays[0].arr->strings.at(0) == "x");
  CHECK(nested.arrays[1].arr->int_at(0) == 7);
  // A u32 getter refuses a negative or a string.
  CHECK_THROWS_AS(f.get_u32("t.i32"), input_error);
  CHECK_THROWS_AS(f.get_u32("t.string"), input_error);
  CHECK_FALSE(f.get_u32("absent").has_value());

  REQUIRE(f.tensors().size() == 3);
  CHECK(f.tensors()[0].name == "a.f32");
  CHECK(f.tensors()[1].type == tensor_type::q8_0);
  CHECK(f.tensors()[1].n_bytes == 4 * 2 * 34);
  CHECK(f.tensors()[2].type == tensor_type::q4_k);
  CHECK(f.tensors()[2].ne[0] == 256);
  CHECK(f.tensors()[2].ne[1] == 2);
  for (const auto& t : f.tensors()) {
    CHECK(reinterpret_cast<std::uintptr_t>(t.data) % 32 == reinterpret_cast<std::uintptr_t>(f.bytes().data()) % 32);
  }
  const auto x = test::gaussian(64 * 4, 1);
  CHECK(std::memcmp(f.require_tensor("a.f32").data, x.data(), x.size() * 4) == 0);
  const auto q = test::quantized(tensor_type::q4_k, test::gaussian(512, 2), 256);
  CHECK(std::memcmp(f.require_tensor("c.q4_k").data, q.data(), q.size()) == 0);
}

}  // namespace

TEST_CASE("writer output reads back identically, in memory and from disk") {
  const gguf_writer w = test::sample_writer();
  const std::vector<std::byte> bytes = w.to_bytes();
  check_sample(gguf_file::open_memory(bytes, "sample.gguf"));

  const auto path = std::filesystem::temp_directory_path() / "huashan_writer_test.gguf";
  w.write(path);
  CHECK(std::filesystem::file_size(path) == bytes.size());
  {
    gguf_file f = gguf_file::open(path);
    check_sample(f);
    // Moving the file keeps its views valid.
    gguf_file moved = std::move(f);
    check_sample(moved);
  }
  std::filesystem::remove(path);
}

TEST_CASE("custom alignment, produced tensors and replaced keys") {
  gguf_writer w(64);
  w.set_u32("k", 1);
  w.set_u32("k", 2);  // replaces
  w.add_tensor("p", tensor_type::f16, {10}, [](std::span<std::byte> out) {
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::byte>(i);
  });
  w.add_tensor("q", tensor_type::f32, {3}, std::vector<std::byte>(12, std::byte{1}));
  const auto bytes = w.to_bytes();
  const gguf_file f = gguf_file::open_memory(bytes, "aligned.gguf");
  CHECK(f.alignment() == 64);
  CHECK(f.data_offset() % 64 == 0);
  CHECK(f.get_u32("k") == 2u);
  CHECK(f.metadata().size() == 2);  // general.alignment and k
  const tensor_view& p = f.require_tensor("p");
  CHECK(p.n_bytes == 20);
  CHECK(static_cast<const unsigned char*>(p.data)[19] == 19);
  const tensor_view& q = f.require_tensor("q");
  CHECK((static_cast<const std::byte*>(q.data) - bytes.data()) % 64 == 0);
}

TEST_CASE("writer rejects inconsistent tensors") {
  gguf_writer w;
  CHECK_THROWS_AS(w.add_tensor("x", tensor_type::q8_0, {33}, std::vector<std::byte>(36)), input_error);
  CHECK_THROWS_AS(w.add_tensor("x", tensor_type::f32, {4}, std::vector<std::byte>(15)), input_error);
  CHECK_THROWS_AS(gguf_writer(48), config_error);
}

TEST_CASE("copy_metadata copies a prefix with every type") {
  const auto bytes = test::sample_writer().to_bytes();
  const gguf_file src = gguf_file::open_memory(bytes, "src.gguf");
  gguf_writer w;
  w.copy_metadata(src, "t.");
  const auto out = w.to_bytes();
  const gguf_file f = gguf_file::open_memory(out, "copy.gguf");
  CHECK(f.metadata().size() == 16);
  CHECK(f.get_string("t.string") == "héllo");
  CHECK(f.find("t.f64")->f == 0.125);
  CHECK(f.find("t.i8")->i == -100);
  CHECK(f.require_array("t.nested").arrays[0].arr->strings.at(0) == "x");
  CHECK(f.require_array("t.ints").to_i32() == std::vector<std::int32_t>{1, -2, 3});
}

// Independent check of the writer against llama.cpp's own writer: re-encoding
// a file llama.cpp wrote (same keys, values, tensors, in the same order) must
// give back the very same bytes. Files: tests/data
// tokenizers/llama-spm/ggml-vocab-llama-spm.gguf (22 keys, no tensors) and
// models/stories260K.gguf (19 keys, 48 f32 tensors).
TEST_CASE("re-encoding files written by llama.cpp reproduces them byte for byte") {
  const std::filesystem::path test_data = HUASHAN_TEST_DATA;
  for (const std::string rel : {"tokenizers/llama-spm/ggml-vocab-llama-spm.gguf", "models/stories260K.gguf"}) {
    CAPTURE(rel);
    const gguf_file src = gguf_file::open(test_data / rel);
    gguf_writer w(static_cast<std::uint32_t>(src.alignment()));
    w.copy_metadata(src, "");
    for (const auto& t : src.tensors()) {
      std::vector<std::int64_t> ne(t.ne.begin(), t.ne.begin() + t.n_dims);
      w.add_tensor(t.name, t.type, ne, std::span(static_cast<const std::byte*>(t.data), t.n_bytes));
    }
    const auto out = w.to_bytes();
    const auto in = src.bytes();
    CHECK(out.size() == in.size());
    const std::size_t n = std::min(out.size(), in.size());
    std::size_t first_diff = n;
    for (std::size_t i = 0; i < n; ++i) {
      if (out[i] != in[i]) {
        first_diff = i;
        break;
      }
    }
    CHECK(first_diff == n);
  }
}
