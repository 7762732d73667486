// `huashan generate`: runs the engine on one prompt, streaming the text to
// stdout; prompt and generation speed go to stderr at the end.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

#include "cli/commands.hpp"
#include "common/error.hpp"
#include "harness/engine/engine.hpp"
#include "harness/local_backend.hpp"

namespace huashan::cli {

namespace {

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw io_error(fmt::format("{}: cannot open the prompt file", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

int run_generate(const global_options& /*global*/, const generate_options& o) {
  using clock = std::chrono::steady_clock;
  engine::engine_config cfg;
  cfg.n_threads = o.threads;
  cfg.n_ctx = o.ctx_size;
  cfg.kv.memory_budget_bytes = static_cast<std::size_t>(o.kv_budget_mib) << 20;
  harness::local_model model(o.model, o.model, cfg);
  const auto& tok = model.tokenizer();

  const std::string text = o.prompt_file ? read_text_file(*o.prompt_file) : o.prompt;
  engine::tokenize_options topts;
  topts.add_special = true;
  topts.parse_special = true;  // a raw prompt may name control tokens, as in llama.cpp

  engine::generate_request req;
  if (o.chat) {
    // The model's own chat template; its markers are control tokens, the message plain text.
    const harness::chat_message msg{"user", text};
    req.prompt = model.chat_prompt(std::span<const harness::chat_message>(&msg, 1));
  } else {
    req.prompt = tok.tokenize(text, topts);
  }
  if (req.prompt.empty()) throw input_error("generate: the prompt has no tokens (give --prompt or -f)");
  req.max_tokens = o.n_predict;
  req.sampling.temperature = o.temperature;
  req.sampling.top_k = o.top_k;
  req.sampling.top_p = o.top_p;
  req.sampling.min_p = o.min_p;
  req.sampling.repetition_penalty = o.repeat_penalty;
  req.sampling.seed = o.seed >= 0 ? static_cast<std::uint64_t>(o.seed) : std::random_device{}();
  req.stop = o.stop;
  req.ignore_eos = o.ignore_eos;
  req.on_text = [](std::string_view piece) {
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
  };

  const auto t0 = clock::now();
  auto future = model.submit(std::move(req));
  // The model's driver thread steps the engine; the first sampled token ends the prompt pass.
  std::optional<clock::time_point> t_first;
  while (future.wait_for(std::chrono::milliseconds(1)) != std::future_status::ready) {
    if (!t_first && model.engine().stats().generated_tokens > 0) t_first = clock::now();
  }
  if (!t_first && model.engine().stats().generated_tokens > 0) t_first = clock::now();
  const auto t_end = clock::now();
  const auto result = future.get();
  std::fputc('\n', stdout);
  std::fflush(stdout);

  auto seconds = [](clock::duration d) { return std::chrono::duration<double>(d).count(); };
  const double prompt_s = t_first ? seconds(*t_first - t0) : seconds(t_end - t0);
  const double gen_s = t_first ? seconds(t_end - *t_first) : 0.0;
  const auto n_gen = static_cast<std::int64_t>(result.tokens.size()) + (result.finish == engine::finish_reason::eos ? 1 : 0);
  const std::int64_t n_computed_prompt = result.n_prompt - result.n_prompt_cached;
  // The first generated token comes out of the prompt pass; the rest each cost one decode pass.
  std::fprintf(stderr, "prompt: %d tokens in %.3f s, %.2f tokens/s | generation: %lld tokens in %.3f s, %.2f tokens/s | finish: %s | threads %d\n",
               result.n_prompt, prompt_s, prompt_s > 0 ? static_cast<double>(n_computed_prompt) / prompt_s : 0.0,
               static_cast<long long>(n_gen), gen_s, gen_s > 0 && n_gen > 1 ? static_cast<double>(n_gen - 1) / gen_s : 0.0,
               std::string(engine::finish_reason_name(result.finish)).c_str(), model.engine().n_threads());
  return 0;
}

}  // namespace huashan::cli
