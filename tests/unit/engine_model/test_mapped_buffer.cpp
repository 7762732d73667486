// The huge-page buffer that holds the packed weights, and how a model lays
// its packed tensors out in it.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "harness/engine/gguf.hpp"
#include "harness/engine/mapped_buffer.hpp"
#include "harness/engine/model.hpp"
#include "harness/engine/quants.hpp"
#include "harness/engine/synth_gguf.hpp"

using namespace huashan::engine;

TEST_CASE("mapped buffer: 2 MiB aligned, zero-filled, writable to its end, movable") {
  constexpr std::size_t huge_page = std::size_t{2} << 20;
  const std::size_t bytes = 3 * huge_page + 12345;  // not a whole number of huge pages
  mapped_buffer b(bytes);
  REQUIRE(b.data() != nullptr);
  CHECK(b.size() == bytes);
  CHECK(reinterpret_cast<std::uintptr_t>(b.data()) % huge_page == 0);
  CHECK(std::all_of(b.data(), b.data() + bytes, [](std::byte x) { return x == std::byte{0}; }));
  std::fill(b.data(), b.data() + bytes, std::byte{0x5a});
  CHECK(b.data()[bytes - 1] == std::byte{0x5a});

  std::byte* const p = b.data();
  mapped_buffer moved(std::move(b));
  CHECK(moved.data() == p);
  CHECK(moved.size() == bytes);
  CHECK(b.data() == nullptr);  // NOLINT(bugprone-use-after-move): the moved-from state is what is tested
  CHECK(b.size() == 0);
  mapped_buffer assigned(huge_page);
  assigned = std::move(moved);
  CHECK(assigned.data() == p);
  CHECK(assigned.data()[0] == std::byte{0x5a});

  const mapped_buffer empty(0);
  CHECK(empty.data() == nullptr);
  CHECK(empty.size() == 0);
}

TEST_CASE("model: packed weights lie in one buffer, each 64-byte aligned, none overlapping") {
  if (!packed_product_available()) {
    MESSAGE("no AVX-512 VNNI on this CPU: nothing is packed here");
    return;
  }
  // A two-layer qwen3 in q4_k (q6_k for the tied output and the "more bits"
  // layers); 320 vocabulary rows, a multiple of 16, so the output is packed too.
  const synth_options o{.arch = "qwen3", .n_layers = 2, .n_embd = 128, .n_head = 2, .n_head_kv = 1, .n_ff = 256,
                        .n_vocab = 320, .type = tensor_type::q4_k, .seed = 9, .n_threads = 1};
  const auto bytes = build_synthetic_model(o).to_bytes();
  const gguf_file f = gguf_file::open_memory(bytes, "packed.gguf");
  const model m = model::load(f);
  std::vector<std::pair<const std::byte*, std::size_t>> spans;
  auto add = [&](const tensor_view& w) {
    if (w.packed != nullptr) spans.emplace_back(static_cast<const std::byte*>(w.packed), packed_rows16_bytes(w));
  };
  for (const auto& l : m.layers)
    for (const tensor_view* w : {&l.wq, &l.wk, &l.wv, &l.wo, &l.ffn_gate, &l.ffn_up, &l.ffn_down}) add(*w);
  add(m.output);
  CHECK(spans.size() == 2 * 7 + 1);  // every product weight, and the tied output (q6_k)
  std::sort(spans.begin(), spans.end());
  const std::byte* const begin = m.packed_storage.data();
  const std::byte* const end = begin + m.packed_storage.size();
  for (std::size_t i = 0; i < spans.size(); ++i) {
    CAPTURE(i);
    CHECK(reinterpret_cast<std::uintptr_t>(spans[i].first) % 64 == 0);
    CHECK(spans[i].first >= begin);
    CHECK(spans[i].first + spans[i].second <= end);
    if (i + 1 < spans.size()) CHECK(spans[i].first + spans[i].second <= spans[i + 1].first);
  }
}
