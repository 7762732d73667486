// Synthetic models: llama.cpp tensor names, shapes and metadata per
// architecture; determinism across thread counts; the Q4_K_M-like mix; the
// tokenizer (synthetic, copied from a GGUF, or read from a tokenizer.json).
// Shared data used: tokenizers/qwen3/tokenizer.json (+ tokenizer_config.json):
// 151669 tokens (151643 + 26 added), 151387 merges as [a, b] pairs, eos
// <|im_end|> = 151645; tokenizers/llama3/tokenizer.json: 128256 tokens, merges
// as "a b" strings, \p{N}{1,3} digits; models/stories260K.gguf: 512-token SPM vocab.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>

#include "common/error.hpp"
#include "harness/engine/gguf.hpp"
#include "harness/engine/matmul.hpp"
#include "harness/engine/synth_gguf.hpp"

using namespace huashan;
using namespace huashan::engine;

namespace {
const std::filesystem::path test_data = HUASHAN_TEST_DATA;

synth_options small(const std::string& arch, tensor_type type) {
  synth_options o;
  o.arch = arch;
  o.n_layers = 3;
  o.n_embd = 256;
  o.n_head = 4;
  o.n_head_kv = 2;
  o.n_ff = 512;
  o.n_vocab = 600;
  o.type = type;
  o.seed = 42;
  o.n_threads = 2;
  return o;
}
}  // namespace

TEST_CASE("synthetic qwen3: names, shapes, metadata, tied embedding, q4_k mix") {
  synth_summary summary;
  const auto bytes = build_synthetic_model(small("qwen3", tensor_type::q4_k), &summary).to_bytes();
  const gguf_file f = gguf_file::open_memory(bytes, "qwen3.gguf");
  CHECK(f.architecture() == "qwen3");
  CHECK(f.get_u32("qwen3.block_count") == 3u);
  CHECK(f.get_u32("qwen3.embedding_length") == 256u);
  CHECK(f.get_u32("qwen3.feed_forward_length") == 512u);
  CHECK(f.get_u32("qwen3.attention.head_count") == 4u);
  CHECK(f.get_u32("qwen3.attention.head_count_kv") == 2u);
  CHECK(f.get_u32("qwen3.attention.key_length") == 64u);
  CHECK(f.get_u32("qwen3.attention.value_length") == 64u);
  CHECK(f.get_u32("qwen3.context_length") == 40960u);
  CHECK(f.get_f32("qwen3.rope.freq_base") == 1e6f);
  CHECK(f.get_f32("qwen3.attention.layer_norm_rms_epsilon") == 1e-6f);
  CHECK(f.get_u32("general.file_type") == 15u);
  CHECK(f.find_tensor("output.weight") == nullptr);  // tied
  CHECK(f.require_tensor("token_embd.weight").type == tensor_type::q6_k);
  CHECK(f.require_tensor("token_embd.weight").ne[1] == 600);
  CHECK(f.require_tensor("blk.0.attn_q_norm.weight").ne[0] == 64);
  CHECK(f.require_tensor("blk.2.attn_k_norm.weight").type == tensor_type::f32);
  CHECK(f.require_tensor("blk.1.attn_q.weight").ne[1] == 256);
  CHECK(f.require_tensor("blk.1.attn_k.weight").ne[1] == 128);
  CHECK(f.require_tensor("blk.1.ffn_down.weight").ne[0] == 512);
  // llama.cpp's more-bits rule (first/last eighth, every third between) picks layer 2 of 3.
  CHECK(f.require_tensor("blk.2.attn_v.weight").type == tensor_type::q6_k);
  CHECK(f.require_tensor("blk.1.attn_v.weight").type == tensor_type::q4_k);
  CHECK(f.require_tensor("blk.0.attn_q.weight").type == tensor_type::q4_k);
  CHECK(f.tensors().size() == summary.n_tensors);
  CHECK(summary.n_tensors == 1 + 1 + 3 * 11);
  std::int64_t n = 0;
  for (const auto& t : f.tensors()) n += t.n_elements();
  CHECK(n == summary.n_params);
  // Norms are 1, matrices ~ N(0, 0.02^2).
  std::vector<float> norm(256);
  dequantize_tensor(f.require_tensor("output_norm.weight"), norm.data());
  for (float v : norm) CHECK(v == 1.0f);
  const tensor_view& q = f.require_tensor("blk.0.attn_q.weight");
  std::vector<float> w(static_cast<std::size_t>(q.n_elements()));
  dequantize_tensor(q, w.data());
  double s2 = 0;
  for (float v : w) s2 += v * v;
  CHECK(std::sqrt(s2 / static_cast<double>(w.size())) == doctest::Approx(0.02).epsilon(0.05));
  // Synthetic tokenizer.
  CHECK(f.get_string("tokenizer.ggml.model") == "gpt2");
  CHECK(f.get_string("tokenizer.ggml.pre") == "qwen2");
  CHECK(f.require_array("tokenizer.ggml.tokens").count == 600);
  CHECK(f.require_array("tokenizer.ggml.merges").count == 600 - 256 - 3);
  CHECK(f.require_array("tokenizer.ggml.tokens").strings[599] == "<|im_end|>");
  CHECK(f.get_u32("tokenizer.ggml.eos_token_id") == 599u);
  CHECK(f.get_string("tokenizer.chat_template").has_value());
}

