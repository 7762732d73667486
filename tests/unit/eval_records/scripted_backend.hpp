// A model behind the interface whose answers are written by each test: the
// determinism and contamination records are checked against what it was
// told to do.
#pragma once

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <unistd.h>

#include "harness/eval/runner.hpp"

namespace records_test {

namespace harness = huashan::harness;
namespace eval = huashan::harness::eval;
namespace fs = std::filesystem;

class scripted_backend final : public harness::model_backend {
 public:
  // (request, size of the batch it came in) -> answer
  std::function<harness::loglikelihood_result(const harness::loglikelihood_request&, std::size_t)> score =
      [](const harness::loglikelihood_request& r, std::size_t) {
        // Shorter continuations more likely; repeatable.
        return harness::loglikelihood_result{-static_cast<double>(r.continuation.size()) * 0.75, false,
                                             static_cast<std::int32_t>(r.continuation.size())};
      };
  std::function<harness::rolling_result(const harness::rolling_request&)> rolling = [](const harness::rolling_request& r) {
    return harness::rolling_result{-2.0 * static_cast<double>(r.text.size()), static_cast<std::int32_t>(r.text.size())};
  };
  std::int64_t requests = 0;
  std::int64_t rolling_requests = 0;

  harness::generation_result chat(const std::vector<harness::chat_message>&, const harness::generation_options&,
                                  const harness::text_sink&) override {
    throw harness::capability_error("scripted: no chat");
  }
  std::vector<harness::loglikelihood_result> loglikelihood(std::span<const harness::loglikelihood_request> rs) override {
    requests += static_cast<std::int64_t>(rs.size());
    std::vector<harness::loglikelihood_result> out;
    for (const auto& r : rs) out.push_back(score(r, rs.size()));
    return out;
  }
  std::vector<harness::rolling_result> loglikelihood_rolling(std::span<const harness::rolling_request> rs) override {
    requests += static_cast<std::int64_t>(rs.size());
    rolling_requests += static_cast<std::int64_t>(rs.size());
    std::vector<harness::rolling_result> out;
    for (const auto& r : rs) out.push_back(rolling(r));
    return out;
  }
  std::vector<harness::generation_result> generate_until(std::span<const harness::generate_until_request> rs) override {
    requests += static_cast<std::int64_t>(rs.size());
    std::vector<harness::generation_result> out;
    for (const auto& r : rs) {
      harness::generation_result g;
      g.text = " " + std::to_string(r.context.size() % 5) + (rs.size() > 1 ? " batched" : "");
      out.push_back(g);
    }
    return out;
  }
  harness::model_fingerprint fingerprint() const override { return {"test", {{"name", "scripted"}}}; }
  std::string describe() const override { return "scripted"; }
};

// A multiple-choice task of 12 test questions ("Q: test N") and 6 few-shot
// questions ("Q: shot N"), with or without its few-shot split.
struct toy_suite {
  fs::path dir;
  explicit toy_suite(const std::string& name, bool with_fewshot = true)
      : dir(fs::temp_directory_path() / ("huashan-records-" + name + "-" + std::to_string(::getpid()))) {
    fs::remove_all(dir);
    fs::create_directories(dir / "data" / "toy");
    std::ofstream test(dir / "data" / "toy" / "test.jsonl");
    for (int i = 0; i < 12; ++i)
      test << R"({"q": "test )" << i << R"(", "choices": ["a", "bb", "ccc"], "gold": )" << i % 3 << "}\n";
    std::ofstream dev(dir / "data" / "toy" / "dev.jsonl");
    for (int i = 0; i < 6; ++i) dev << R"({"q": "shot )" << i << R"(", "choices": ["x", "yy"], "gold": 1})" "\n";
    std::ofstream yaml(dir / "toy.yaml");
    yaml << "task: toy_mc\n"
            "dataset_path: toy\n"
            "dataset_kwargs:\n"
            "  data_files:\n"
            "    test: test.jsonl\n"
            "    dev: dev.jsonl\n"
            "test_split: test\n"
         << (with_fewshot ? "fewshot_split: dev\n" : "")
         << "num_fewshot: 1\n"
            "output_type: multiple_choice\n"
            "doc_to_text: \"Q: {{q}}\\nA:\"\n"
            "doc_to_choice: choices\n"
            "doc_to_target: gold\n"
            "metric_list:\n"
            "  - metric: acc\n"
            "metadata:\n"
            "  version: 1.0\n";
  }
  ~toy_suite() { fs::remove_all(dir); }
  eval::suite_selection suites() const { return eval::load_suites({(dir / "toy.yaml").string()}, {}); }
  eval::eval_options options() const {
    eval::eval_options o;
    o.data_dir = dir / "data";
    o.batch_size = 4;
    o.control_dir = fs::path(HUASHAN_SOURCE_DIR) / "benchmarks" / "control";
    return o;
  }
};

}  // namespace records_test
