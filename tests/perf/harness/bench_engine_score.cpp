// usage: huashan_bench_harness MODEL.gguf SAMPLES.jsonl [--threads N] [--ctx-size N]
// The engine alone on an eval run's requests: every (context, continuation)
// of the samples file (the file `huashan eval --output` wrote) is tokenized
// before the clock starts, exactly as the local backend tokenizes it, then all
// are submitted to the engine at once in the order the runner sends them
// (longest context first, equal contexts together) and the clock stops when
// the last score is in. No suite, template, cache or result in between.
// Prints one JSON line: documents, requests, seconds, questions_per_s.
#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "harness/local_backend.hpp"

using namespace huashan;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s MODEL.gguf SAMPLES.jsonl [--threads N] [--ctx-size N]\n", argv[0]);
    return 2;
  }
  engine::engine_config cfg;
  cfg.n_threads = 0;
  for (int i = 3; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--threads") cfg.n_threads = std::stoi(argv[i + 1]);
    else if (flag == "--ctx-size") cfg.n_ctx = std::stoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  try {
    auto model = std::make_shared<harness::local_model>("bench", argv[1], cfg);

    struct pair {
      std::string context, continuation;
    };
    std::vector<pair> pairs;
    std::int64_t documents = 0;
    std::ifstream in(argv[2]);
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) continue;
      const auto sample = boost::json::parse(line).as_object();
      ++documents;
      for (const auto& [key, args] : sample.at("arguments").as_object())
        pairs.push_back({std::string(args.at("arg_0").as_string()), std::string(args.at("arg_1").as_string())});
    }
    if (pairs.empty()) throw std::runtime_error(std::string(argv[2]) + ": no requests");
    // The runner removes duplicates and sends longest contexts first, equal contexts together.
    std::sort(pairs.begin(), pairs.end(), [](const pair& a, const pair& b) {
      if (a.context.size() != b.context.size()) return a.context.size() > b.context.size();
      if (const int c = a.context.compare(b.context); c != 0) return c < 0;
      if (a.continuation.size() != b.continuation.size()) return a.continuation.size() > b.continuation.size();
      return a.continuation < b.continuation;
    });
    pairs.erase(std::unique(pairs.begin(), pairs.end(),
                            [](const pair& a, const pair& b) { return a.context == b.context && a.continuation == b.continuation; }),
                pairs.end());
    std::vector<engine::score_request> requests;
    requests.reserve(pairs.size());
    for (const auto& p : pairs) requests.push_back(model->loglikelihood_tokens(p.context, p.continuation));

    const auto start = std::chrono::steady_clock::now();
    std::vector<std::future<engine::score_result>> futures;
    futures.reserve(requests.size());
    for (auto& r : requests) futures.push_back(model->submit(std::move(r)));
    double sum = 0;
    for (auto& f : futures) sum += f.get().logprob;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("%s\n", boost::json::serialize(boost::json::object{{"documents", documents},
                                                                   {"requests", static_cast<std::int64_t>(pairs.size())},
                                                                   {"seconds", seconds},
                                                                   {"questions_per_s", static_cast<double>(documents) / seconds},
                                                                   {"logprob_sum", sum}})
                            .c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "huashan_bench_harness: %s\n", e.what());
    return 1;
  }
  return 0;
}
