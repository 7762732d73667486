// A loaded decoder-only transformer: hyper-parameters read from GGUF metadata
// and views of its weight tensors (llama.cpp tensor names), for the
// architectures the engine runs: llama (GQA), qwen2 (Q/K/V biases) and qwen3
// (per-head RMSNorm of Q and K). The weights stay in the mapped file; a model
// holds views into it, so the gguf_file must outlive the model.
// The forward pass is in llama_graph.hpp (all three share one graph).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "harness/engine/gguf.hpp"
#include "harness/engine/mapped_buffer.hpp"
#include "harness/engine/tensor.hpp"

namespace huashan::engine {

enum class model_arch { llama, qwen2, qwen3 };

// RoPE pair layout: normal rotates adjacent pairs (x[2i], x[2i+1]) (llama);
// neox rotates halves (x[i], x[i + n_rot/2]) (qwen2, qwen3, GPT-NeoX).
enum class rope_layout { normal, neox };

// "llama", "qwen2", "qwen3".
std::string_view model_arch_name(model_arch a);
// The architecture named by general.architecture; input_error listing the supported ones otherwise.
model_arch model_arch_from_name(std::string_view name, std::string_view file_name);

struct model_hparams {
  model_arch arch = model_arch::llama;
  std::int32_t n_vocab = 0;
  std::int32_t n_ctx_train = 0;    // <arch>.context_length
  std::int32_t n_embd = 0;         // <arch>.embedding_length
  std::int32_t n_layer = 0;        // <arch>.block_count
  std::int32_t n_ff = 0;           // <arch>.feed_forward_length
  std::int32_t n_head = 0;         // <arch>.attention.head_count
  std::int32_t n_head_kv = 0;      // <arch>.attention.head_count_kv (default n_head)
  std::int32_t head_dim_k = 0;     // <arch>.attention.key_length (default n_embd / n_head)
  std::int32_t head_dim_v = 0;     // <arch>.attention.value_length (default head_dim_k)
  float rms_eps = 1e-5f;           // <arch>.attention.layer_norm_rms_epsilon
  rope_layout rope = rope_layout::normal;
  std::int32_t n_rot = 0;          // <arch>.rope.dimension_count (default head_dim_k)
  float rope_freq_base = 10000.0f; // <arch>.rope.freq_base
  float rope_freq_scale = 1.0f;    // 1 / <arch>.rope.scaling.factor for linear scaling
};

struct layer_weights {
  tensor_view attn_norm;                  // [n_embd] f32
  tensor_view wq, wk, wv, wo;             // {n_embd, n_head*hd_k}, {n_embd, n_kv*hd_k}, {n_embd, n_kv*hd_v}, {n_head*hd_v, n_embd}
  tensor_view bq, bk, bv;                 // qwen2 biases (data == nullptr when absent)
  tensor_view q_norm, k_norm;             // qwen3 [hd_k] (data == nullptr when absent)
  tensor_view ffn_norm;                   // [n_embd]
  tensor_view ffn_gate, ffn_up, ffn_down; // {n_embd, n_ff}, {n_embd, n_ff}, {n_ff, n_embd}
};

struct model {
  model_hparams hp;
  std::string name;          // file name, for messages
  tensor_view tok_embd;      // {n_embd, n_vocab}
  tensor_view output_norm;   // [n_embd]
  tensor_view output;        // {n_embd, n_vocab}; = tok_embd when tied
  tensor_view rope_freqs;    // optional [n_rot/2] frequency factors (Llama 3.1); data == nullptr when absent
  std::vector<layer_weights> layers;
  // Small weights (norms, biases) as floats, whatever their stored type, one
  // entry per layer; a vector is empty when its tensor is absent.
  struct float_weights {
    std::vector<float> attn_norm, ffn_norm, q_norm, k_norm, bq, bk, bv;
  };
  std::vector<float_weights> small;
  std::vector<float> output_norm_f32;
  std::vector<float> rope_freqs_f32;
  // Sixteen-row packed copies of the q8_0/q4_k/q6_k/f16 product weights
  // (tensor_view::packed), made at load when the CPU has AVX-512 VNNI: one
  // buffer on huge pages, each copy 64-byte aligned in it.
  mapped_buffer packed_storage;

  // Reads hyper-parameters and tensor views; throws input_error naming the file
  // and the key or tensor that is missing or has the wrong shape, and for an
  // architecture other than llama/qwen2/qwen3.
  static model load(const gguf_file& file);
};

}  // namespace huashan::engine
