// The reader on real files from tests/data (see its SOURCES.md):
//  - models/stories260K.gguf: llama2.c stories260K converted by llama.cpp;
//    checked: GGUF v3, llama, 48 F32 tensors, n_embd 64, 5 blocks, 8 heads /
//    4 KV heads, n_ff 172, rope dim 8, ctx 2048, rms eps 1e-5, SPM vocab of 512
//    with scores, bos 1 / eos 2 / unk 0, tensor shapes and data bounds.
//  - tokenizers/llama-spm/ggml-vocab-llama-spm.gguf: llama.cpp's vocab-only
//    Llama 2 file; checked: v3, 0 tensors, 22 keys, 32000 tokens/scores/types.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>

#include "common/error.hpp"
#include "harness/engine/gguf.hpp"
#include "harness/engine/matmul.hpp"

using namespace huashan;
using namespace huashan::engine;

namespace {
const std::filesystem::path test_data = HUASHAN_TEST_DATA;
}

TEST_CASE("stories260K.gguf: header, metadata and tensors") {
  const auto path = test_data / "models/stories260K.gguf";
  const gguf_file f = gguf_file::open(path);
  CHECK(f.version() == 3);
  CHECK(f.alignment() == 32);
  CHECK(f.data_offset() % 32 == 0);
  CHECK(f.architecture() == "llama");
  CHECK(f.get_u32("llama.embedding_length") == 64u);
  CHECK(f.get_u32("llama.block_count") == 5u);
  CHECK(f.get_u32("llama.attention.head_count") == 8u);
  CHECK(f.get_u32("llama.attention.head_count_kv") == 4u);
  CHECK(f.get_u32("llama.feed_forward_length") == 172u);
  CHECK(f.get_u32("llama.rope.dimension_count") == 8u);
  CHECK(f.get_u32("llama.context_length") == 2048u);
  CHECK(f.get_f32("llama.attention.layer_norm_rms_epsilon").value() == doctest::Approx(1e-5));
  CHECK(!f.find("llama.vocab_size"));
  CHECK(f.get_string("tokenizer.ggml.model") == "llama");
  CHECK(f.get_u32("tokenizer.ggml.bos_token_id") == 1u);
  CHECK(f.get_u32("tokenizer.ggml.eos_token_id") == 2u);
  CHECK(f.get_u32("tokenizer.ggml.unknown_token_id") == 0u);
  CHECK(f.get_u32("tokenizer.ggml.padding_token_id") == 0xFFFFFFFFu);

  const gguf_array& tokens = f.require_array("tokenizer.ggml.tokens");
  CHECK(tokens.elem_type == gguf_type::string);
  CHECK(tokens.count == 512);
  CHECK(tokens.strings.size() == 512);
  CHECK(tokens.strings[0] == "<unk>");
  CHECK(tokens.strings[1] == "<s>");
  CHECK(tokens.strings[2] == "</s>");
  const gguf_array& scores = f.require_array("tokenizer.ggml.scores");
  CHECK(scores.elem_type == gguf_type::f32);
  CHECK(scores.to_f32().size() == 512);

  REQUIRE(f.tensors().size() == 48);
  for (const auto& t : f.tensors()) {
    CHECK(t.type == tensor_type::f32);
    const auto* begin = static_cast<const std::byte*>(t.data);
    CHECK(begin >= f.bytes().data() + f.data_offset());
    CHECK(begin + t.n_bytes <= f.bytes().data() + f.file_size());
    CHECK(t.n_bytes == static_cast<std::size_t>(t.n_elements()) * 4);
  }
  const tensor_view& embd = f.require_tensor("token_embd.weight");
  CHECK(embd.n_dims == 2);
  CHECK(embd.ne[0] == 64);
  CHECK(embd.ne[1] == 512);
  const tensor_view& wq = f.require_tensor("blk.0.attn_q.weight");
  CHECK(wq.ne[0] == 64);
  CHECK(wq.ne[1] == 64);
  const tensor_view& wk = f.require_tensor("blk.4.attn_k.weight");
  CHECK(wk.ne[0] == 64);
  CHECK(wk.ne[1] == 32);  // 4 KV heads x head dim 8
  CHECK(f.require_tensor("blk.2.ffn_gate.weight").ne[1] == 172);
  CHECK(f.find_tensor("no.such.tensor") == nullptr);
  CHECK_THROWS_AS(f.require_tensor("no.such.tensor"), input_error);

  // The embedding rows are finite, trained numbers (not all zero).
  std::vector<float> row(64);
  const std::int32_t id = 100;
  get_rows(embd, std::span(&id, 1), row.data());
  double norm = 0;
  for (float v : row) {
    CHECK(std::isfinite(v));
    norm += v * v;
  }
  CHECK(norm > 0.0);
}

TEST_CASE("ggml-vocab-llama-spm.gguf: a vocab-only file") {
  const gguf_file f = gguf_file::open(test_data / "tokenizers/llama-spm/ggml-vocab-llama-spm.gguf");
  CHECK(f.version() == 3);
  CHECK(f.tensors().empty());
  CHECK(f.metadata().size() == 22);
  CHECK(f.architecture() == "llama");
  CHECK(f.get_string("tokenizer.ggml.model") == "llama");
  CHECK(f.get_string("tokenizer.ggml.pre") == "default");
  CHECK(f.get_bool("tokenizer.ggml.add_bos_token") == true);
  const gguf_array& tokens = f.require_array("tokenizer.ggml.tokens");
  CHECK(tokens.count == 32000);
  CHECK(tokens.strings[29871] == "\xe2\x96\x81");  // "▁", the SentencePiece space
  CHECK(f.require_array("tokenizer.ggml.scores").count == 32000);
  const gguf_array& types = f.require_array("tokenizer.ggml.token_type");
  CHECK(types.count == 32000);
  CHECK(types.to_i32().size() == 32000);
  // Typed getters refuse the wrong type, naming the file and the key.
  try {
    (void)f.get_u32("tokenizer.ggml.model");
    FAIL("expected input_error");
  } catch (const input_error& e) {
    const std::string m = e.what();
    CHECK(m.find("ggml-vocab-llama-spm.gguf") != std::string::npos);
    CHECK(m.find("tokenizer.ggml.model") != std::string::npos);
  }
  CHECK_THROWS_AS(f.require_string("no.such.key"), input_error);
}

TEST_CASE("opening a missing file is an io_error naming it") {
  try {
    (void)gguf_file::open("/nonexistent/dir/model.gguf");
    FAIL("expected io_error");
  } catch (const io_error& e) {
    CHECK(std::string(e.what()).find("/nonexistent/dir/model.gguf") != std::string::npos);
  }
}