TEST_CASE("synthetic qwen2 and llama: biases, output.weight, llama keys, fallbacks") {
  {
    const auto bytes = build_synthetic_model(small("qwen2", tensor_type::q8_0)).to_bytes();
    const gguf_file f = gguf_file::open_memory(bytes, "qwen2.gguf");
    CHECK(f.require_tensor("blk.0.attn_q.bias").ne[0] == 256);
    CHECK(f.require_tensor("blk.0.attn_v.bias").ne[0] == 128);
    CHECK(f.require_tensor("output.weight").type == tensor_type::q8_0);
    CHECK(f.find_tensor("blk.0.attn_q_norm.weight") == nullptr);
  }
  {
    synth_options o = small("llama", tensor_type::q4_k);
    o.n_embd = 96;  // rows of 96 are not q4_k blocks: q8_0 instead
    o.n_head = 4;
    o.n_ff = 256;
    synth_summary summary;
    const auto bytes = build_synthetic_model(o, &summary).to_bytes();
    const gguf_file f = gguf_file::open_memory(bytes, "llama.gguf");
    CHECK(f.get_u32("llama.rope.dimension_count") == 24u);
    CHECK(f.get_u32("llama.vocab_size") == 600u);
    CHECK(f.get_f32("llama.rope.freq_base") == 10000.0f);
    CHECK(f.require_tensor("blk.0.attn_q.weight").type == tensor_type::q8_0);
    CHECK(f.require_tensor("blk.0.ffn_down.weight").type == tensor_type::q4_k);  // rows of 256
    CHECK(f.require_tensor("blk.2.ffn_down.weight").type == tensor_type::q6_k);  // a more-bits layer
    CHECK(f.require_tensor("output.weight").type == tensor_type::q8_0);
    CHECK_FALSE(summary.notes.empty());
  }
  CHECK_THROWS_AS(build_synthetic_model(small("gpt-j", tensor_type::f16)), config_error);
  synth_options bad = small("llama", tensor_type::f16);
  bad.n_head_kv = 3;
  CHECK_THROWS_AS(build_synthetic_model(bad), config_error);
  bad = small("llama", tensor_type::q4_0);
  CHECK_THROWS_AS(build_synthetic_model(bad), config_error);
}

