// usage: huashan_bench_loglikelihood MODEL.gguf QUESTIONS REUSE(0|1) THREADS
// A 5-shot 4-choice suite made of plain words: every request shares the five
// shots, the four of a question share its whole context. Prints one JSON line
// with requests/s, prompt rows computed and the sum of all log-probabilities
// (equal with reuse on and off).
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "harness/local_backend.hpp"

using namespace huashan;

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s MODEL.gguf QUESTIONS REUSE(0|1) THREADS\n", argv[0]);
    return 2;
  }
  const int n_questions = std::stoi(argv[2]);
  engine::engine_config cfg;
  cfg.n_threads = std::stoi(argv[4]);
  cfg.n_ctx = 2048;
  cfg.kv.prefix_reuse = std::string(argv[3]) == "1";
  cfg.kv.memory_budget_bytes = std::size_t{1} << 30;
  auto model = std::make_shared<harness::local_model>("bench", argv[1], cfg);
  harness::local_backend backend(model);

  const std::vector<std::string> words = {"river", "stone", "light", "garden", "paper", "window", "market", "silver",
                                          "winter", "forest", "bridge", "candle", "harbor", "meadow", "pencil", "thunder"};
  std::mt19937 gen(7);
  auto sentence = [&](int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += (i ? " " : "") + words[gen() % words.size()];
    return s;
  };
  auto question = [&] {
    std::string q = "Question: " + sentence(30) + "?\n";
    for (const char* letter : {"A", "B", "C", "D"}) q += fmt::format("{}. {}\n", letter, sentence(4));
    return q + "Answer:";
  };
  std::string shots;
  for (int i = 0; i < 5; ++i) shots += question() + " " + "ABCD"[i % 4] + "\n\n";
  std::vector<harness::loglikelihood_request> requests;
  for (int q = 0; q < n_questions; ++q) {
    const std::string context = shots + question();
    for (const char* choice : {" A", " B", " C", " D"}) requests.push_back({context, choice});
  }
  const auto before = model->engine().stats();
  const auto t0 = std::chrono::steady_clock::now();
  const auto results = backend.loglikelihood(requests);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto after = model->engine().stats();
  double sum = 0.0;
  for (const auto& r : results) sum += r.logprob;
  std::printf("{\"reuse\": %s, \"requests\": %zu, \"context_tokens\": %zu, \"seconds\": %.3f, \"requests_per_s\": %.3f, "
              "\"prompt_rows\": %lld, \"prefix_hit_tokens\": %lld, \"logprob_sum\": %.6f}\n",
              cfg.kv.prefix_reuse ? "true" : "false", requests.size(),
              model->loglikelihood_tokens(requests.front().context, requests.front().continuation).context.size(), seconds,
              static_cast<double>(requests.size()) / seconds, static_cast<long long>(after.prompt_tokens - before.prompt_tokens),
              static_cast<long long>(after.kv.prefix_hit_tokens - before.kv.prefix_hit_tokens), sum);
  return 0;
}
