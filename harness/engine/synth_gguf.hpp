// Synthetic models: a GGUF with the tensors and metadata a real llama, qwen2 or
// qwen3 file of the given shape has (llama.cpp's names and keys), seeded random
// weights N(0, 0.02^2), norms 1, and a tokenizer (a synthetic byte-level BPE
// vocab, or one copied from a GGUF or a Hugging Face tokenizer.json). Tests and
// benchmarks use it for real-shaped models without shipping weights.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "harness/engine/gguf_writer.hpp"
#include "harness/engine/tensor.hpp"

namespace huashan::engine {

struct synth_options {
  std::string arch = "qwen3";  // qwen3 | qwen2 | llama
  int n_layers = 2;
  int n_embd = 256;
  int n_head = 4;
  int n_head_kv = 2;
  int n_ff = 512;
  int n_vocab = 0;     // 0: the tokenizer's size (4096 for the synthetic vocab)
  int head_dim = 0;    // 0: n_embd / n_head
  int n_ctx = 0;       // 0: the architecture's usual default
  // Matrix type: f16, q8_0, or q4_k (a Q4_K_M-like mix: q6_k for the output /
  // tied embedding and for attn_v and ffn_down in llama.cpp's "more bits"
  // layers). Rows whose length is not a multiple of the block fall back to
  // q8_0, then f16. Norms and biases are f32.
  tensor_type type = tensor_type::f16;
  std::uint64_t seed = 0;
  std::optional<bool> tied;                             // default: qwen3 tied, others not
  std::optional<std::filesystem::path> tokenizer_from;  // a .gguf or a tokenizer.json
  int n_threads = 0;                                    // 0: all hardware threads
};

struct synth_summary {
  std::int64_t n_params = 0;
  std::size_t n_tensors = 0;
  int n_vocab = 0;
  std::map<std::string, int> type_counts;  // "q4_k" -> tensors
  std::vector<std::string> notes;          // fallbacks and padding applied
};

// The writer for the model (weights are produced while writing). Throws
// config_error for an impossible shape or unknown arch/type, input_error for
// an unreadable tokenizer source.
gguf_writer build_synthetic_model(const synth_options& options, synth_summary* summary = nullptr);
// Builds and writes it to `path`; io_error when writing fails.
synth_summary write_synthetic_model(const synth_options& options, const std::filesystem::path& path);

// Tokenizer metadata (tokenizer.ggml.*) for `arch`, padded to n_vocab tokens
// with unused "[PAD<id>]" entries; returns the vocab size written.
// Synthetic: 256 byte tokens (GPT-2 byte-to-unicode), merges, and the
// specials <|endoftext|>, <|im_start|>, <|im_end|>; n_vocab 0 means 4096.
int add_synthetic_tokenizer(gguf_writer& writer, const std::string& arch, int n_vocab);
// Copies tokenizer.* keys from a GGUF file; n_vocab 0 keeps its size (smaller is a config_error).
int add_tokenizer_from_gguf(gguf_writer& writer, const std::filesystem::path& path, int n_vocab);
// A byte-level BPE tokenizer.json (vocab, merges as "a b" or [a, b], added
// tokens) plus tokenizer_config.json beside it when present (chat template,
// bos/eos, add_bos_token).
int add_tokenizer_from_hf_json(gguf_writer& writer, const std::filesystem::path& path, const std::string& arch,
                               int n_vocab);

}  // namespace huashan::engine
