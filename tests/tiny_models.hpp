// One-layer models of random weights, written in memory, for tests and fuzz
// targets that need a model but not its quality: tiny_model_bytes builds the
// GGUF (the bytes must outlive the model that maps them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "harness/engine/synth_gguf.hpp"

namespace huashan::testing {

struct tiny_model {
  std::string arch = "qwen3";  // qwen3: the synthetic byte-level BPE vocab and ChatML
  int n_embd = 32;             // 2 heads; the feed-forward twice as wide
  int n_ctx = 256;
  std::uint64_t seed = 1;
  // Another model's vocabulary: stories260K's gives Llama 2's kind (512
  // SentencePiece pieces, half of them single bytes), so a random model's
  // answers are full of bytes that are not UTF-8.
  std::optional<std::filesystem::path> tokenizer_from;
};

inline std::vector<std::byte> tiny_model_bytes(const tiny_model& m) {
  engine::synth_options o;
  o.arch = m.arch;
  o.n_layers = 1;
  o.n_embd = m.n_embd;
  o.n_head = 2;
  o.n_head_kv = m.arch == "llama" ? 2 : 1;
  o.n_ff = 2 * m.n_embd;
  o.n_ctx = m.n_ctx;
  o.type = engine::tensor_type::f16;
  o.seed = m.seed;
  o.n_threads = 1;
  o.tokenizer_from = m.tokenizer_from;
  return engine::build_synthetic_model(o).to_bytes();
}

}  // namespace huashan::testing
