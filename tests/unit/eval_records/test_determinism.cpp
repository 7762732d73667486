// The determinism record: a backend whose answers depend on the batch is
// caught (log-likelihood drift and flipped predictions), a deterministic one
// records zeros; the sample is cheap and the same for every shard; records
// merge exactly and survive JSON.
#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <numeric>

#include "common/error.hpp"
#include "harness/eval/determinism.hpp"
#include "harness/eval/doc_sample.hpp"
#include "harness/eval/results.hpp"
#include "scripted_backend.hpp"

using namespace records_test;

TEST_CASE("a deterministic backend records zeros over the sampled documents") {
  toy_suite suite("det-zero");
  scripted_backend model;
  const auto out = eval::run_eval(model, suite.suites(), suite.options());
  REQUIRE(out.determinism);
  const auto& d = *out.determinism;
  CHECK(d.documents == 8);  // 12 documents, one task: 8 of them
  CHECK(d.requests == 24);  // three choices each
  CHECK(d.batch_size == 4);
  CHECK(d.max_abs_logprob_diff == 0.0);
  CHECK(d.predictions_changed == 0);
  CHECK_FALSE(d.prediction_changed);
  // The run's 36 requests, then the sample's twice.
  CHECK(model.requests == 36 + 2 * 24);
  CHECK(out.stats.computed == 36);
}

TEST_CASE("answers that depend on the batch size are caught, a flipped choice as a changed prediction") {
  toy_suite suite("det-batch");
  SUBCASE("drift without a flip") {
    scripted_backend model;
    model.score = [](const harness::loglikelihood_request& r, std::size_t batch) {
      const double drift = 1e-3 * static_cast<double>(batch - 1);
      return harness::loglikelihood_result{-static_cast<double>(r.continuation.size()) + drift, false, 1};
    };
    const auto out = eval::run_eval(model, suite.suites(), suite.options());
    REQUIRE(out.determinism);
    CHECK(out.determinism->max_abs_logprob_diff == doctest::Approx(3e-3));
    CHECK(out.determinism->predictions_changed == 0);
    CHECK_FALSE(out.determinism->prediction_changed);
  }
  SUBCASE("the longest choice wins only in batches") {
    scripted_backend model;
    model.score = [](const harness::loglikelihood_request& r, std::size_t batch) {
      double lp = -static_cast<double>(r.continuation.size());
      if (batch > 1 && r.continuation == " ccc") lp += 5.0;
      return harness::loglikelihood_result{lp, false, 1};
    };
    const auto out = eval::run_eval(model, suite.suites(), suite.options());
    REQUIRE(out.determinism);
    CHECK(out.determinism->max_abs_logprob_diff == doctest::Approx(5.0));
    CHECK(out.determinism->predictions_changed == 8);
    CHECK(out.determinism->prediction_changed);
  }
  SUBCASE("is_greedy that depends on the batch is a changed prediction of a loglikelihood task") {
    scripted_backend model;
    model.score = [](const harness::loglikelihood_request&, std::size_t batch) {
      return harness::loglikelihood_result{-1.0, batch == 1, 1};
    };
    eval::prepared_doc doc;
    doc.requests.push_back({harness::loglikelihood_request{"ctx", " x"}});
    eval::prepared_doc other = doc;
    const auto rec = eval::measure_determinism(model, {{eval::output_type::loglikelihood, &doc}, {eval::output_type::loglikelihood, &other}}, 2);
    CHECK(rec.max_abs_logprob_diff == 0.0);
    CHECK(rec.predictions_changed == 2);
    CHECK(rec.prediction_changed);
  }
}

TEST_CASE("generated text that depends on the batch is a changed prediction") {
  scripted_backend model;
  std::vector<eval::prepared_doc> docs(3);
  for (std::size_t i = 0; i < docs.size(); ++i) {
    harness::generate_until_request g;
    g.context = "Question " + std::to_string(i);
    docs[i].requests.push_back({g});
  }
  std::vector<eval::determinism_case> cases;
  for (const auto& d : docs) cases.push_back({eval::output_type::generate_until, &d});
  const auto rec = eval::measure_determinism(model, cases, 2);
  CHECK(rec.documents == 3);
  CHECK(rec.requests == 3);
  // In batches of 2 the third request is asked alone, as at batch 1: only
  // the first two answers differ.
  CHECK(rec.predictions_changed == 2);
  CHECK(rec.prediction_changed);
}

