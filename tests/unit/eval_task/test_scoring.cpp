// Answers to metrics and metrics to a task's and a group's numbers, on
// hand-made answers whose lm-evaluation-harness results are worked out by
// hand in each case.
#include <doctest/doctest.h>

#include <cmath>
#include <numbers>

#include "harness/eval/filters.hpp"
#include "harness/eval/task.hpp"
#include "test_helpers.hpp"

using namespace huashan::harness;
using namespace huashan::harness::eval;
using eval_task_test::doc;

namespace {

std::vector<response> lls(std::initializer_list<double> values, std::size_t greedy = 99) {
  std::vector<response> out;
  std::size_t i = 0;
  for (double v : values) out.emplace_back(loglikelihood_result{v, i++ == greedy, 1});
  return out;
}

task_config choice_task() {
  task_config task;
  task.task = "lengths";
  task.doc_to_text = "{{q}}";
  task.doc_to_choice = "choices";
  task.doc_to_target = "gold";
  task.filters = {{"none", {}}};
  task.metrics = {{.metric = "acc"}, {.metric = "acc_norm"}, {.metric = "exact_match"}};
  return task;
}

}  // namespace

TEST_CASE("multiple choice: acc takes the raw argmax, acc_norm divides by the choice's length in characters") {
  const auto task = choice_task();
  // "a much longer answer text" has 25 characters: -5/25 = -0.2 beats -2/1.
  const auto prepared =
      prepare_task(task, {doc(R"({"q": "?", "choices": ["A", "a much longer answer text"], "gold": 1})")}, {}, {});
  const auto scores = score_doc(task, prepared.docs.at(0), lls({-2.0, -5.0}, 1));
  CHECK(scores.values.at("none").at("acc") == 0.0);
  CHECK(scores.values.at("none").at("acc_norm") == 1.0);
  CHECK(scores.values.at("none").at("exact_match") == 1.0);

  // Ties go to the first choice (numpy.argmax).
  const auto tied = score_doc(task, prepared.docs.at(0), lls({-3.0, -3.0}));
  CHECK(tied.values.at("none").at("acc") == 0.0);
  // The gold named by its text, and several golds.
  const auto by_text =
      prepare_task(task, {doc(R"({"q": "?", "choices": ["x", "y", "z"], "gold": ["z", 0]})")}, {}, {});
  const auto multi = score_doc(task, by_text.docs.at(0), lls({-1.0, -0.5, -0.1}));
  CHECK(multi.values.at("none").at("acc") == 1.0);
  CHECK(multi.values.at("none").at("exact_match") == 0.0);
}

TEST_CASE("generate_until: gsm8k-style strict and flexible regex filters, exact_match with regexes_to_ignore") {
  task_config task;
  task.task = "gsm";
  task.output = output_type::generate_until;
  task.doc_to_text = "Question: {{question}}\nAnswer:";
  task.doc_to_target = "answer";
  task.filters = {
      {"strict-match", {{.function = "regex", .regex_pattern = R"(#### (\-?[0-9\.\,]+))"}, {.function = "take_first"}}},
      {"flexible-extract",
       {{.function = "regex", .regex_pattern = R"((-?[$0-9.,]{2,})|(-?[0-9]+))", .group_select = -1},
        {.function = "take_first"}}},
  };
  task.metrics = {{.metric = "exact_match",
                   .ignore_case = true,
                   .ignore_punctuation = false,
                   .regexes_to_ignore = {",", R"(\$)", "(?s).*#### ", R"(\.$)"}}};
  const auto prepared = prepare_task(task, {doc(R"({"question": "q", "answer": "15"})")}, {}, {});

  // re.findall gives [('', '7'), ('15.', '')]: the last match's non-empty group is "15.".
  auto scores = score_doc(task, prepared.docs.at(0), {std::string("I think 7 and then 15.")});
  CHECK(scores.filtered_resps.at("strict-match") == std::vector<std::string>{"[invalid]"});
  CHECK(scores.filtered_resps.at("flexible-extract") == std::vector<std::string>{"15."});
  CHECK(scores.values.at("strict-match").at("exact_match") == 0.0);
  CHECK(scores.values.at("flexible-extract").at("exact_match") == 1.0);

  scores = score_doc(task, prepared.docs.at(0), {std::string("so 1,000 minus #### 15")});
  CHECK(scores.filtered_resps.at("strict-match") == std::vector<std::string>{"15"});
  CHECK(scores.values.at("strict-match").at("exact_match") == 1.0);
  CHECK(scores.filtered_resps.at("flexible-extract") == std::vector<std::string>{"15"});
}

