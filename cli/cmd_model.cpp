// `huashan model info FILE` and `huashan model synth ...`: inspect a GGUF file,
// write a synthetic one of a real architecture's shape.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>

#include "cli/commands.hpp"
#include "common/error.hpp"
#include "harness/engine/gguf.hpp"
#include "harness/engine/synth_gguf.hpp"

namespace huashan::cli {

namespace {

using engine::gguf_file;

std::string human_count(std::int64_t n) {
  if (n >= 1'000'000'000) return fmt::format("{:.2f}B", static_cast<double>(n) / 1e9);
  if (n >= 1'000'000) return fmt::format("{:.2f}M", static_cast<double>(n) / 1e6);
  if (n >= 1'000) return fmt::format("{:.1f}K", static_cast<double>(n) / 1e3);
  return fmt::format("{}", n);
}

std::string chat_family(std::string_view t) {
  if (t.find("<|im_start|>") != std::string_view::npos) return "ChatML (Qwen)";
  if (t.find("<|start_header_id|>") != std::string_view::npos) return "Llama 3";
  if (t.find("[INST]") != std::string_view::npos) return "Llama 2";
  return "unrecognised family";
}

// "151643 '<|endoftext|>'" for a special-token key, "-" when absent.
std::string special(const gguf_file& f, const char* key, const engine::gguf_array* tokens) {
  const auto id = f.get_u32(key);
  if (!id) return "-";
  if (tokens != nullptr && tokens->elem_type == engine::gguf_type::string && *id < tokens->strings.size()) {
    std::string text(tokens->strings[*id]);
    for (char& c : text) {
      if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    }
    return fmt::format("{} '{}'", *id, text);
  }
  return fmt::format("{} (outside the vocab)", *id);
}

}  // namespace

int run_model_info(const global_options&, const model_info_options& options) {
  const gguf_file f = gguf_file::open(options.file);
  const std::string_view arch = f.architecture();
  std::int64_t n_params = 0;
  std::map<std::string, int> types;
  for (const auto& t : f.tensors()) {
    n_params += t.n_elements();
    types[std::string(engine::traits_of(t.type).name)]++;
  }
  auto arch_u32 = [&](const char* suffix) -> std::string {
    const auto v = f.get_u32(f.arch_key(suffix));
    return v ? fmt::format("{}", *v) : std::string("-");
  };

  std::printf("file:            %s (%.1f MiB)\n", f.name().c_str(), static_cast<double>(f.file_size()) / (1 << 20));
  std::printf("format:          GGUF v%u, %zu tensors, %zu metadata keys, alignment %llu\n", f.version(),
              f.tensors().size(), f.metadata().size(), static_cast<unsigned long long>(f.alignment()));
  std::printf("architecture:    %s\n", arch.empty() ? "(none: general.architecture missing)" : std::string(arch).c_str());
  if (const auto name = f.get_string("general.name")) std::printf("name:            %.*s\n", static_cast<int>(name->size()), name->data());
  std::printf("parameters:      %s (%lld)\n", human_count(n_params).c_str(), static_cast<long long>(n_params));
  std::printf("context length:  %s\n", arch_u32("context_length").c_str());
  std::printf("shape:           embd %s, layers %s, heads %s, kv heads %s, ffn %s\n", arch_u32("embedding_length").c_str(),
              arch_u32("block_count").c_str(), arch_u32("attention.head_count").c_str(),
              arch_u32("attention.head_count_kv").c_str(), arch_u32("feed_forward_length").c_str());
  std::string type_text;
  for (const auto& [name, count] : types) type_text += fmt::format("{}{} x{}", type_text.empty() ? "" : ", ", name, count);
  std::printf("tensor types:    %s\n", type_text.empty() ? "(no tensors)" : type_text.c_str());

  const engine::gguf_array* tokens = f.get_array("tokenizer.ggml.tokens");
  const auto model = f.get_string("tokenizer.ggml.model");
  const auto pre = f.get_string("tokenizer.ggml.pre");
  if (model) {
    std::string kind(*model);
    if (kind == "llama") kind += " (SentencePiece)";
    if (kind == "gpt2") kind += " (byte-level BPE)";
    std::printf("tokenizer:       %s, pre %s\n", kind.c_str(), pre ? std::string(*pre).c_str() : "-");
  } else {
    std::printf("tokenizer:       (none: tokenizer.ggml.model missing)\n");
  }
  std::printf("vocab size:      %s", tokens != nullptr ? fmt::format("{}", tokens->count).c_str() : "-");
  if (const engine::gguf_array* merges = f.get_array("tokenizer.ggml.merges")) {
    std::printf(", %llu merges", static_cast<unsigned long long>(merges->count));
  }
  std::printf("\n");
  std::printf("special tokens:  bos %s, eos %s, unk %s, pad %s\n",
              special(f, "tokenizer.ggml.bos_token_id", tokens).c_str(),
              special(f, "tokenizer.ggml.eos_token_id", tokens).c_str(),
              special(f, "tokenizer.ggml.unknown_token_id", tokens).c_str(),
              special(f, "tokenizer.ggml.padding_token_id", tokens).c_str());
  if (const auto add_bos = f.get_bool("tokenizer.ggml.add_bos_token")) {
    std::printf("add bos:         %s\n", *add_bos ? "yes" : "no");
  }
  if (const auto tmpl = f.get_string("tokenizer.chat_template")) {
    std::printf("chat template:   yes, %s (%zu chars)\n", chat_family(*tmpl).c_str(), tmpl->size());
  } else {
    std::printf("chat template:   no\n");
  }
  if (options.verbose) {
    std::printf("\nmetadata:\n");
    for (const auto& kv : f.metadata()) {
      std::printf("  %-45.*s %s\n", static_cast<int>(kv.key.size()), kv.key.data(), kv.value.to_display().c_str());
    }
    std::printf("\ntensors:\n");
    for (const auto& t : f.tensors()) {
      std::string dims;
      for (int d = 0; d < t.n_dims; ++d) dims += fmt::format("{}{}", d == 0 ? "" : " x ", t.ne[d]);
      std::printf("  %-40s %-6s [%s]\n", t.name.c_str(), std::string(engine::traits_of(t.type).name).c_str(),
                  dims.c_str());
    }
  }
  return 0;
}

int run_model_synth(const global_options&, const model_synth_options& options) {
  engine::synth_options s;
  s.arch = options.arch;
  s.n_layers = options.layers;
  s.n_embd = options.dim;
  s.n_head = options.heads;
  s.n_head_kv = options.kv_heads;
  s.n_ff = options.ffn;
  s.n_vocab = options.vocab;
  s.head_dim = options.head_dim;
  s.n_ctx = options.ctx;
  s.seed = options.seed;
  s.n_threads = options.threads;
  if (options.type == "f16") {
    s.type = engine::tensor_type::f16;
  } else if (options.type == "q8_0") {
    s.type = engine::tensor_type::q8_0;
  } else if (options.type == "q4_k" || options.type == "q4_k_m") {
    s.type = engine::tensor_type::q4_k;
  } else {
    throw config_error(fmt::format("--type must be f16, q8_0 or q4_k, got '{}'", options.type));
  }
  if (options.tied) s.tied = true;
  if (options.untied) s.tied = false;
  if (options.tokenizer_from) s.tokenizer_from = *options.tokenizer_from;

  const auto start = std::chrono::steady_clock::now();
  const engine::synth_summary summary = engine::write_synthetic_model(s, options.output);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string type_text;
  for (const auto& [name, count] : summary.type_counts) {
    type_text += fmt::format("{}{} x{}", type_text.empty() ? "" : ", ", name, count);
  }
  std::printf("wrote %s: %s, %s parameters, %zu tensors (%s), vocab %d, %.1f MiB in %.1f s\n", options.output.c_str(),
              options.arch.c_str(), human_count(summary.n_params).c_str(), summary.n_tensors, type_text.c_str(),
              summary.n_vocab, static_cast<double>(std::filesystem::file_size(options.output)) / (1 << 20), seconds);
  for (const auto& note : summary.notes) std::fprintf(stderr, "note: %s\n", note.c_str());
  return 0;
}

}  // namespace huashan::cli
