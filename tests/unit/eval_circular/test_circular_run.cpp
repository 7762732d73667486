// A circular run through run_eval: a group runs the members that have a
// circular block, a task asked for by itself without one is refused, the
// results record the run as circular; the shipped suites' circular blocks
// fit their data.
#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/error.hpp"
#include "harness/eval/circular.hpp"
#include "harness/eval/results.hpp"
#include "harness/eval/runner.hpp"

namespace eval = huashan::harness::eval;
namespace harness = huashan::harness;
namespace fs = std::filesystem;

namespace {

// Always prefers the first label, whatever the options say.
class first_label_model final : public harness::model_backend {
 public:
  harness::generation_result chat(const std::vector<harness::chat_message>&, const harness::generation_options&,
                                  const harness::text_sink&) override {
    throw harness::capability_error("first-label model: no chat");
  }
  std::vector<harness::loglikelihood_result> loglikelihood(std::span<const harness::loglikelihood_request> rs) override {
    std::vector<harness::loglikelihood_result> out;
    for (const auto& r : rs) out.push_back({r.continuation == " A" ? -1.0 : -2.0, r.continuation == " A", 1});
    return out;
  }
  std::vector<harness::rolling_result> loglikelihood_rolling(std::span<const harness::rolling_request> rs) override {
    std::vector<harness::rolling_result> out;
    for (const auto& r : rs) out.push_back({-0.5 * static_cast<double>(r.text.size()), 1});
    return out;
  }
  std::vector<harness::generation_result> generate_until(std::span<const harness::generate_until_request>) override {
    throw harness::capability_error("first-label model: no generation");
  }
  harness::model_fingerprint fingerprint() const override { return {"test", {{"name", "first-label"}}}; }
  std::string describe() const override { return "first-label"; }
};

struct suite_dir {
  fs::path dir = fs::temp_directory_path() / ("huashan-circular-test-" + std::to_string(::getpid()));
  suite_dir() {
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::ofstream(dir / "mc.jsonl") << R"({"q": "one", "options": ["yes", "no", "maybe"], "gold": "A"})" "\n"
                                    << R"({"q": "two", "options": ["up", "down", "left"], "gold": "A"})" "\n";
    std::ofstream(dir / "text.jsonl") << R"({"text": "some prose"})" "\n";
    std::ofstream(dir / "mc.yaml") << R"(task: toy_mc
dataset_path: json
dataset_kwargs:
  data_files:
    test: mc.jsonl
test_split: test
output_type: multiple_choice
doc_to_text: "{{q}}\nA. {{options[0]}}\nB. {{options[1]}}\nC. {{options[2]}}\nAnswer:"
doc_to_choice: ["A", "B", "C"]
doc_to_target: "{{['A', 'B', 'C'].index(gold)}}"
metric_list:
  - metric: acc
circular:
  choices_field: options
  answer_field: gold
)";
    std::ofstream(dir / "text.yaml") << R"(task: toy_text
dataset_path: json
dataset_kwargs:
  data_files:
    test: text.jsonl
test_split: test
output_type: loglikelihood_rolling
doc_to_target: "{{text}}"
)";
    std::ofstream(dir / "group.yaml") << R"(group: toy
task: [toy_mc, toy_text]
aggregate_metric_list:
  - metric: acc
)";
  }
  ~suite_dir() { fs::remove_all(dir); }
};

const eval::metric_summary& find(const std::vector<eval::metric_summary>& ms, const std::string& name) {
  for (const auto& m : ms)
    if (m.metric == name) return m;
  FAIL("no metric " << name);
  return ms.front();
}

}  // namespace

TEST_CASE("a circular run of a group runs its members with a circular block and aggregates acc_circular") {
  suite_dir s;
  const auto suites = eval::load_suites({"toy"}, {s.dir});
  first_label_model model;
  eval::eval_options options;
  options.circular = true;
  const auto outcome = eval::run_eval(model, suites, options);
  REQUIRE(outcome.tasks.size() == 1);
  CHECK(outcome.tasks[0].config.task == "toy_mc");
  CHECK(find(outcome.tasks[0].metrics, "acc").value == 1.0);
  CHECK(find(outcome.tasks[0].metrics, "acc_circular").value == 0.0);
  CHECK(outcome.stats.total == 2 * 3 * 3);
  REQUIRE(outcome.groups.size() == 1);
  CHECK(outcome.groups[0].config.task == std::vector<std::string>{"toy_mc"});
  CHECK(find(outcome.groups[0].metrics, "acc_circular").value == 0.0);

  eval::run_settings settings;
  settings.circular = true;
  const auto results = eval::results_json(outcome, settings);
  CHECK(results.at("config").at("circular") == true);
  CHECK(results.at("results").at("toy_mc").at("acc_circular,none") == 0.0);
  const auto samples = eval::samples_jsonl(outcome.tasks[0]);
  const auto first = boost::json::parse(samples.substr(0, samples.find('\n'))).as_object();
  CHECK(first.at("arguments").as_object().size() == 9);

  // The same suites without --circular: the plain numbers, another prompts hash.
  const auto plain = eval::run_eval(model, suites, {});
  REQUIRE(plain.tasks.size() == 2);
  CHECK(find(plain.tasks[0].metrics, "acc").value == 1.0);
  CHECK(plain.tasks[0].prepared.prompts_hash != outcome.tasks[0].prepared.prompts_hash);
  CHECK(eval::results_json(plain, {}).at("config").at("circular") == false);
}

TEST_CASE("a task asked for by itself without a circular block is refused, naming it") {
  suite_dir s;
  const auto suites = eval::load_suites({"toy_text"}, {s.dir});
  first_label_model model;
  eval::eval_options options;
  options.circular = true;
  try {
    eval::run_eval(model, suites, options);
    FAIL("no error");
  } catch (const huashan::input_error& e) {
    CHECK(std::string(e.what()).find("task 'toy_text' has no circular block") != std::string::npos);
  }
}

TEST_CASE("the shipped multiple-choice suites run circularly on the test data") {
  const fs::path benchmarks = fs::path(HUASHAN_SOURCE_DIR) / "benchmarks";
  const fs::path data = fs::path(HUASHAN_TEST_DATA) / "datasets";
  struct shipped {
    const char* name;
    fs::path data_dir;
  };
  for (const auto& [name, data_dir] :
       {shipped{"huashan-sample", data}, shipped{"ceval-valid_computer_network", data},
        shipped{"cmmlu_chinese_history", data}, shipped{"mmlu_world_religions", data},
        shipped{"arc_easy", data / "format_samples"}, shipped{"arc_challenge", data / "format_samples"}}) {
    CAPTURE(name);
    const auto suites = eval::load_suites({name}, {benchmarks});
    eval::eval_options options;
    options.circular = true;
    options.data_dir = data_dir;
    const auto tasks = eval::prepare_tasks(suites, options);
    REQUIRE_FALSE(tasks.empty());
    for (const auto& t : tasks) {
      CAPTURE(t.config.task);
      REQUIRE_FALSE(t.prepared.docs.empty());
      for (const auto& doc : t.prepared.docs) {
        REQUIRE(doc.rotations.size() >= 2);
        CHECK(doc.rotations[0].target == doc.target);
      }
    }
  }
  const auto sample = eval::circular_selection(eval::load_suites({"huashan-sample"}, {benchmarks}));
  std::vector<std::string> names;
  for (const auto& t : sample.tasks) names.push_back(t.task);
  CHECK(names == std::vector<std::string>{"huashan-sample_zh_mc", "huashan-sample_en_mc"});
}
