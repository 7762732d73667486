// Malformed GGUF input: every class of bad count, offset, size, type id and
// length is an input_error naming what is wrong; truncation at every length
// and byte corruption at every offset never crash (run under ASan/UBSan).
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "fixtures.hpp"
#include "harness/engine/gguf.hpp"

using namespace huashan;
using namespace huashan::engine;

namespace {

// Hand-built GGUF bytes, so each field can be set to a bad value.
struct raw_gguf {
  std::vector<std::byte> b;
  template <typename T>
  raw_gguf& put(T v) {
    const auto* p = reinterpret_cast<const std::byte*>(&v);
    b.insert(b.end(), p, p + sizeof(T));
    return *this;
  }
  raw_gguf& str(std::string_view s) {
    put<std::uint64_t>(s.size());
    for (char c : s) b.push_back(static_cast<std::byte>(c));
    return *this;
  }
  raw_gguf& header(std::uint64_t n_tensors, std::uint64_t n_kv, std::uint32_t version = 3) {
    for (char c : std::string_view("GGUF")) b.push_back(static_cast<std::byte>(c));
    return put<std::uint32_t>(version).put<std::uint64_t>(n_tensors).put<std::uint64_t>(n_kv);
  }
  raw_gguf& pad(std::size_t alignment = 32) {
    while (b.size() % alignment != 0) b.push_back(std::byte{0});
    return *this;
  }
  raw_gguf& zeros(std::size_t n) {
    b.insert(b.end(), n, std::byte{0});
    return *this;
  }
};

// Parses `bytes`; returns the input_error message ("" when it parsed).
std::string parse_error(const std::vector<std::byte>& bytes) {
  try {
    (void)gguf_file::open_memory(bytes, "bad.gguf");
  } catch (const input_error& e) {
    return e.what();
  }
  return "";
}

void check_error(const raw_gguf& g, std::string_view expected) {
  const std::string m = parse_error(g.b);
  INFO("message: " << m);
  CHECK(m.starts_with("bad.gguf: "));
  CHECK(m.find(expected) != std::string::npos);
}

// One tensor info: name, dims, type, offset.
raw_gguf& tensor_info(raw_gguf& g, std::string_view name, std::vector<std::uint64_t> ne, std::uint32_t type,
                      std::uint64_t offset) {
  g.str(name).put<std::uint32_t>(static_cast<std::uint32_t>(ne.size()));
  for (auto d : ne) g.put<std::uint64_t>(d);
  return g.put<std::uint32_t>(type).put<std::uint64_t>(offset);
}

}  // namespace

TEST_CASE("a well-formed hand-built file parses") {
  raw_gguf g;
  g.header(1, 1).str("general.architecture").put<std::uint32_t>(8).str("llama");
  tensor_info(g, "w", {8, 2}, 0, 0).pad().zeros(64);
  const gguf_file f = gguf_file::open_memory(g.b, "ok.gguf");
  CHECK(f.architecture() == "llama");
  REQUIRE(f.tensors().size() == 1);
  CHECK(f.tensors()[0].n_bytes == 64);
}

TEST_CASE("header errors") {
  SUBCASE("bad magic") {
    raw_gguf g;
    g.b = {std::byte{'G'}, std::byte{'G'}, std::byte{'M'}, std::byte{'L'}};
    g.zeros(40);
    check_error(g, "not a GGUF file");
  }
  SUBCASE("shorter than the magic") {
    raw_gguf g;
    g.b = {std::byte{'G'}, std::byte{'G'}};
    check_error(g, "truncated file: magic");
  }
  SUBCASE("version 1") { check_error(raw_gguf{}.header(0, 0, 1), "version 1 is not supported"); }
  SUBCASE("unknown version") { check_error(raw_gguf{}.header(0, 0, 99), "unsupported GGUF version 99"); }
  SUBCASE("big-endian") { check_error(raw_gguf{}.header(0, 0, 0x03000000u), "big-endian"); }
  SUBCASE("huge metadata count") { check_error(raw_gguf{}.header(0, 1ull << 62), "metadata count"); }
  SUBCASE("huge tensor count") { check_error(raw_gguf{}.header(~0ull, 0), "tensor count"); }
  SUBCASE("counts beyond the end") { check_error(raw_gguf{}.header(0, 2), "metadata count 2 is impossible"); }
}

