// The runner's own duties, with a scripted model behind the interface (the
// real engine is exercised end to end by tests/e2e/eval_*.sh): duplicates
// asked once, answers cached so a rerun asks nothing, a run stopped midway
// resumes to the same results, longest contexts first with equal contexts together.
#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/error.hpp"
#include "harness/eval/results.hpp"
#include "harness/eval/runner.hpp"

namespace eval = huashan::harness::eval;
namespace harness = huashan::harness;
namespace fs = std::filesystem;

namespace {

// Log-likelihoods from the text alone (shorter continuations and those
// starting with 'b' more likely), so answers are checkable and repeatable.
class scripted_model final : public harness::model_backend {
 public:
  std::int64_t calls = 0;
  std::int64_t requests = 0;
  std::int64_t fail_after_calls = -1;  // throw on this call (a run killed midway)
  std::vector<std::string> contexts;   // in the order asked

  harness::generation_result chat(const std::vector<harness::chat_message>&, const harness::generation_options&,
                                  const harness::text_sink&) override {
    throw harness::capability_error("scripted model: no chat");
  }
  std::vector<harness::loglikelihood_result> loglikelihood(std::span<const harness::loglikelihood_request> rs) override {
    count(rs.size());
    std::vector<harness::loglikelihood_result> out;
    for (const auto& r : rs) {
      contexts.push_back(r.context);
      const double lp = -static_cast<double>(r.continuation.size()) - (r.continuation.find('b') == 1 ? 0.0 : 0.5);
      out.push_back({lp, r.continuation.find('b') == 1, static_cast<std::int32_t>(r.continuation.size())});
    }
    return out;
  }
  std::vector<harness::rolling_result> loglikelihood_rolling(std::span<const harness::rolling_request> rs) override {
    count(rs.size());
    std::vector<harness::rolling_result> out;
    for (const auto& r : rs) out.push_back({-0.25 * static_cast<double>(r.text.size()), static_cast<std::int32_t>(r.text.size())});
    return out;
  }
  std::vector<harness::generation_result> generate_until(std::span<const harness::generate_until_request> rs) override {
    count(rs.size());
    std::vector<harness::generation_result> out;
    for (const auto& r : rs) {
      harness::generation_result g;
      g.text = " The answer is " + std::to_string(r.context.size() % 7) + ".";
      out.push_back(g);
    }
    return out;
  }
  harness::model_fingerprint fingerprint() const override { return {"test", {{"name", "scripted"}}}; }
  std::string describe() const override { return "scripted"; }

 private:
  void count(std::size_t n) {
    if (fail_after_calls >= 0 && calls >= fail_after_calls) throw huashan::error("scripted model stopped");
    ++calls;
    requests += static_cast<std::int64_t>(n);
  }
};

struct fixture {
  fs::path dir = fs::temp_directory_path() / ("huashan-runner-test-" + std::to_string(::getpid()));
  fixture() {
    fs::remove_all(dir);
    fs::create_directories(dir / "data" / "toy");
    std::ofstream test(dir / "data" / "toy" / "test.jsonl");
    // Documents 0 and 3 are the same question: their requests are asked once.
    test << R"({"q": "one", "choices": ["a", "b", "cc"], "gold": 1})" "\n"
         << R"({"q": "two longer question", "choices": ["ab", "b", "c"], "gold": 0})" "\n"
         << R"({"q": "three", "choices": ["b", "bb", "c"], "gold": 0})" "\n"
         << R"({"q": "one", "choices": ["a", "b", "cc"], "gold": 1})" "\n";
    std::ofstream dev(dir / "data" / "toy" / "dev.jsonl");
    dev << R"({"q": "shot", "choices": ["x", "y"], "gold": 1})" "\n";
    std::ofstream yaml(dir / "toy.yaml");
    yaml << "task: toy_mc\n"
            "dataset_path: toy\n"
            "dataset_kwargs:\n"
            "  data_files:\n"
            "    test: test.jsonl\n"
            "    dev: dev.jsonl\n"
            "test_split: test\n"
            "fewshot_split: dev\n"
            "fewshot_config:\n"
            "  sampler: first_n\n"
            "num_fewshot: 1\n"
            "output_type: multiple_choice\n"
            "doc_to_text: \"Q: {{q}}\\nA:\"\n"
            "doc_to_choice: choices\n"
            "doc_to_target: gold\n"
            "metric_list:\n"
            "  - metric: acc\n"
            "  - metric: acc_norm\n"
            "metadata:\n"
            "  version: 1.0\n";
  }
  ~fixture() { fs::remove_all(dir); }
  eval::suite_selection suites() const { return eval::load_suites({(dir / "toy.yaml").string()}, {}); }
  eval::eval_options options() const {
    eval::eval_options o;
    o.data_dir = dir / "data";
    o.cache_dir = dir / "cache";
    o.batch_size = 2;
    // These tests count the model's calls; the determinism check's own calls
    // are tested in tests/unit/eval_records.
    o.determinism_check = false;
    return o;
  }
};

std::string results_text(const eval::eval_outcome& o) {
  eval::run_settings s;
  s.model = "scripted";
  s.batch_size = "2";
  auto j = eval::results_json(o, s);
  return boost::json::serialize(j);
}

}  // namespace

