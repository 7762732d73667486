// The acceptance criterion of CircularEval: a model that always answers the
// first label passes every plain question whose gold is A and none
// circularly; a model that knows the answer's text passes both.
#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "harness/eval/circular.hpp"
#include "harness/eval/task.hpp"

namespace eval = huashan::harness::eval;
namespace harness = huashan::harness;
namespace json = boost::json;

namespace {

// C-Eval's shape: options in fields A..D, the gold a letter, which is A in every document.
std::vector<eval::document> gold_a_docs() {
  std::vector<eval::document> docs;
  for (const char* q : {"first", "second", "third"}) {
    docs.push_back(json::object{{"question", q}, {"A", std::string("right ") + q}, {"B", "wrong one"},
                                {"C", "wrong two"}, {"D", "wrong three"}, {"answer", "A"}});
  }
  return docs;
}

eval::task_config letter_task() {
  eval::task_config task;
  task.task = "letters";
  task.file = "suites/letters.yaml";
  task.test_split = "test";
  task.doc_to_text = "{{question}}\nA. {{A}}\nB. {{B}}\nC. {{C}}\nD. {{D}}\nAnswer:";
  task.doc_to_choice = R"(["A", "B", "C", "D"])";
  task.doc_to_target = "{{['A', 'B', 'C', 'D'].index(answer)}}";
  task.filters = {{"none", {}}};
  task.metrics = {{.metric = "acc"}, {.metric = "acc_norm"}};
  task.circular = eval::circular_config{.choice_fields = {"A", "B", "C", "D"}, .answer_field = "answer"};
  return task;
}

using scorer = std::function<double(const harness::loglikelihood_request&)>;

// Prefers the continuation " A" whatever the options say.
double label_a(const harness::loglikelihood_request& r) { return r.continuation == " A" ? -1.0 : -3.0; }

// Finds the option the continuation's label shows in the context and
// prefers it when its text is the right one.
double knows_answers(const harness::loglikelihood_request& r) {
  const std::string line = "\n" + r.continuation.substr(1) + ". right";
  return r.context.find(line) != std::string::npos ? -1.0 : -3.0;
}

std::vector<eval::doc_scores> answer(const eval::task_config& task, const eval::prepared_task& prepared,
                                     const scorer& model) {
  std::vector<eval::doc_scores> out;
  for (const auto& doc : prepared.docs) {
    std::vector<eval::response> responses;
    for (const auto& r : doc.requests) {
      const auto& ll = std::get<harness::loglikelihood_request>(r.args);
      responses.emplace_back(harness::loglikelihood_result{model(ll), false, 1});
    }
    out.push_back(eval::score_doc(task, doc, std::move(responses)));
  }
  return out;
}

double metric(const std::vector<eval::metric_summary>& summaries, const std::string& name) {
  for (const auto& s : summaries)
    if (s.metric == name) return s.value;
  FAIL("no metric " << name);
  return -1.0;
}

std::vector<eval::metric_summary> run(const scorer& model, bool circular) {
  auto task = letter_task();
  if (circular)
    for (auto& m : eval::circular_metrics(task.metrics)) task.metrics.push_back(m);
  const auto prepared = eval::prepare_task(task, gold_a_docs(), {}, {.circular = circular});
  return eval::aggregate(task, answer(task, prepared, model), 0, 1234);
}

}  // namespace

TEST_CASE("a model that always answers A: plain acc 1.0, acc_circular 0.0") {
  const auto summaries = run(label_a, true);
  CHECK(metric(summaries, "acc") == 1.0);
  CHECK(metric(summaries, "acc_norm") == 1.0);
  CHECK(metric(summaries, "acc_circular") == 0.0);
  CHECK(metric(summaries, "acc_norm_circular") == 0.0);
  for (const auto& s : summaries) {
    CHECK(s.n == 3);
    CHECK(s.higher_is_better);
  }
}

TEST_CASE("a model that knows the right text under any label: acc and acc_circular 1.0") {
  const auto summaries = run(knows_answers, true);
  CHECK(metric(summaries, "acc") == 1.0);
  CHECK(metric(summaries, "acc_circular") == 1.0);
  CHECK(metric(summaries, "acc_norm_circular") == 1.0);
}

TEST_CASE("a circular document keeps its id and holds every rotation's requests, the plain ones first") {
  const auto task = letter_task();
  const auto plain = eval::prepare_task(task, gold_a_docs(), {}, {});
  const auto circular = eval::prepare_task(task, gold_a_docs(), {}, {.circular = true});
  REQUIRE(circular.docs.size() == plain.docs.size());
  CHECK(plain.docs[0].rotations.empty());
  for (std::size_t i = 0; i < plain.docs.size(); ++i) {
    const auto& p = plain.docs[i];
    const auto& c = circular.docs[i];
    CHECK(c.doc_id == p.doc_id);
    CHECK(c.prompt == p.prompt);
    CHECK(c.prompt_hash == p.prompt_hash);
    REQUIRE(c.requests.size() == 16);
    REQUIRE(c.rotations.size() == 4);
    for (std::size_t k = 0; k < p.requests.size(); ++k) {
      const auto& a = std::get<harness::loglikelihood_request>(p.requests[k].args);
      const auto& b = std::get<harness::loglikelihood_request>(c.requests[k].args);
      CHECK(a.context == b.context);
      CHECK(a.continuation == b.continuation);
    }
    // Rotation 1 shows option B's text at A; the gold, A's text, is now at D.
    const auto& r1 = std::get<harness::loglikelihood_request>(c.requests[4].args);
    CHECK(r1.context.find("\nA. wrong one\n") != std::string::npos);
    CHECK(c.rotations[1].first_request == 4);
    CHECK(c.rotations[1].target == json::value(3));
    CHECK(c.rotations[3].target == json::value(1));
    CHECK(c.arguments.size() == 16);
    CHECK(c.arguments.contains("gen_args_15"));
  }
  CHECK(circular.prompts_hash != plain.prompts_hash);
}

TEST_CASE("rotation 0 scores exactly as a plain run") {
  // A model with no label bias whose plain answers are mixed: acc 2/3.
  const scorer mixed = [](const harness::loglikelihood_request& r) {
    if (r.context.rfind("third", 0) == 0) return r.continuation == " B" ? -0.5 : -2.0;
    return knows_answers(r);
  };
  const auto plain = run(mixed, false);
  const auto circular = run(mixed, true);
  CHECK(metric(plain, "acc") == doctest::Approx(2.0 / 3.0));
  CHECK(metric(circular, "acc") == metric(plain, "acc"));
  CHECK(metric(circular, "acc_norm") == metric(plain, "acc_norm"));
  CHECK(metric(circular, "acc_circular") == doctest::Approx(2.0 / 3.0));
  for (const auto& s : plain) CHECK_FALSE(eval::is_circular_metric(s.metric));
}

TEST_CASE("a circular run of a task without a circular block names the task") {
  auto task = letter_task();
  task.circular.reset();
  try {
    eval::prepare_task(task, gold_a_docs(), {}, {.circular = true});
    FAIL("no error");
  } catch (const huashan::input_error& e) {
    CHECK(std::string(e.what()).find("task 'letters'") != std::string::npos);
    CHECK(std::string(e.what()).find("has no circular block") != std::string::npos);
  }
}
