// Synthetic model tensors and architecture metadata. Every row draws its
// numbers from its own generator seeded by (seed, tensor name, row), so the
// file is identical whatever the thread count.
#include "harness/engine/synth_gguf.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <numbers>

#include "common/error.hpp"
#include "common/xoshiro256.hpp"
#include "harness/engine/quants.hpp"
#include "harness/engine/thread_pool.hpp"

namespace huashan::engine {

namespace {

std::uint64_t hash_name(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

// Fills out[0..n) with N(0, sigma^2): Box-Muller on the engine's xoshiro256**
// stream, fast enough for 600M weights.
void fill_normals(xoshiro256ss& g, float* out, std::int64_t n, float sigma) {
  for (std::int64_t i = 0; i < n; i += 2) {
    const double u1 = (static_cast<double>(g.next() >> 11) + 1.0) * 0x1.0p-53;  // (0, 1]
    const double u2 = static_cast<double>(g.next() >> 11) * 0x1.0p-53;
    const double r = std::sqrt(-2.0 * std::log(u1)) * sigma;
    out[i] = static_cast<float>(r * std::cos(2.0 * std::numbers::pi * u2));
    if (i + 1 < n) out[i + 1] = static_cast<float>(r * std::sin(2.0 * std::numbers::pi * u2));
  }
}

struct arch_defaults {
  int n_ctx;
  float rope_base;
  float rms_eps;
  bool tied;
  bool qkv_bias;
  bool qk_norm;
};

arch_defaults defaults_for(const std::string& arch) {
  if (arch == "qwen3") return {40960, 1000000.0f, 1e-6f, true, false, true};
  if (arch == "qwen2") return {32768, 1000000.0f, 1e-6f, false, true, false};
  if (arch == "llama") return {4096, 10000.0f, 1e-5f, false, false, false};
  throw config_error(fmt::format("synth: unknown architecture '{}' (supported: qwen3, qwen2, llama)", arch));
}

// llama.cpp's Q4_K_M rule for attn_v / ffn_down: more bits in the first and
// last eighth of the layers and every third layer between.
bool use_more_bits(int layer, int n_layers) {
  return layer < n_layers / 8 || layer >= 7 * n_layers / 8 || (layer - n_layers / 8) % 3 == 2;
}

// The type for a matrix with rows of n_in elements: the wanted type when the
// row is whole blocks, else q8_0, else f16.
tensor_type fit_type(tensor_type wanted, std::int64_t n_in) {
  if (n_in % traits_of(wanted).block_size == 0) return wanted;
  if (n_in % qk8_0 == 0 && wanted != tensor_type::f16) return tensor_type::q8_0;
  return tensor_type::f16;
}

std::uint32_t file_type_id(tensor_type t) {
  switch (t) {
    case tensor_type::f16: return 1;    // LLAMA_FTYPE_MOSTLY_F16
    case tensor_type::q8_0: return 7;   // LLAMA_FTYPE_MOSTLY_Q8_0
    case tensor_type::q4_k: return 15;  // LLAMA_FTYPE_MOSTLY_Q4_K_M
    default: return 0;
  }
}

}  // namespace

gguf_writer build_synthetic_model(const synth_options& o, synth_summary* summary) {
  const arch_defaults def = defaults_for(o.arch);
  if (o.type != tensor_type::f16 && o.type != tensor_type::q8_0 && o.type != tensor_type::q4_k) {
    throw config_error(fmt::format("synth: --type must be f16, q8_0 or q4_k, got {}", traits_of(o.type).name));
  }
  if (o.n_layers < 1 || o.n_embd < 1 || o.n_head < 1 || o.n_head_kv < 1 || o.n_ff < 1 || o.n_vocab < 0) {
    throw config_error("synth: layers, dim, heads, kv-heads and ffn must be positive");
  }
  if (o.n_head % o.n_head_kv != 0) {
    throw config_error(fmt::format("synth: heads ({}) must be a multiple of kv-heads ({})", o.n_head, o.n_head_kv));
  }
  const int head_dim = o.head_dim > 0 ? o.head_dim : o.n_embd / o.n_head;
  if (head_dim < 2 || head_dim % 2 != 0 || (o.head_dim == 0 && o.n_embd % o.n_head != 0)) {
    throw config_error(fmt::format("synth: head dim {} must be even and dim a multiple of heads (or give --head-dim)",
                                   head_dim));
  }
  const bool tied = o.tied.value_or(def.tied);
  const std::string& a = o.arch;

  auto shared_summary = std::make_shared<synth_summary>();
  gguf_writer w;
  w.set_string("general.architecture", a);
  w.set_string("general.name", fmt::format("synthetic {} L{} D{} ({})", a, o.n_layers, o.n_embd,
                                           traits_of(o.type).name));
  w.set_u32("general.file_type", file_type_id(o.type));
  if (o.type != tensor_type::f16) w.set_u32("general.quantization_version", 2);

  int n_vocab = 0;
  if (!o.tokenizer_from) {
    n_vocab = add_synthetic_tokenizer(w, a, o.n_vocab);
  } else if (o.tokenizer_from->extension() == ".gguf") {
    n_vocab = add_tokenizer_from_gguf(w, *o.tokenizer_from, o.n_vocab);
  } else {
    n_vocab = add_tokenizer_from_hf_json(w, *o.tokenizer_from, a, o.n_vocab);
  }

  w.set_u32(a + ".context_length", static_cast<std::uint32_t>(o.n_ctx > 0 ? o.n_ctx : def.n_ctx));
  w.set_u32(a + ".embedding_length", static_cast<std::uint32_t>(o.n_embd));
  w.set_u32(a + ".block_count", static_cast<std::uint32_t>(o.n_layers));
  w.set_u32(a + ".feed_forward_length", static_cast<std::uint32_t>(o.n_ff));
  w.set_u32(a + ".attention.head_count", static_cast<std::uint32_t>(o.n_head));
  w.set_u32(a + ".attention.head_count_kv", static_cast<std::uint32_t>(o.n_head_kv));
  w.set_f32(a + ".rope.freq_base", def.rope_base);
  w.set_f32(a + ".attention.layer_norm_rms_epsilon", def.rms_eps);
  if (a == "llama") {
    w.set_u32(a + ".rope.dimension_count", static_cast<std::uint32_t>(head_dim));
    w.set_u32(a + ".vocab_size", static_cast<std::uint32_t>(n_vocab));
  } else {
    w.set_u32(a + ".attention.key_length", static_cast<std::uint32_t>(head_dim));
    w.set_u32(a + ".attention.value_length", static_cast<std::uint32_t>(head_dim));
  }

  const int n_threads = o.n_threads;
  const std::uint64_t seed = o.seed;
  auto pool = std::make_shared<thread_pool>(n_threads);

  // A matrix {n_in, n_out} of N(0, 0.02^2) in `type`, rows produced in parallel.
  auto add_matrix = [&](const std::string& name, std::int64_t n_in, std::int64_t n_out, tensor_type wanted) {
    const tensor_type t = fit_type(wanted, n_in);
    if (t != wanted) {
      shared_summary->notes.push_back(
          fmt::format("{}: rows of {} are not whole {} blocks, stored as {}", name, n_in, traits_of(wanted).name,
                      traits_of(t).name));
    }
    const std::uint64_t name_seed = seed ^ hash_name(name);
    w.add_tensor(name, t, {n_in, n_out}, [=](std::span<std::byte> out) {
      const std::size_t rb = row_bytes(t, n_in);
      pool->parallel_for(n_out, [&](std::int64_t begin, std::int64_t end) {
        std::vector<float> row(static_cast<std::size_t>(n_in));
        for (std::int64_t r = begin; r < end; ++r) {
          std::uint64_t s = name_seed + static_cast<std::uint64_t>(r) * 0x9e3779b97f4a7c15ull;
          xoshiro256ss g(splitmix64(s));
          fill_normals(g, row.data(), n_in, 0.02f);
          quantize_row(t, row.data(), out.data() + static_cast<std::size_t>(r) * rb, n_in);
        }
      });
    });
    shared_summary->type_counts[std::string(traits_of(t).name)]++;
    shared_summary->n_params += n_in * n_out;
  };
  auto add_vector = [&](const std::string& name, std::int64_t n, bool random) {
    const std::uint64_t name_seed = seed ^ hash_name(name);
    w.add_tensor(name, tensor_type::f32, {n}, [=](std::span<std::byte> out) {
      std::vector<float> v(static_cast<std::size_t>(n), 1.0f);
      if (random) {
        std::uint64_t s = name_seed;
        xoshiro256ss g(splitmix64(s));
        fill_normals(g, v.data(), n, 0.02f);
      }
      std::memcpy(out.data(), v.data(), out.size());
    });
    shared_summary->type_counts["f32"]++;
    shared_summary->n_params += n;
  };

  const tensor_type big = o.type;
  const tensor_type more = o.type == tensor_type::q4_k ? tensor_type::q6_k : o.type;
  const std::int64_t d = o.n_embd, q_dim = static_cast<std::int64_t>(o.n_head) * head_dim,
                     kv_dim = static_cast<std::int64_t>(o.n_head_kv) * head_dim, ff = o.n_ff, v = n_vocab;

  add_matrix("token_embd.weight", d, v, tied ? more : big);
  add_vector("output_norm.weight", d, false);
  if (!tied) add_matrix("output.weight", d, v, more);
  for (int l = 0; l < o.n_layers; ++l) {
    const std::string p = fmt::format("blk.{}.", l);
    const tensor_type extra = use_more_bits(l, o.n_layers) ? more : big;
    add_vector(p + "attn_norm.weight", d, false);
    add_matrix(p + "attn_q.weight", d, q_dim, big);
    add_matrix(p + "attn_k.weight", d, kv_dim, big);
    add_matrix(p + "attn_v.weight", d, kv_dim, extra);
    add_matrix(p + "attn_output.weight", q_dim, d, big);
    if (def.qkv_bias) {
      add_vector(p + "attn_q.bias", q_dim, true);
      add_vector(p + "attn_k.bias", kv_dim, true);
      add_vector(p + "attn_v.bias", kv_dim, true);
    }
    if (def.qk_norm) {
      add_vector(p + "attn_q_norm.weight", head_dim, false);
      add_vector(p + "attn_k_norm.weight", head_dim, false);
    }
    add_vector(p + "ffn_norm.weight", d, false);
    add_matrix(p + "ffn_gate.weight", d, ff, big);
    add_matrix(p + "ffn_up.weight", d, ff, big);
    add_matrix(p + "ffn_down.weight", ff, d, extra);
  }
  shared_summary->n_tensors = w.n_tensors();
  shared_summary->n_vocab = n_vocab;
  if (summary != nullptr) *summary = *shared_summary;
  return w;
}

synth_summary write_synthetic_model(const synth_options& options, const std::filesystem::path& path) {
  synth_summary summary;
  const gguf_writer w = build_synthetic_model(options, &summary);
  w.write(path);
  return summary;
}

}  // namespace huashan::engine