TEST_CASE("filters: majority vote keeps the most common (first on ties), fallback, case and strip") {
  const filter_pipeline vote{"maj", {{.function = "lowercase"}, {.function = "majority_vote"}}};
  CHECK(apply_filter_pipeline(vote, {"B", "a", "b", "A", "c"}, "t") == std::vector<std::string>{"b"});
  const filter_pipeline tie{"maj", {{.function = "majority_vote"}}};
  CHECK(apply_filter_pipeline(tie, {"x", "y", "y", "x"}, "t") == std::vector<std::string>{"x"});
  const filter_pipeline none{"none", {}};
  CHECK(apply_filter_pipeline(none, {"first", "second"}, "t") == std::vector<std::string>{"first"});
  const filter_pipeline extract{
      "answer", {{.function = "regex", .regex_pattern = R"(answer is \(?([A-D])\)?)", .fallback = "?"},
                 {.function = "uppercase"},
                 {.function = "strip"}}};
  CHECK(apply_filter_pipeline(extract, {"The answer is (c).", "no idea"}, "t") ==
        std::vector<std::string>{"?", "?"});
  CHECK(apply_filter_pipeline(extract, {"the answer is B"}, "t") == std::vector<std::string>{"B"});
  const filter_pipeline unknown{"odd", {{.function = "reverse"}}};
  CHECK_THROWS_WITH_AS(apply_filter_pipeline(unknown, {"x"}, "task 't', document 3"),
                       doctest::Contains("task 't', document 3, filter 'odd' step 0 (reverse): unknown filter"),
                       huashan::input_error);
}

TEST_CASE("exact_match: ignore_case and ignore_punctuation; any of several targets") {
  task_config task;
  task.task = "cities";
  task.output = output_type::generate_until;
  task.doc_to_text = "{{q}}";
  task.doc_to_target = "answers";
  task.filters = {{"none", {}}};
  task.metrics = {{.metric = "exact_match", .ignore_case = true, .ignore_punctuation = true}};
  const auto prepared = prepare_task(task, {doc(R"({"q": "?", "answers": ["Rome", "Paris"]})")}, {}, {});
  CHECK(score_doc(task, prepared.docs.at(0), {std::string("PARIS!")}).values.at("none").at("exact_match") == 1.0);
  CHECK(score_doc(task, prepared.docs.at(0), {std::string("Oslo")}).values.at("none").at("exact_match") == 0.0);
  task.metrics = {{.metric = "exact_match"}};
  CHECK(score_doc(task, prepared.docs.at(0), {std::string("PARIS!")}).values.at("none").at("exact_match") == 0.0);
}

TEST_CASE("loglikelihood and rolling: perplexity items, is_greedy, words and bytes of the target") {
  task_config task;
  task.task = "ll";
  task.output = output_type::loglikelihood;
  task.doc_to_text = "{{c}}";
  task.doc_to_target = "t";
  task.filters = {{"none", {}}};
  task.metrics = {{.metric = "perplexity"}, {.metric = "acc"}};
  auto prepared = prepare_task(task, {doc(R"({"c": "x", "t": " y"})")}, {}, {});
  auto scores = score_doc(task, prepared.docs.at(0), {loglikelihood_result{-1.25, true, 1}});
  CHECK(scores.values.at("none").at("perplexity") == -1.25);
  CHECK(scores.values.at("none").at("acc") == 1.0);

  task.output = output_type::loglikelihood_rolling;
  task.metrics = {{.metric = "word_perplexity"}, {.metric = "byte_perplexity"}, {.metric = "bits_per_byte"}};
  prepared = prepare_task(task, {doc(R"({"c": "", "t": "deux  mots é"})")}, {}, {});
  scores = score_doc(task, prepared.docs.at(0), {rolling_result{-20.0, 5}});
  CHECK(scores.weighted.at("none").at("word_perplexity") == std::pair<double, double>{-20.0, 3.0});
  CHECK(scores.weighted.at("none").at("byte_perplexity") == std::pair<double, double>{-20.0, 13.0});
  CHECK(scores.weighted.at("none").at("bits_per_byte") == std::pair<double, double>{-20.0, 13.0});
}