TEST_CASE("metadata errors") {
  SUBCASE("key length beyond the file") {
    raw_gguf g;
    g.header(0, 1).put<std::uint64_t>(~0ull).zeros(8);
    check_error(g, "metadata key #0 has length");
  }
  SUBCASE("key length just past the end") {
    raw_gguf g;
    g.header(0, 1).put<std::uint64_t>(10).zeros(8);
    check_error(g, "truncated file: metadata key #0 needs 10 bytes");
  }
  SUBCASE("unknown value type") {
    raw_gguf g;
    g.header(0, 1).str("k").put<std::uint32_t>(13).zeros(8);
    check_error(g, "metadata 'k' type has unknown value type id 13");
  }
  SUBCASE("string value length overflowing") {
    raw_gguf g;
    g.header(0, 1).str("k").put<std::uint32_t>(8).put<std::uint64_t>(~0ull - 3).zeros(4);
    check_error(g, "metadata 'k'");
  }
  SUBCASE("array count beyond the file") {
    raw_gguf g;
    g.header(0, 1).str("k").put<std::uint32_t>(9).put<std::uint32_t>(10).put<std::uint64_t>(1ull << 27).zeros(16);
    check_error(g, "metadata 'k' claims 134217728 u64 elements");
  }
  SUBCASE("array count whose byte size would overflow 64 bits, with the limit lifted") {
    raw_gguf g;
    g.header(0, 1).str("k").put<std::uint32_t>(9).put<std::uint32_t>(10).put<std::uint64_t>(1ull << 61).zeros(16);
    gguf_limits limits;
    limits.max_array_elements = ~0ull;
    CHECK_THROWS_WITH_AS(gguf_file::open_memory(g.b, "bad.gguf", limits), doctest::Contains("claims"), input_error);
  }
  SUBCASE("array over the element limit") {
    raw_gguf g;
    g.header(0, 1).str("k").put<std::uint32_t>(9).put<std::uint32_t>(8).put<std::uint64_t>(~0ull).zeros(16);
    check_error(g, "over the limit");
  }
  SUBCASE("array of strings cut short") {
    raw_gguf g;
    g.header(0, 1).str("k").put<std::uint32_t>(9).put<std::uint32_t>(8).put<std::uint64_t>(2).str("ab");
    g.put<std::uint64_t>(5).zeros(2);
    check_error(g, "truncated file: metadata 'k'");
  }
  SUBCASE("unknown array element type") {
    raw_gguf g;
    g.header(0, 1).str("k").put<std::uint32_t>(9).put<std::uint32_t>(77).put<std::uint64_t>(0);
    check_error(g, "unknown value type id 77");
  }
  SUBCASE("arrays nested too deep") {
    raw_gguf g;
    g.header(0, 1).str("k").put<std::uint32_t>(9);
    for (int d = 0; d < 6; ++d) g.put<std::uint32_t>(9).put<std::uint64_t>(1);
    g.put<std::uint32_t>(0).put<std::uint64_t>(0).zeros(32);
    check_error(g, "nests arrays deeper");
  }
  SUBCASE("duplicate key") {
    raw_gguf g;
    g.header(0, 2).str("k").put<std::uint32_t>(0).put<std::uint8_t>(1).str("k").put<std::uint32_t>(0).put<std::uint8_t>(2);
    check_error(g, "duplicate metadata key 'k'");
  }
  SUBCASE("alignment not a power of two") {
    raw_gguf g;
    g.header(0, 1).str("general.alignment").put<std::uint32_t>(4).put<std::uint32_t>(48);
    check_error(g, "general.alignment must be a power of two");
  }
  SUBCASE("alignment zero") {
    raw_gguf g;
    g.header(0, 1).str("general.alignment").put<std::uint32_t>(4).put<std::uint32_t>(0);
    check_error(g, "general.alignment must be a power of two");
  }
}