TEST_CASE("duplicate requests are asked once, longest contexts first, equal contexts together") {
  fixture f;
  scripted_model m;
  const auto out = eval::run_eval(m, f.suites(), f.options());
  CHECK(out.stats.total == 12);
  CHECK(out.stats.unique == 9);
  CHECK(out.stats.computed == 9);
  CHECK(m.requests == 9);
  CHECK(m.calls == 5);  // batches of 2
  for (std::size_t i = 1; i < m.contexts.size(); ++i) CHECK(m.contexts[i - 1].size() >= m.contexts[i].size());
  // Every context's requests are adjacent.
  for (std::size_t i = 2; i < m.contexts.size(); ++i)
    if (m.contexts[i] == m.contexts[i - 2]) CHECK(m.contexts[i - 1] == m.contexts[i]);
  REQUIRE(out.tasks.size() == 1);
  const auto& t = out.tasks[0];
  CHECK(t.prepared.docs.size() == 4);
  // The scripted model prefers the shortest continuation starting with 'b'.
  const auto acc = std::find_if(t.metrics.begin(), t.metrics.end(), [](const auto& m) { return m.metric == "acc"; });
  REQUIRE(acc != t.metrics.end());
  CHECK(acc->value == doctest::Approx(0.75));  // it answers b, b, b, b; document 1's gold is ab
}

TEST_CASE("an unchanged rerun asks the model nothing and gives the same results") {
  fixture f;
  scripted_model first;
  const auto a = eval::run_eval(first, f.suites(), f.options());
  scripted_model second;
  const auto b = eval::run_eval(second, f.suites(), f.options());
  CHECK(second.requests == 0);
  CHECK(b.stats.cached == 9);
  CHECK(b.stats.computed == 0);
  CHECK(results_text(a) == results_text(b));
}

TEST_CASE("a run stopped midway keeps its answers; the rerun asks only the rest and gives the same results") {
  fixture f;
  scripted_model whole;
  auto opts = f.options();
  opts.cache_dir = f.dir / "cache-whole";
  const auto expected = eval::run_eval(whole, f.suites(), opts);

  scripted_model killed;
  killed.fail_after_calls = 2;
  CHECK_THROWS_AS(eval::run_eval(killed, f.suites(), f.options()), huashan::error);
  CHECK(killed.requests == 4);
  scripted_model resumed;
  const auto got = eval::run_eval(resumed, f.suites(), f.options());
  CHECK(got.stats.cached == 4);
  CHECK(got.stats.computed == 5);
  CHECK(resumed.requests == 5);
  CHECK(results_text(got) == results_text(expected));
}

TEST_CASE("a model that cannot score fails before anything is cached, naming the limitation") {
  class chat_only final : public harness::model_backend {
   public:
    harness::generation_result chat(const std::vector<harness::chat_message>&, const harness::generation_options&,
                                    const harness::text_sink&) override { return {}; }
    std::vector<harness::loglikelihood_result> loglikelihood(std::span<const harness::loglikelihood_request>) override {
      throw harness::capability_error("chat-only: no log-likelihoods");
    }
    std::vector<harness::rolling_result> loglikelihood_rolling(std::span<const harness::rolling_request>) override {
      throw harness::capability_error("chat-only: no log-likelihoods");
    }
    std::vector<harness::generation_result> generate_until(std::span<const harness::generate_until_request>) override { return {}; }
    harness::model_fingerprint fingerprint() const override { return {"test", {{"name", "chat-only"}}}; }
    std::string describe() const override { return "chat-only"; }
  };
  fixture f;
  chat_only m;
  CHECK_THROWS_WITH_AS(eval::run_eval(m, f.suites(), f.options()), doctest::Contains("no log-likelihoods"), harness::capability_error);
}

TEST_CASE("shards answered apart and aggregated together give the whole run's results") {
  fixture f;
  scripted_model whole_model;
  auto opts = f.options();
  opts.cache_dir.reset();
  const auto whole = eval::run_eval(whole_model, f.suites(), opts);

  eval::eval_outcome joined;
  joined.tasks = eval::prepare_tasks(f.suites(), opts);
  for (const auto& [first, last] : {std::pair<std::int64_t, std::int64_t>{0, 3}, {3, 4}}) {
    auto shard_opts = opts;
    shard_opts.doc_range = {first, last};
    scripted_model m;
    const auto shard = eval::run_eval(m, f.suites(), shard_opts);
    REQUIRE(shard.tasks[0].prepared.docs.size() == static_cast<std::size_t>(last - first));
    CHECK(shard.tasks[0].prepared.docs.front().doc_id == first);
    CHECK(shard.tasks[0].prepared.docs.front().prompt == whole.tasks[0].prepared.docs[static_cast<std::size_t>(first)].prompt);
    for (const auto& s : shard.tasks[0].scores) joined.tasks[0].scores.push_back(s);
  }
  joined.fingerprint = whole.fingerprint;
  eval::aggregate_outcome(joined, f.suites(), opts);
  CHECK(results_text(joined) == results_text(whole));

  opts.doc_range = {2, 9};
  CHECK_THROWS_WITH_AS(eval::prepare_tasks(f.suites(), opts), doctest::Contains("has 4 documents"), huashan::input_error);
}
