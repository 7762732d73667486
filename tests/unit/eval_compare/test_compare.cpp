#include <doctest/doctest.h>

#include <boost/json.hpp>

#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/xoshiro256.hpp"
#include "harness/eval/compare.hpp"

namespace json = boost::json;
using namespace huashan::harness::eval;

namespace {

json::object prompts(const std::string& sha, int shots = 0, double version = 1.0) {
  return json::object{{"output_type", "multiple_choice"}, {"version", version}, {"num_fewshot", shots}, {"prompts_sha256", sha}};
}

json::object sample(std::int64_t doc_id, const std::string& metric, double value, const std::string& filter = "none") {
  return json::object{{"doc_id", doc_id}, {"filter", filter}, {"metrics", json::array{json::value(metric)}},
                      {"doc_hash", "doc" + std::to_string(doc_id)}, {metric, value}};
}

// A run of one task with the given per-document values of `metric`.
run_for_comparison one_task_run(const std::string& task, const std::string& metric, const std::vector<double>& values,
                                const std::string& model, json::object task_prompts_entry = prompts("same")) {
  run_for_comparison run;
  run.results["model_name"] = model;
  run.results["model_fingerprint"] = json::object{{"kind", "gguf"}, {"sha256", model}};
  run.results["task_prompts"] = json::object{{task, std::move(task_prompts_entry)}};
  auto& lines = run.samples[task];
  for (std::size_t i = 0; i < values.size(); ++i) lines.push_back(sample(static_cast<std::int64_t>(i), metric, values[i]));
  return run;
}

std::string refusal(const run_for_comparison& a, const run_for_comparison& b) {
  try {
    compare_runs(a, b);
  } catch (const huashan::input_error& e) {
    return e.what();
  }
  return "(no refusal)";
}

double logistic(double x) { return 1.0 / (1.0 + std::exp(-x)); }

double standard_normal(huashan::xoshiro256pp& rng) {
  const double u1 = 1.0 - rng.uniform();  // (0, 1]: log is finite
  const double u2 = rng.uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

}  // namespace

TEST_CASE("the paired 95% interval covers the true difference 95% of the time (1,000 simulated pairs of runs)") {
  // 400 items with a shared difficulty (so the two models' answers are
  // correlated) and an item-specific disagreement; the truth is the mean of
  // the per-item differences of correctness probabilities.
  constexpr int items = 400;
  constexpr int runs = 1000;
  huashan::xoshiro256pp rng(20240611);
  std::vector<double> p_a(items), p_b(items);
  double truth = 0.0;
  for (int i = 0; i < items; ++i) {
    const double difficulty = standard_normal(rng);
    p_a[i] = logistic(0.9 + 2.0 * difficulty);
    p_b[i] = logistic(0.5 + 2.0 * difficulty + 0.5 * standard_normal(rng));
    truth += (p_a[i] - p_b[i]) / items;
  }

  int covered = 0, covered_unpaired = 0, covered_one_z = 0, mcnemar_tests = 0;
  std::vector<double> a(items), b(items);
  for (int r = 0; r < runs; ++r) {
    for (int i = 0; i < items; ++i) {
      a[i] = rng.uniform() < p_a[i] ? 1.0 : 0.0;
      b[i] = rng.uniform() < p_b[i] ? 1.0 : 0.0;
    }
    const auto result = compare_runs(one_task_run("sim", "acc", a, "model-a"), one_task_run("sim", "acc", b, "model-b"));
    REQUIRE(result.tasks.size() == 1);
    const auto& d = result.tasks[0];
    REQUIRE(d.n == items);
    REQUIRE(d.ci_low.has_value());
    mcnemar_tests += d.test == paired_test::mcnemar;
    covered += *d.ci_low <= truth && truth <= *d.ci_high;

    // Two wrong intervals from the same draws, to show the band tells them apart.
    double var_a = 0.0, var_b = 0.0;
    for (int i = 0; i < items; ++i) {
      var_a += (a[i] - d.mean_a) * (a[i] - d.mean_a) / (items - 1);
      var_b += (b[i] - d.mean_b) * (b[i] - d.mean_b) / (items - 1);
    }
    const double unpaired_half = 1.96 * std::sqrt(var_a / items + var_b / items);
    covered_unpaired += std::abs(d.difference - truth) <= unpaired_half;
    covered_one_z += std::abs(d.difference - truth) <= 1.0 * *d.standard_error;
  }
  const double coverage = covered / static_cast<double>(runs);
  MESSAGE("coverage ", coverage, ", unpaired ", covered_unpaired / double(runs), ", z=1 ", covered_one_z / double(runs),
          ", truth ", truth);
  CHECK(mcnemar_tests == runs);
  CHECK(coverage >= 0.93);
  CHECK(coverage <= 0.97);
  // An unpaired standard error ignores the shared difficulty: too wide.
  CHECK(covered_unpaired / static_cast<double>(runs) > 0.97);
  // A 1.0 z instead of t(0.975): too narrow.
  CHECK(covered_one_z / static_cast<double>(runs) < 0.93);
}

TEST_CASE("exact McNemar on a hand-computed case") {
  // 20 documents: 8 only A right, 2 only B right, 6 both, 4 neither.
  std::vector<double> a, b;
  for (int i = 0; i < 8; ++i) a.push_back(1), b.push_back(0);
  for (int i = 0; i < 2; ++i) a.push_back(0), b.push_back(1);
  for (int i = 0; i < 6; ++i) a.push_back(1), b.push_back(1);
  for (int i = 0; i < 4; ++i) a.push_back(0), b.push_back(0);
  const auto result = compare_runs(one_task_run("t", "acc", a, "A"), one_task_run("t", "acc", b, "B"));
  REQUIRE(result.tasks.size() == 1);
  const auto& d = result.tasks[0];
  CHECK(d.test == paired_test::mcnemar);
  CHECK(d.n == 20);
  CHECK(d.mean_a == doctest::Approx(0.7));
  CHECK(d.mean_b == doctest::Approx(0.4));
  CHECK(d.difference == doctest::Approx(0.3));
  CHECK(d.only_a == 8);
  CHECK(d.only_b == 2);
  // 2 * P(X <= 2), X ~ Binomial(10, 1/2) = 2 * (1 + 10 + 45) / 1024.
  CHECK(*d.p_value == doctest::Approx(112.0 / 1024.0).epsilon(1e-12));
  // sd of the differences (8 of +1, 2 of -1, 10 of 0) / sqrt(20); t(0.975, 19) = 2.093024.
  CHECK(*d.standard_error == doctest::Approx(0.1468977445995038).epsilon(1e-12));
  CHECK(*d.ci_low == doctest::Approx(0.3 - 2.093024 * 0.1468977445995038).epsilon(1e-6));
  CHECK(*d.ci_high == doctest::Approx(0.3 + 2.093024 * 0.1468977445995038).epsilon(1e-6));
  CHECK(mcnemar_exact_p(0, 0) == 1.0);
  CHECK(mcnemar_exact_p(5, 5) == 1.0);
  CHECK(mcnemar_exact_p(0, 6) == doctest::Approx(2.0 / 64.0));
  CHECK(mcnemar_exact_p(7, 8) == 1.0);  // a tail of exactly one half
  CHECK(mcnemar_exact_p(600, 500) == doctest::Approx(0.0028195449914364275).epsilon(1e-9));  // the logarithm path

  const auto o = comparison_json(result, one_task_run("t", "acc", a, "A"), one_task_run("t", "acc", b, "B"));
  const auto& row = o.at("tasks").as_array().at(0).as_object();
  CHECK(row.at("test").as_string() == "mcnemar");
  CHECK(row.at("task").as_string() == "t");
  CHECK(row.at("n").as_int64() == 20);
  CHECK(row.at("ci95").as_array().size() == 2);
  CHECK(o.at("model_a").as_string() == "A");
}

TEST_CASE("paired t-test on a hand-computed case") {
  const auto result = compare_runs(one_task_run("t", "f1", {0.5, 0.7, 0.2, 0.9}, "A"), one_task_run("t", "f1", {0.3, 0.4, 0.4, 0.5}, "B"));
  REQUIRE(result.tasks.size() == 1);
  const auto& d = result.tasks[0];
  CHECK(d.test == paired_test::paired_t);
  CHECK(d.difference == doctest::Approx(0.175));
  // Differences 0.2, 0.3, -0.2, 0.4: sd = sqrt(0.2075 / 3), se = sd / 2.
  CHECK(*d.standard_error == doctest::Approx(0.13149778198382917).epsilon(1e-12));
  // t = 1.33082 on 3 degrees of freedom, whose two-sided p has a closed form:
  // 1 - (2/pi) (theta + sin theta cos theta), theta = atan(t / sqrt 3).
  CHECK(*d.p_value == doctest::Approx(0.2753541845391164).epsilon(1e-9));
  // t(0.975, 3) = 3.182446.
  CHECK(*d.ci_high - d.difference == doctest::Approx(3.182446 * 0.13149778198382917).epsilon(1e-6));
  CHECK(student_t_quantile(0.975, 1) == doctest::Approx(12.706205).epsilon(1e-6));
  CHECK(student_t_quantile(0.975, 1e6) == doctest::Approx(1.959966).epsilon(1e-5));
  CHECK(student_t_two_sided_p(0.0, 10) == doctest::Approx(1.0));
}

TEST_CASE("a group pools its member tasks' documents") {
  auto run = [](const std::string& model, const std::vector<double>& x, const std::vector<double>& y) {
    run_for_comparison r;
    r.results["model_name"] = model;
    r.results["task_prompts"] = json::object{{"x", prompts("hx")}, {"y", prompts("hy")}};
    r.results["groups"] = json::object{{"g", json::object{{"acc,none", 0.5}}}};
    r.results["group_subtasks"] = json::object{{"g", json::array{"x", "y"}}, {"x", json::array{}}, {"y", json::array{}}};
    for (std::size_t i = 0; i < x.size(); ++i) r.samples["x"].push_back(sample(static_cast<std::int64_t>(i), "acc", x[i]));
    for (std::size_t i = 0; i < y.size(); ++i) r.samples["y"].push_back(sample(static_cast<std::int64_t>(i), "acc", y[i]));
    return r;
  };
  const auto result = compare_runs(run("A", {1, 1, 0}, {1}), run("B", {0, 1, 0}, {0}));
  REQUIRE(result.tasks.size() == 2);
  REQUIRE(result.groups.size() == 1);
  const auto& g = result.groups[0];
  CHECK(g.name == "g");
  CHECK(g.n == 4);
  CHECK(g.mean_a == doctest::Approx(0.75));
  CHECK(g.mean_b == doctest::Approx(0.25));
  CHECK(g.only_a == 2);
  CHECK(g.tasks == std::vector<std::string>{"x", "y"});
}

TEST_CASE("refusals name the task and the reason") {
  const std::vector<double> v = {1, 0, 1};
  CHECK(refusal(one_task_run("arc", "acc", v, "A", prompts("ab12ab12ab12ab12", 5)),
                one_task_run("arc", "acc", v, "B", prompts("cd34cd34cd34cd34", 0))) ==
        "task 'arc': runs are not comparable: prompts differ: num_fewshot 5 vs 0");
  CHECK(refusal(one_task_run("arc", "acc", v, "A", prompts("ab12", 0, 1.0)), one_task_run("arc", "acc", v, "B", prompts("cd34", 0, 2.0))) ==
        "task 'arc': runs are not comparable: suite version 1.0 vs 2.0");
  CHECK(refusal(one_task_run("arc", "acc", v, "A", prompts("ab12ab12ab12ab12")), one_task_run("arc", "acc", v, "B", prompts("cd34cd34cd34cd34"))) ==
        "task 'arc': runs are not comparable: different prompts (sha256 ab12ab12ab12.. vs cd34cd34cd34..)");
  CHECK(refusal(one_task_run("arc", "acc", v, "A"), one_task_run("arc", "acc", {1, 0}, "B")) ==
        "task 'arc': runs are not comparable: different documents (run A has 3, run B has 2; doc_id 2 is only in A)");
  CHECK(refusal(one_task_run("arc", "acc", v, "A"), one_task_run("hellaswag", "acc", v, "B")) ==
        "the runs have no task in common (task_prompts keys)");
  // Before any samples are read (a caller checks this first).
  CHECK_THROWS_WITH_AS(check_comparable_prompts(one_task_run("arc", "acc", v, "A", prompts("ab12", 5)).results,
                                                one_task_run("arc", "acc", v, "B", prompts("cd34", 0)).results),
                       "task 'arc': runs are not comparable: prompts differ: num_fewshot 5 vs 0", huashan::input_error);
  auto no_samples = one_task_run("arc", "acc", v, "B");
  no_samples.samples.clear();
  CHECK(refusal(one_task_run("arc", "acc", v, "A"), no_samples) == "run B: no samples for task 'arc' (samples_arc.jsonl)");
  auto other_doc = one_task_run("arc", "acc", v, "B");
  other_doc.samples["arc"][1]["doc_hash"] = "something else";
  CHECK(refusal(one_task_run("arc", "acc", v, "A"), other_doc).find("task 'arc': runs are not comparable: doc_id 1 is a different document") == 0);
}

TEST_CASE("the same model on both sides is allowed and noted") {
  const auto result = compare_runs(one_task_run("arc", "acc", {1, 0, 1}, "A"), one_task_run("arc", "acc", {1, 1, 1}, "A"));
  CHECK(result.same_model);
  REQUIRE(result.notes.size() == 1);
  CHECK(result.notes[0].find("same model fingerprint") != std::string::npos);
  CHECK_FALSE(compare_runs(one_task_run("arc", "acc", {1, 0, 1}, "A"), one_task_run("arc", "acc", {1, 1, 1}, "B")).same_model);
}