TEST_CASE("the check never reads the cache: a rerun answers the run from the cache and the sample fresh") {
  toy_suite suite("det-cache");
  auto opts = suite.options();
  opts.cache_dir = suite.dir / "cache";
  scripted_backend first;
  (void)eval::run_eval(first, suite.suites(), opts);
  scripted_backend second;
  const auto again = eval::run_eval(second, suite.suites(), opts);
  CHECK(again.stats.computed == 0);
  CHECK(second.requests == 2 * 24);
  REQUIRE(again.determinism);
  CHECK(again.determinism->requests == 24);
}

TEST_CASE("switched off: no extra requests and no record in results.json") {
  toy_suite suite("det-off");
  auto opts = suite.options();
  opts.determinism_check = false;
  scripted_backend model;
  const auto out = eval::run_eval(model, suite.suites(), opts);
  CHECK_FALSE(out.determinism);
  CHECK(model.requests == 36);
  eval::run_settings settings;
  CHECK_FALSE(eval::results_json(out, settings).contains("determinism"));

  scripted_backend on_model;
  const auto on = eval::run_eval(on_model, suite.suites(), suite.options());
  const auto j = eval::results_json(on, settings);
  REQUIRE(j.contains("determinism"));
  CHECK(eval::determinism_from_json(j.at("determinism")) == *on.determinism);
}

TEST_CASE("no sampled documents: a record of zeros") {
  scripted_backend model;
  const auto rec = eval::measure_determinism(model, {}, 16);
  CHECK(rec == eval::determinism_record{0, 0, 16, 0.0, 0, false});
  CHECK(model.requests == 0);
  const auto j = eval::to_json(rec);
  CHECK(j.at("documents").as_int64() == 0);
  CHECK(j.at("prediction_changed").as_bool() == false);
}

TEST_CASE("the sample: spread over each task, few in all, the same whatever the shard") {
  const auto one = eval::determinism_positions({12}, {"a"}, 7);
  CHECK(one[0].size() == 8);
  CHECK(std::is_sorted(one[0].begin(), one[0].end()));
  CHECK(std::adjacent_find(one[0].begin(), one[0].end()) == one[0].end());
  CHECK(eval::determinism_positions({12}, {"a"}, 7) == one);

  const auto small = eval::determinism_positions({3, 100}, {"a", "b"}, 7);
  CHECK(small[0] == std::vector<std::int64_t>{0, 1, 2});
  CHECK(small[1].size() == 8);

  // MMLU-sized: 57 tasks, 16 documents in all, at most one per task.
  std::vector<std::int64_t> sizes(57, 100);
  std::vector<std::string> names;
  for (int i = 0; i < 57; ++i) names.push_back("t" + std::to_string(i));
  const auto many = eval::determinism_positions(sizes, names, 7);
  std::size_t total = 0;
  for (const auto& p : many) {
    CHECK(p.size() <= 1);
    total += p.size();
  }
  CHECK(total == 16);

  // One position from each stratum of the task.
  const auto s = eval::spread_sample(1000, 10, 99);
  REQUIRE(s.size() == 10);
  for (std::size_t i = 0; i < s.size(); ++i) {
    CHECK(s[i] >= static_cast<std::int64_t>(i) * 100);
    CHECK(s[i] < static_cast<std::int64_t>(i + 1) * 100);
  }
  CHECK(eval::spread_sample(1000, 10, 100) != s);
}

TEST_CASE("determinism records merge exactly and survive JSON") {
  const eval::determinism_record a{8, 24, 16, 0.125, 1, true};
  const eval::determinism_record b{3, 9, 16, 0.0009765625, 0, false};
  const auto m = eval::merge(a, b);
  CHECK(m == eval::determinism_record{11, 33, 16, 0.125, 1, true});
  CHECK(eval::merge(b, a) == m);
  CHECK(eval::merge(b, eval::determinism_record{}) == eval::determinism_record{3, 9, 16, 0.0009765625, 0, false});

  const eval::determinism_record odd{5, 17, 64, 0.1234567890123456789, 2, true};
  const auto text = boost::json::serialize(eval::to_json(odd));
  CHECK(eval::determinism_from_json(boost::json::parse(text)) == odd);

  auto broken = eval::to_json(odd);
  broken.erase("requests");
  CHECK_THROWS_WITH_AS(eval::determinism_from_json(broken), doctest::Contains("requests"), huashan::input_error);
  broken = eval::to_json(odd);
  broken["prediction_changed"] = 1;
  CHECK_THROWS_WITH_AS(eval::determinism_from_json(broken), doctest::Contains("prediction_changed"), huashan::input_error);
}
