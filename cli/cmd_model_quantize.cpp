// `huashan model quantize IN.gguf OUT.gguf --type q8_0`: the weights of a GGUF
// in another tensor type (the demo's Q8_0 stories model is made this way).
#include <fmt/format.h>

#include <cstdio>

#include "cli/commands.hpp"
#include "common/error.hpp"
#include "harness/engine/gguf_quantize.hpp"

namespace huashan::cli {

int run_model_quantize(const global_options&, const model_quantize_options& options) {
  engine::tensor_type target = engine::tensor_type::f32;
  bool known = false;
  for (std::uint32_t id = 0; id < 64 && !known; ++id) {
    const auto traits = engine::traits_of(id);
    if (traits.name == options.type && engine::can_quantize_to(static_cast<engine::tensor_type>(id))) {
      target = static_cast<engine::tensor_type>(id);
      known = true;
    }
  }
  if (!known) {
    throw config_error(fmt::format("--type must be f16, bf16, q8_0, q4_0, q4_k or q6_k, got '{}'", options.type));
  }
  if (std::filesystem::exists(options.output) && std::filesystem::equivalent(options.input, options.output)) {
    throw config_error("model quantize: the output must be another file than the input");
  }
  const engine::quantize_report r = engine::quantize_gguf(options.input, options.output, target);
  std::printf("%s: %lld tensors in %s, %zu kept (%.2f MiB -> %.2f MiB)\n", options.output.string().c_str(),
              static_cast<long long>(r.converted), options.type.c_str(), r.kept.size(),
              static_cast<double>(r.bytes_in) / (1 << 20), static_cast<double>(r.bytes_out) / (1 << 20));
  if (options.verbose) {
    for (const auto& k : r.kept) std::printf("  kept %s\n", k.c_str());
  }
  return 0;
}

}  // namespace huashan::cli