TEST_CASE("aggregate: mean with stderr = sample std / sqrt(n); N/A under two documents") {
  task_config task;
  task.task = "agg";
  task.filters = {{"none", {}}};
  task.metrics = {{.metric = "acc"}};
  std::vector<doc_scores> docs(4);
  const double values[] = {1, 0, 1, 1};
  for (std::size_t i = 0; i < 4; ++i) docs[i].values["none"]["acc"] = values[i];
  auto summary = aggregate(task, docs, 0, 1).at(0);
  CHECK(summary.metric == "acc");
  CHECK(summary.filter == "none");
  CHECK(summary.n == 4);
  CHECK(summary.value == doctest::Approx(0.75));
  // deviations 0.25, -0.75, 0.25, 0.25: variance 0.75 / 3 = 0.25, std 0.5, stderr 0.5 / 2
  REQUIRE(summary.stderr_value);
  CHECK(*summary.stderr_value == doctest::Approx(0.25));
  docs.resize(1);
  CHECK(!aggregate(task, docs, 0, 1).at(0).stderr_value);
}

TEST_CASE("aggregate: perplexities and bits per byte, bootstrap stderr repeatable for a seed") {
  task_config task;
  task.task = "ppl";
  task.filters = {{"none", {}}};
  task.metrics = {{.metric = "perplexity", .higher_is_better = false}};
  std::vector<doc_scores> docs(3);
  const double lls_[] = {-1.0, -2.0, -3.0};
  for (std::size_t i = 0; i < 3; ++i) docs[i].values["none"]["perplexity"] = lls_[i];
  const auto a = aggregate(task, docs, 200, 42).at(0);
  CHECK(a.value == doctest::Approx(std::exp(2.0)));
  CHECK(!a.higher_is_better);
  REQUIRE(a.stderr_value);
  CHECK(*a.stderr_value > 0.0);
  const auto b = aggregate(task, docs, 200, 42).at(0);
  CHECK(*b.stderr_value == *a.stderr_value);
  const auto c = aggregate(task, docs, 200, 43).at(0);
  CHECK(*c.stderr_value != *a.stderr_value);
  CHECK(!aggregate(task, docs, 0, 42).at(0).stderr_value);

  task.metrics = {{.metric = "word_perplexity"}, {.metric = "bits_per_byte"}};
  std::vector<doc_scores> rolled(2);
  rolled[0].weighted["none"]["word_perplexity"] = {-10.0, 5.0};
  rolled[1].weighted["none"]["word_perplexity"] = {-6.0, 3.0};
  rolled[0].weighted["none"]["bits_per_byte"] = {-10.0, 20.0};
  rolled[1].weighted["none"]["bits_per_byte"] = {-6.0, 12.0};
  const auto summaries = aggregate(task, rolled, 100, 1);
  CHECK(summaries.at(0).value == doctest::Approx(std::exp(16.0 / 8.0)));
  CHECK(summaries.at(1).value == doctest::Approx(0.5 / std::numbers::ln2));
  CHECK(summaries.at(1).stderr_value);
}

TEST_CASE("aggregate_group: size-weighted or plain mean; pooled stderr by hand") {
  const std::vector<metric_summary> members = {
      {.metric = "acc", .filter = "none", .value = 0.5, .stderr_value = 0.1, .n = 100},
      {.metric = "acc", .filter = "none", .value = 0.8, .stderr_value = 0.05, .n = 300},
      {.metric = "acc_norm", .filter = "none", .value = 0.9, .stderr_value = 0.01, .n = 50},
  };
  group_metric spec{.metric = "acc"};
  auto g = aggregate_group(spec, members);
  CHECK(g.value == doctest::Approx((0.5 * 100 + 0.8 * 300) / 400.0));
  CHECK(g.n == 400);
  REQUIRE(g.stderr_value);
  // (Σ (n_i - 1) se_i² n_i / (N - k)) / N, square root
  const double pooled = (99 * 0.01 * 100 + 299 * 0.0025 * 300) / (400.0 - 2.0);
  CHECK(*g.stderr_value == doctest::Approx(std::sqrt(pooled / 400.0)));
  spec.weight_by_size = false;
  CHECK(aggregate_group(spec, members).value == doctest::Approx(0.65));
  auto without = members;
  without[1].stderr_value.reset();
  CHECK(!aggregate_group(spec, without).stderr_value);
  CHECK_THROWS_AS(aggregate_group(group_metric{.metric = "f1"}, members), huashan::input_error);
}