TEST_CASE("tensor info errors") {
  SUBCASE("too many dimensions") {
    raw_gguf g;
    g.header(1, 0);
    tensor_info(g, "t", {1, 1, 1, 1, 1}, 0, 0).pad().zeros(32);
    check_error(g, "tensor 't' has 5 dimensions");
  }
  SUBCASE("element count overflow") {
    raw_gguf g;
    g.header(1, 0);
    tensor_info(g, "t", {1ull << 40, 1ull << 40}, 0, 0).pad().zeros(32);
    check_error(g, "tensor 't' element count overflows");
  }
  SUBCASE("dimension above int64") {
    raw_gguf g;
    g.header(1, 0);
    tensor_info(g, "t", {~0ull}, 0, 0).pad().zeros(32);
    check_error(g, "too large");
  }
  SUBCASE("byte size larger than the file") {
    raw_gguf g;
    g.header(1, 0);
    tensor_info(g, "t", {1ull << 30, 1ull << 20}, 0, 0).pad().zeros(32);
    check_error(g, "needs more bytes than the file has");
  }
  SUBCASE("unknown tensor type") {
    raw_gguf g;
    g.header(1, 0);
    tensor_info(g, "t", {32}, 99, 0).pad().zeros(32);
    check_error(g, "tensor 't' has unknown tensor type id 99");
  }
  SUBCASE("row not a whole number of blocks") {
    raw_gguf g;
    g.header(1, 0);
    tensor_info(g, "t", {33}, 8, 0).pad().zeros(64);
    check_error(g, "row length 33 is not a multiple of the q8_0 block size 32");
  }
  SUBCASE("misaligned offset") {
    raw_gguf g;
    g.header(1, 0);
    tensor_info(g, "t", {4}, 0, 4).pad().zeros(64);
    check_error(g, "offset 4 is not a multiple of the alignment 32");
  }
  SUBCASE("data beyond the end") {
    raw_gguf g;
    g.header(1, 0);
    tensor_info(g, "blk.0.attn_q.weight", {16}, 0, 32).pad().zeros(64);
    check_error(g, "tensor 'blk.0.attn_q.weight' data [32, 32 + 64)");
    check_error(g, "exceeds file size");
  }
  SUBCASE("offset + size overflowing 64 bits") {
    raw_gguf g;
    g.header(1, 0);
    tensor_info(g, "t", {8}, 0, ~0ull - 31).pad().zeros(32);
    check_error(g, "exceeds file size");
  }
  SUBCASE("duplicate tensor names") {
    raw_gguf g;
    g.header(2, 0);
    tensor_info(g, "t", {8}, 0, 0);
    tensor_info(g, "t", {8}, 0, 32).pad().zeros(64);
    check_error(g, "duplicate tensor name 't'");
  }
  SUBCASE("tensor name length beyond the file") {
    raw_gguf g;
    g.header(1, 0).put<std::uint64_t>(1ull << 40).zeros(40);
    check_error(g, "tensor #0 name");
  }
}

TEST_CASE("an empty file on disk is an input_error") {
  const auto path = std::filesystem::temp_directory_path() / "huashan_empty_test.gguf";
  { std::ofstream(path).flush(); }
  CHECK_THROWS_WITH_AS(gguf_file::open(path), doctest::Contains("empty file"), input_error);
  std::filesystem::remove(path);
}

TEST_CASE("truncation at every length fails cleanly until the last tensor's data is complete") {
  const std::vector<std::byte> full = test::sample_writer().to_bytes();
  const gguf_file ok = gguf_file::open_memory(full, "full.gguf");
  std::size_t data_end = 0;
  for (const auto& t : ok.tensors()) {
    data_end = std::max<std::size_t>(data_end, static_cast<const std::byte*>(t.data) - full.data() + t.n_bytes);
  }
  REQUIRE(data_end > 0);
  for (std::size_t len = 0; len < full.size(); ++len) {
    const std::vector<std::byte> cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(len));
    const std::string m = parse_error(cut);
    if (len < data_end) {
      INFO("length " << len);
      CHECK_FALSE(m.empty());
    } else {
      CHECK(m.empty());  // only alignment padding after the last tensor was cut
    }
  }
}

TEST_CASE("corrupting any byte never crashes: the file parses or is an input_error") {
  const std::vector<std::byte> full = test::sample_writer().to_bytes();
  const std::uint8_t patterns[] = {0xff, 0x00, 0x80, 0x7f};
  std::size_t rejected = 0;
  for (std::size_t pos = 0; pos < full.size(); ++pos) {
    for (std::uint8_t p : patterns) {
      std::vector<std::byte> bad = full;
      if (bad[pos] == std::byte{p}) continue;
      bad[pos] = std::byte{p};
      try {
        const gguf_file f = gguf_file::open_memory(bad, "bad.gguf");
        // Whatever parsed must be in bounds: touch every tensor byte and metadata value.
        unsigned sum = 0;
        for (const auto& t : f.tensors()) {
          const auto* d = static_cast<const unsigned char*>(t.data);
          for (std::size_t i = 0; i < t.n_bytes; ++i) sum += d[i];
        }
        for (const auto& kv : f.metadata()) sum += static_cast<unsigned>(kv.value.to_display().size());
        (void)sum;
      } catch (const input_error&) {
        ++rejected;
      }
    }
  }
  CHECK(rejected > 0);
}
