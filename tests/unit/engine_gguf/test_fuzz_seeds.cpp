// The seed corpus of tests/fuzz/fuzz_gguf.cpp, generated here with the writer
// (never copied from shared data). With HUASHAN_WRITE_FUZZ_SEEDS=1 this test
// (re)writes tests/fuzz/corpus/gguf/; otherwise it checks that the committed
// seeds are exactly what the writer produces now and that each parses.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include "fixtures.hpp"
#include "harness/engine/gguf.hpp"
#include "harness/engine/gguf_writer.hpp"

using namespace huashan::engine;

namespace {

std::map<std::string, std::vector<std::byte>> make_seeds() {
  std::map<std::string, std::vector<std::byte>> seeds;
  // Every metadata type, nested arrays, f32/q8_0/q4_k tensors.
  seeds["all_types.gguf"] = test::sample_writer().to_bytes();
  // Version 2: same layout, only the version field differs.
  auto v2 = seeds["all_types.gguf"];
  v2[4] = std::byte{2};
  seeds["all_types_v2.gguf"] = v2;
  {
    // A vocab-only file shaped like a tokenizer: tokens, scores, types, merges, template.
    gguf_writer w;
    w.set_string("general.architecture", "qwen3");
    w.set_string("tokenizer.ggml.model", "gpt2");
    w.set_string("tokenizer.ggml.pre", "qwen2");
    w.set_string_array("tokenizer.ggml.tokens", {"a", "b", "ab", "Ġ", "Ġab", "<|endoftext|>"});
    w.set_i32_array("tokenizer.ggml.token_type", {1, 1, 1, 1, 1, 3});
    w.set_f32_array("tokenizer.ggml.scores", {0, -1, -2, -3, -4, 0});
    w.set_string_array("tokenizer.ggml.merges", {"a b", "Ġ ab"});
    w.set_u32("tokenizer.ggml.eos_token_id", 5);
    w.set_bool("tokenizer.ggml.add_bos_token", false);
    w.set_string("tokenizer.chat_template", "{% for m in messages %}{{ m['content'] }}{% endfor %}");
    seeds["vocab_only.gguf"] = w.to_bytes();
  }
  {
    // Alignment 64 and the remaining computable types.
    gguf_writer w(64);
    w.set_string("general.architecture", "llama");
    w.set_u32("llama.block_count", 1);
    const auto x = test::gaussian(256 * 2, 3);
    w.add_tensor("a.q6_k", tensor_type::q6_k, {256, 2}, test::quantized(tensor_type::q6_k, x, 256));
    const auto first = [&x](std::size_t n) { return std::vector<float>(x.begin(), x.begin() + static_cast<long>(n)); };
    w.add_tensor("b.q4_0", tensor_type::q4_0, {64, 2}, test::quantized(tensor_type::q4_0, first(128), 64));
    w.add_tensor("c.f16", tensor_type::f16, {8, 3}, test::quantized(tensor_type::f16, first(24), 8));
    w.add_tensor("d.bf16", tensor_type::bf16, {4, 2, 2}, test::quantized(tensor_type::bf16, first(16), 4));
    w.add_tensor("e.q5_k", tensor_type::q5_k, {256}, std::vector<std::byte>(176, std::byte{7}));
    seeds["types_align64.gguf"] = w.to_bytes();
  }
  return seeds;
}

std::vector<std::byte> read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<char> chars{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  std::vector<std::byte> out(chars.size());
  std::memcpy(out.data(), chars.data(), chars.size());
  return out;
}

}  // namespace

TEST_CASE("fuzz seed corpus for fuzz_gguf") {
  const std::filesystem::path dir = std::filesystem::path(HUASHAN_SOURCE_DIR) / "tests/fuzz/corpus/gguf";
  const auto seeds = make_seeds();
  const char* write = std::getenv("HUASHAN_WRITE_FUZZ_SEEDS");
  for (const auto& [name, bytes] : seeds) {
    CAPTURE(name);
    CHECK(bytes.size() < 10 * 1024);
    CHECK_NOTHROW((void)gguf_file::open_memory(bytes, name));
    if (write != nullptr && std::string(write) == "1") {
      std::filesystem::create_directories(dir);
      std::ofstream(dir / name, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                        static_cast<std::streamsize>(bytes.size()));
    } else {
      INFO("stale or missing seed: regenerate with HUASHAN_WRITE_FUZZ_SEEDS=1 ./unit_engine_gguf -tc=\"fuzz seed*\"");
      CHECK(read_bytes(dir / name) == bytes);
    }
  }
}
