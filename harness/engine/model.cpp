// Model loading: hyper-parameters from <arch>.* metadata and weight views by
// llama.cpp tensor names, with shape checks so a wrong file fails here, not
// inside a kernel.
#include "harness/engine/model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "common/error.hpp"
#include "harness/engine/align.hpp"
#include "harness/engine/attention.hpp"
#include "harness/engine/matmul.hpp"
#include "harness/engine/quants.hpp"

namespace huashan::engine {

std::string_view model_arch_name(model_arch a) {
  switch (a) {
    case model_arch::llama: return "llama";
    case model_arch::qwen2: return "qwen2";
    case model_arch::qwen3: return "qwen3";
  }
  return "unknown";
}

model_arch model_arch_from_name(std::string_view name, std::string_view file_name) {
  if (name == "llama") return model_arch::llama;
  if (name == "qwen2") return model_arch::qwen2;
  if (name == "qwen3") return model_arch::qwen3;
  throw input_error(fmt::format("{}: general.architecture '{}' is not supported (supported: llama, qwen2, qwen3)",
                                file_name, name));
}

namespace {

std::int32_t require_i32(const gguf_file& f, const std::string& key) {
  const std::uint32_t v = f.require_u32(key);
  if (v == 0 || v > (1u << 30)) throw input_error(fmt::format("{}: {} = {} is out of range", f.name(), key, v));
  return static_cast<std::int32_t>(v);
}

std::int32_t optional_i32(const gguf_file& f, const std::string& key, std::int32_t fallback) {
  const auto v = f.get_u32(key);
  if (!v) return fallback;
  if (*v == 0 || *v > (1u << 30)) throw input_error(fmt::format("{}: {} = {} is out of range", f.name(), key, *v));
  return static_cast<std::int32_t>(*v);
}

// The tensor `name` with ggml dims {ne0, ne1} (ne1 = 1 for vectors); input_error naming it otherwise.
tensor_view shaped(const gguf_file& f, const std::string& name, std::int64_t ne0, std::int64_t ne1) {
  const tensor_view& t = f.require_tensor(name);
  if (t.ne[0] != ne0 || t.ne[1] != ne1 || t.ne[2] != 1 || t.ne[3] != 1) {
    throw input_error(fmt::format("{}: tensor {} has shape [{}, {}, {}, {}], expected [{}, {}]", f.name(), name, t.ne[0],
                                  t.ne[1], t.ne[2], t.ne[3], ne0, ne1));
  }
  if (!traits_of(t.type).supported) {
    throw input_error(fmt::format("{}: tensor {} has type {}, which the engine cannot compute with", f.name(), name,
                                  traits_of(t.type).name));
  }
  return t;
}

tensor_view optional_shaped(const gguf_file& f, const std::string& name, std::int64_t ne0, std::int64_t ne1) {
  if (f.find_tensor(name) == nullptr) return tensor_view{};
  return shaped(f, name, ne0, ne1);
}

std::vector<float> to_floats(const tensor_view& t) {
  if (t.data == nullptr) return {};
  std::vector<float> out(static_cast<std::size_t>(t.n_elements()));
  dequantize_tensor(t, out.data());
  return out;
}

}  // namespace

model model::load(const gguf_file& f) {
  model m;
  m.name = f.name();
  model_hparams& hp = m.hp;
  hp.arch = model_arch_from_name(f.architecture(), f.name());
  hp.rope = hp.arch == model_arch::llama ? rope_layout::normal : rope_layout::neox;

  hp.n_ctx_train = require_i32(f, f.arch_key("context_length"));
  hp.n_embd = require_i32(f, f.arch_key("embedding_length"));
  hp.n_layer = require_i32(f, f.arch_key("block_count"));
  hp.n_ff = require_i32(f, f.arch_key("feed_forward_length"));
  hp.n_head = require_i32(f, f.arch_key("attention.head_count"));
  hp.n_head_kv = optional_i32(f, f.arch_key("attention.head_count_kv"), hp.n_head);
  if (hp.n_head % hp.n_head_kv != 0) {
    throw input_error(fmt::format("{}: head_count {} is not a multiple of head_count_kv {}", f.name(), hp.n_head,
                                  hp.n_head_kv));
  }
  hp.head_dim_k = optional_i32(f, f.arch_key("attention.key_length"), hp.n_embd / hp.n_head);
  hp.head_dim_v = optional_i32(f, f.arch_key("attention.value_length"), hp.head_dim_k);
  if (hp.head_dim_k > max_head_dim || hp.head_dim_v > max_head_dim) {
    throw input_error(fmt::format("{}: head size {}/{} is larger than the engine's limit {}", f.name(), hp.head_dim_k,
                                  hp.head_dim_v, max_head_dim));
  }
  hp.n_rot = optional_i32(f, f.arch_key("rope.dimension_count"), hp.head_dim_k);
  if (hp.n_rot > hp.head_dim_k || hp.n_rot % 2 != 0) {
    throw input_error(fmt::format("{}: rope.dimension_count {} must be even and at most the head size {}", f.name(),
                                  hp.n_rot, hp.head_dim_k));
  }
  if (auto eps = f.get_f32(f.arch_key("attention.layer_norm_rms_epsilon"))) hp.rms_eps = *eps;
  if (auto base = f.get_f32(f.arch_key("rope.freq_base"))) hp.rope_freq_base = *base;
  // Linear RoPE scaling divides positions by the factor (llama.cpp: freq_scale = 1/factor).
  const auto scaling_type = f.get_string(f.arch_key("rope.scaling.type"));
  float factor = 0.0f;
  if (auto v = f.get_f32(f.arch_key("rope.scaling.factor"))) factor = *v;
  if (auto v = f.get_f32(f.arch_key("rope.scale_linear"))) factor = *v;  // older key
  if (scaling_type && *scaling_type != "none" && *scaling_type != "linear") {
    throw input_error(fmt::format("{}: rope.scaling.type '{}' is not supported (supported: none, linear)", f.name(),
                                  *scaling_type));
  }
  if ((!scaling_type || *scaling_type == "linear") && factor > 0.0f) hp.rope_freq_scale = 1.0f / factor;

  const std::int64_t q_width = static_cast<std::int64_t>(hp.n_head) * hp.head_dim_k;
  const std::int64_t k_width = static_cast<std::int64_t>(hp.n_head_kv) * hp.head_dim_k;
  const std::int64_t v_width = static_cast<std::int64_t>(hp.n_head_kv) * hp.head_dim_v;
  const std::int64_t o_width = static_cast<std::int64_t>(hp.n_head) * hp.head_dim_v;

  const tensor_view& embd = f.require_tensor("token_embd.weight");
  hp.n_vocab = static_cast<std::int32_t>(embd.ne[1]);
  m.tok_embd = shaped(f, "token_embd.weight", hp.n_embd, hp.n_vocab);
  m.output_norm = shaped(f, "output_norm.weight", hp.n_embd, 1);
  m.output = f.find_tensor("output.weight") ? shaped(f, "output.weight", hp.n_embd, hp.n_vocab) : m.tok_embd;
  m.rope_freqs = optional_shaped(f, "rope_freqs.weight", hp.n_rot / 2, 1);

  m.layers.resize(static_cast<std::size_t>(hp.n_layer));
  m.small.resize(static_cast<std::size_t>(hp.n_layer));
  for (std::int32_t il = 0; il < hp.n_layer; ++il) {
    const std::string p = fmt::format("blk.{}.", il);
    layer_weights& l = m.layers[static_cast<std::size_t>(il)];
    l.attn_norm = shaped(f, p + "attn_norm.weight", hp.n_embd, 1);
    l.wq = shaped(f, p + "attn_q.weight", hp.n_embd, q_width);
    l.wk = shaped(f, p + "attn_k.weight", hp.n_embd, k_width);
    l.wv = shaped(f, p + "attn_v.weight", hp.n_embd, v_width);
    l.wo = shaped(f, p + "attn_output.weight", o_width, hp.n_embd);
    if (hp.arch == model_arch::qwen2) {
      l.bq = shaped(f, p + "attn_q.bias", q_width, 1);
      l.bk = shaped(f, p + "attn_k.bias", k_width, 1);
      l.bv = shaped(f, p + "attn_v.bias", v_width, 1);
    } else {
      // Some llama-family conversions carry biases too; use them when present.
      l.bq = optional_shaped(f, p + "attn_q.bias", q_width, 1);
      l.bk = optional_shaped(f, p + "attn_k.bias", k_width, 1);
      l.bv = optional_shaped(f, p + "attn_v.bias", v_width, 1);
    }
    if (hp.arch == model_arch::qwen3) {
      l.q_norm = shaped(f, p + "attn_q_norm.weight", hp.head_dim_k, 1);
      l.k_norm = shaped(f, p + "attn_k_norm.weight", hp.head_dim_k, 1);
    }
    l.ffn_norm = shaped(f, p + "ffn_norm.weight", hp.n_embd, 1);
    l.ffn_gate = shaped(f, p + "ffn_gate.weight", hp.n_embd, hp.n_ff);
    l.ffn_up = shaped(f, p + "ffn_up.weight", hp.n_embd, hp.n_ff);
    l.ffn_down = shaped(f, p + "ffn_down.weight", hp.n_ff, hp.n_embd);

    auto& s = m.small[static_cast<std::size_t>(il)];
    s.attn_norm = to_floats(l.attn_norm);
    s.ffn_norm = to_floats(l.ffn_norm);
    s.q_norm = to_floats(l.q_norm);
    s.k_norm = to_floats(l.k_norm);
    s.bq = to_floats(l.bq);
    s.bk = to_floats(l.bk);
    s.bv = to_floats(l.bv);
  }
  m.output_norm_f32 = to_floats(m.output_norm);
  m.rope_freqs_f32 = to_floats(m.rope_freqs);
  if (packed_product_available()) {
    std::vector<tensor_view*> to_pack;
    for (auto& l : m.layers)
      for (tensor_view* w : {&l.wq, &l.wk, &l.wv, &l.wo, &l.ffn_gate, &l.ffn_up, &l.ffn_down})
        if (packable_rows16(*w)) to_pack.push_back(w);
    if (packable_rows16(m.output)) to_pack.push_back(&m.output);
    // Cache-line aligned: the packed blocks are read as whole 64-byte lines.
    constexpr std::size_t line = 64;
    std::vector<std::size_t> offsets;
    std::size_t total = 0;
    for (const tensor_view* w : to_pack) {
      offsets.push_back(total);
      total += align_up(packed_rows16_bytes(*w), line);
    }
    m.packed_storage = mapped_buffer(total);
    // Tensors are independent: pack them on all cores (each packed copy is the
    // same whichever thread makes it).
    std::atomic<std::size_t> next{0};
    auto packer = [&] {
      for (std::size_t i = next++; i < to_pack.size(); i = next++) {
        tensor_view& w = *to_pack[i];
        std::byte* packed = m.packed_storage.data() + offsets[i];
        pack_rows16(w, packed);
        // The products read only the packed copy; the file's pages go back to
        // the page cache instead of counting twice (get_rows of a tied
        // embedding faults its rows in again).
        f.release_pages(w.data, w.n_bytes);
        w.packed = packed;
      }
    };
    const auto n_threads = std::min<std::size_t>(to_pack.size(), std::max(1u, std::thread::hardware_concurrency()));
    std::vector<std::thread> threads;
    for (std::size_t t = 1; t < n_threads; ++t) threads.emplace_back(packer);
    packer();
    for (auto& t : threads) t.join();
  }
  return m;
}

}  // namespace huashan::engine