TEST_CASE("synthetic files are identical whatever the thread count, and differ by seed") {
  synth_options o = small("qwen3", tensor_type::q4_k);
  o.n_threads = 1;
  const auto a = build_synthetic_model(o).to_bytes();
  o.n_threads = 3;
  const auto b = build_synthetic_model(o).to_bytes();
  CHECK(a == b);
  o.seed = 43;
  CHECK(build_synthetic_model(o).to_bytes() != a);
}

TEST_CASE("tokenizer copied from a GGUF (stories260K's SPM vocab), padded to --vocab") {
  synth_options o = small("llama", tensor_type::f16);
  o.n_vocab = 520;
  o.tokenizer_from = test_data / "models/stories260K.gguf";
  const auto bytes = build_synthetic_model(o).to_bytes();
  const gguf_file f = gguf_file::open_memory(bytes, "spm.gguf");
  CHECK(f.get_string("tokenizer.ggml.model") == "llama");
  const gguf_array& tokens = f.require_array("tokenizer.ggml.tokens");
  CHECK(tokens.count == 520);
  CHECK(tokens.strings[1] == "<s>");
  CHECK(tokens.strings[515] == "[PAD515]");
  CHECK(f.require_array("tokenizer.ggml.scores").count == 520);
  CHECK(f.require_array("tokenizer.ggml.token_type").int_at(515) == 5);
  CHECK(f.require_tensor("token_embd.weight").ne[1] == 520);
  o.n_vocab = 100;
  CHECK_THROWS_AS(build_synthetic_model(o), config_error);
}

TEST_CASE("tokenizer read from Hugging Face tokenizer.json files") {
  {
    gguf_writer w;
    const int n = add_tokenizer_from_hf_json(w, test_data / "tokenizers/qwen3/tokenizer.json", "qwen3", 151936);
    CHECK(n == 151936);
    const auto bytes = w.to_bytes();
    const gguf_file f = gguf_file::open_memory(bytes, "qwen3-tok.gguf");
    const gguf_array& tokens = f.require_array("tokenizer.ggml.tokens");
    CHECK(tokens.count == 151936);
    CHECK(tokens.strings[151643] == "<|endoftext|>");
    CHECK(tokens.strings[151645] == "<|im_end|>");
    CHECK(tokens.strings[151669] == "[PAD151669]");
    CHECK(f.require_array("tokenizer.ggml.token_type").int_at(151645) == 3);
    CHECK(f.require_array("tokenizer.ggml.token_type").int_at(151669) == 5);
    CHECK(f.require_array("tokenizer.ggml.merges").count == 151387);
    CHECK(f.require_array("tokenizer.ggml.merges").strings[0].find(' ') != std::string_view::npos);
    CHECK(f.get_string("tokenizer.ggml.pre") == "qwen2");
    CHECK(f.get_u32("tokenizer.ggml.eos_token_id") == 151645u);
    CHECK(f.get_u32("tokenizer.ggml.bos_token_id") == 151643u);
    CHECK(f.get_bool("tokenizer.ggml.add_bos_token") == false);
    CHECK(f.get_string("tokenizer.chat_template")->find("<|im_start|>") != std::string_view::npos);
  }
  {
    gguf_writer w;
    const int n = add_tokenizer_from_hf_json(w, test_data / "tokenizers/llama3/tokenizer.json", "llama", 0);
    CHECK(n == 128256);
    const auto bytes = w.to_bytes();
    const gguf_file f = gguf_file::open_memory(bytes, "llama3-tok.gguf");
    CHECK(f.get_string("tokenizer.ggml.pre") == "llama-bpe");
    CHECK(f.require_array("tokenizer.ggml.merges").count == 280147);
    CHECK(f.require_array("tokenizer.ggml.tokens").strings[128000] == "<|begin_of_text|>");
    CHECK(f.get_u32("tokenizer.ggml.bos_token_id") == 128000u);
  }
  gguf_writer w;
  CHECK_THROWS_AS(add_tokenizer_from_hf_json(w, test_data / "models/stories260K.gguf", "llama", 0), input_error);
}
