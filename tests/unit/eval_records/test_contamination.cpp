// The contamination hint: a model that finds the test questions far more
// likely than the few-shot questions and the control is flagged, a neutral
// one is not; shards' records add up to exactly the whole run's; records
// merge exactly and survive JSON.
#include <boost/json.hpp>
#include <doctest/doctest.h>

#include "common/error.hpp"
#include "harness/eval/contamination.hpp"
#include "harness/eval/results.hpp"
#include "scripted_backend.hpp"

using namespace records_test;

namespace {

// Test questions ("Q: test N") at -0.1 nats per character, everything else at -2.
harness::rolling_result memorised(const harness::rolling_request& r) {
  const double per = r.text.find("Q: test") != std::string::npos ? -0.1 : -2.0;
  return {per * static_cast<double>(r.text.size()), static_cast<std::int32_t>(r.text.size())};
}

// Uneven per-text values (not binary fractions), so a sum in another order
// would differ in its last bits.
harness::rolling_result uneven(const harness::rolling_request& r) {
  double lp = 0.0;
  for (const unsigned char c : r.text) lp -= 0.1 + static_cast<double>(c % 7) * 0.0131;
  return {lp, static_cast<std::int32_t>(r.text.size())};
}

}  // namespace

TEST_CASE("test questions far more likely than few-shot questions and the control are flagged") {
  toy_suite suite("cont-flag");
  auto opts = suite.options();
  opts.contamination = true;
  scripted_backend model;
  model.rolling = memorised;
  const auto out = eval::run_eval(model, suite.suites(), opts);
  REQUIRE(out.contamination.count("toy_mc") == 1);
  const auto& c = out.contamination.at("toy_mc");
  CHECK(c.test.documents == 12);    // every test question (fewer than the sample size)
  CHECK(c.fewshot.documents == 6);  // every few-shot question
  CHECK(c.control_language == "en");
  CHECK(c.control.documents >= 3);
  CHECK(c.test.mean_per_token().value() == doctest::Approx(-0.1).epsilon(1e-6));
  CHECK(c.fewshot.mean_per_token().value() == doctest::Approx(-2.0).epsilon(1e-6));
  CHECK(c.control.mean_per_token().value() == doctest::Approx(-2.0).epsilon(1e-6));
  CHECK(c.flagged());
  // The questions alone: neither the few-shot example nor anything after "A:".
  CHECK(c.test.tokens == 12 * static_cast<std::int64_t>(std::string("Q: test 1\nA:").size()) + 2);  // "test 10", "test 11"

  eval::run_settings settings;
  const auto j = eval::results_json(out, settings);
  REQUIRE(j.contains("contamination"));
  CHECK(j.at("contamination").at("toy_mc").at("flagged").as_bool());
  CHECK(eval::contamination_from_json(j.at("contamination").at("toy_mc")) == c);
}

TEST_CASE("a model without a preference for the test questions is not flagged") {
  toy_suite suite("cont-neutral");
  auto opts = suite.options();
  opts.contamination = true;
  scripted_backend model;  // -2 nats per character everywhere
  const auto out = eval::run_eval(model, suite.suites(), opts);
  const auto& c = out.contamination.at("toy_mc");
  CHECK(c.test.documents == 12);
  CHECK_FALSE(c.flagged());
  eval::run_settings settings;
  CHECK_FALSE(eval::results_json(out, settings).at("contamination").at("toy_mc").at("flagged").as_bool());
}

TEST_CASE("the flag rule: both references by the margin, never without few-shot questions") {
  auto record = [](double test, std::optional<double> fewshot, double control) {
    eval::contamination_record r;
    r.test.add(test * 100, 100);
    if (fewshot) r.fewshot.add(*fewshot * 100, 100);
    r.control.add(control * 100, 100);
    r.control_language = "en";
    return r;
  };
  CHECK(record(-1.0, -2.0, -2.0).flagged());
  CHECK_FALSE(record(-1.0, -1.2, -2.0).flagged());  // as likely as their siblings: the format, not the test set
  CHECK_FALSE(record(-1.0, -2.0, -1.4).flagged());  // as likely as ordinary text
  CHECK_FALSE(record(-1.0, std::nullopt, -9.0).flagged());
  eval::contamination_record no_control;
  no_control.test.add(-1.0, 10);
  CHECK_FALSE(no_control.flagged());
}

TEST_CASE("without a few-shot split the hint is reported but never flagged") {
  toy_suite suite("cont-nofewshot", false);
  auto opts = suite.options();
  opts.contamination = true;
  scripted_backend model;
  model.rolling = memorised;
  const auto out = eval::run_eval(model, suite.suites(), opts);
  const auto& c = out.contamination.at("toy_mc");
  CHECK(c.fewshot.documents == 0);
  CHECK_FALSE(c.fewshot.mean_per_token());
  // -0.1 against the control's -2.0, but formatted questions can beat prose
  // without any leak: a tiny English model finds Chinese questions' option
  // letters far likelier than Chinese prose.
  CHECK_FALSE(c.flagged());
  CHECK(c.test.documents == 12);
  CHECK(c.control.documents >= 3);
}

TEST_CASE("shards' records merged equal the whole run's, exactly") {
  toy_suite suite("cont-shards");
  auto opts = suite.options();
  opts.contamination = true;
  scripted_backend whole_model;
  whole_model.rolling = uneven;
  const auto whole = eval::run_eval(whole_model, suite.suites(), opts);

  std::optional<eval::determinism_record> determinism;
  std::optional<eval::contamination_record> contamination;
  for (const auto& [first, last] : {std::pair<std::int64_t, std::int64_t>{0, 5}, {5, 7}, {7, 12}}) {
    auto shard_opts = opts;
    shard_opts.doc_range = {first, last};
    scripted_backend m;
    m.rolling = uneven;
    const auto shard = eval::run_eval(m, suite.suites(), shard_opts);
    const auto& c = shard.contamination.at("toy_mc");
    CHECK(c.test.documents == last - first);
    if (first != 0) {
      CHECK(c.fewshot.documents == 0);
      CHECK(c.control.documents == 0);
      CHECK(c.control_language.empty());
    }
    determinism = determinism ? eval::merge(*determinism, *shard.determinism) : *shard.determinism;
    contamination = contamination ? eval::merge(*contamination, c) : c;
  }
  REQUIRE(whole.determinism);
  CHECK(*determinism == *whole.determinism);
  CHECK(*contamination == whole.contamination.at("toy_mc"));
  CHECK(contamination->test.logprob_sum() == whole.contamination.at("toy_mc").test.logprob_sum());
}

TEST_CASE("the sample is capped per split") {
  eval::task_config task;
  task.task = "big";
  task.doc_to_text = "{{q}}";
  task.doc_to_target = "{{a}}";
  task.output = eval::output_type::generate_until;
  std::vector<eval::document> docs;
  for (int i = 0; i < 1000; ++i) docs.push_back({{"q", "question " + std::to_string(i)}, {"a", "x"}});
  scripted_backend model;
  eval::contamination_inputs in;
  in.task = &task;
  in.test_docs = &docs;
  in.fewshot_docs = &docs;
  in.test_count = 1000;
  in.range_first = 0;
  in.range_last = 1000;
  in.seed = 3;
  eval::control_passages control{{"中文段落。"}, {"An English passage."}};
  const auto rec = eval::measure_contamination(model, in, control, 32);
  CHECK(rec.test.documents == eval::contamination_sample_size);
  CHECK(rec.fewshot.documents == eval::contamination_sample_size);
  CHECK(rec.control.documents == 1);
  CHECK(rec.control_language == "en");
  CHECK(model.rolling_requests == 2 * eval::contamination_sample_size + 1);
}

TEST_CASE("the control's language follows the share of CJK ideographs") {
  CHECK(eval::text_language("以下是关于计算机科学的单项选择题。A. 一 B. 二") == "zh");
  CHECK(eval::text_language("The following are multiple choice questions. A. one B. two") == "en");
  CHECK(eval::text_language("Translate 你好 into English, please, and explain the greeting") == "en");
  CHECK(eval::text_language("") == "en");

  const auto control = eval::load_control_passages(fs::path(HUASHAN_SOURCE_DIR) / "benchmarks" / "control");
  CHECK(control.zh.size() >= 3);
  CHECK(control.en.size() >= 3);
  for (const auto& p : control.zh) CHECK(eval::text_language(p) == "zh");
  for (const auto& p : control.en) CHECK(eval::text_language(p) == "en");
}

TEST_CASE("a missing control folder fails before the model is asked anything") {
  toy_suite suite("cont-missing");
  auto opts = suite.options();
  opts.contamination = true;
  opts.control_dir = suite.dir / "nowhere";
  scripted_backend model;
  CHECK_THROWS_WITH_AS(eval::run_eval(model, suite.suites(), opts), doctest::Contains("nowhere"), huashan::input_error);
  CHECK(model.requests == 0);
}

TEST_CASE("contamination records merge exactly and survive JSON") {
  eval::contamination_record a, b;
  a.test.add(-12.3456789012345, 7);
  a.test.add(-0.1, 1);
  a.fewshot.add(-33.333333333, 11);
  a.control.add(-101.01, 40);
  a.control_language = "zh";
  b.test.add(-9.87654321, 5);
  const auto m = eval::merge(a, b);
  CHECK(m.test.documents == 3);
  CHECK(m.test.tokens == 13);
  CHECK(m.test.logprob_units == a.test.logprob_units + b.test.logprob_units);
  CHECK(m.fewshot == a.fewshot);
  CHECK(m.control_language == "zh");
  CHECK(eval::merge(b, a) == m);
  CHECK(eval::merge(eval::merge(a, b), a) == eval::merge(a, eval::merge(b, a)));

  const auto text = boost::json::serialize(eval::to_json(m));
  CHECK(eval::contamination_from_json(boost::json::parse(text)) == m);

  auto broken = eval::to_json(m);
  broken.at("fewshot").as_object().erase("tokens");
  CHECK_THROWS_WITH_AS(eval::contamination_from_json(broken), doctest::Contains("fewshot.tokens"), huashan::input_error);
}
