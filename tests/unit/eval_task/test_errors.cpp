// Every error of a task's documents names the task (and its file), the
// document and the setting, with what was wrong.
#include <doctest/doctest.h>

#include <string>

#include "harness/eval/task.hpp"
#include "test_helpers.hpp"

using namespace huashan::harness::eval;
using eval_task_test::doc;
using eval_task_test::quiz_docs;
using eval_task_test::quiz_task;

namespace {

std::string error_of(const task_config& task, const std::vector<document>& test,
                     const std::vector<document>& shots = {}, const prepare_options& options = {}) {
  try {
    prepare_task(task, test, shots, options);
  } catch (const huashan::input_error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("a field missing from one document") {
  auto docs = quiz_docs();
  docs[2].erase("answer");
  CHECK(error_of(quiz_task(), docs) ==
        "task 'quiz' (suites/quiz.yaml), document 2, doc_to_target: the document has no field 'answer'");
}

TEST_CASE("a template that fails: undefined variable, bad syntax; the Jinja message is kept") {
  auto task = quiz_task();
  task.doc_to_text = "Q: {{ question }} {{ nowhere }}";
  const auto undefined = error_of(task, quiz_docs());
  CHECK(undefined.find("task 'quiz' (suites/quiz.yaml), document 0, doc_to_text: template error: ") == 0);
  CHECK(undefined.find("nowhere") != std::string::npos);
  task.doc_to_text = "Q: {{ question ";
  CHECK(error_of(task, quiz_docs()).find("document 0, doc_to_text: template error: ") != std::string::npos);
  task = quiz_task();
  task.description = "{% if %}";
  CHECK(error_of(task, quiz_docs()).find("document 0, description: template error: ") != std::string::npos);
}

TEST_CASE("a target that is not a choice, an index out of range, no choices") {
  auto docs = quiz_docs();
  docs[1]["answer"] = "purple";
  CHECK(error_of(quiz_task(), docs) ==
        "task 'quiz' (suites/quiz.yaml), document 1, doc_to_target: target 'purple' is not among the choices "
        "['blue', 'green', 'red']");
  docs = quiz_docs();
  docs[3]["answer"] = 7;
  CHECK(error_of(quiz_task(), docs) ==
        "task 'quiz' (suites/quiz.yaml), document 3, doc_to_target: target index 7 is out of range (3 choices)");
  docs = quiz_docs();
  docs[4]["choices"] = boost::json::array();
  CHECK(error_of(quiz_task(), docs) ==
        "task 'quiz' (suites/quiz.yaml), document 4, doc_to_choice: the document has no choices");
}

TEST_CASE("choices that are not a list") {
  auto task = quiz_task();
  task.doc_to_choice = "{{ question }}";
  CHECK(error_of(task, quiz_docs()).find("document 0, doc_to_choice: the template rendered 'What is 2+2?' which is "
                                         "not a list literal") != std::string::npos);
  task.doc_to_choice = "question";
  CHECK(error_of(task, quiz_docs()) ==
        "task 'quiz' (suites/quiz.yaml), document 0, doc_to_choice: field 'question' is not a list");
}

TEST_CASE("a bad few-shot document is named as one; too few shots; unknown sampler") {
  auto task = quiz_task();
  task.num_fewshot = 2;
  task.fewshot_sampler = "first_n";
  std::vector<document> shots = {doc(R"({"question": "a", "choices": ["x"], "answer": 0})"),
                                 doc(R"({"question": "b", "choices": ["x"], "answer": 3})")};
  CHECK(error_of(task, quiz_docs(), shots) ==
        "task 'quiz' (suites/quiz.yaml), few-shot document 1, doc_to_target: target index 3 is out of range (1 "
        "choices)");
  task.fewshot_sampler = "default";
  shots.pop_back();
  CHECK(error_of(task, quiz_docs(), shots).find("document 0, num_fewshot 2: 2 few-shot documents are needed but the "
                                                "few-shot split has 1") != std::string::npos);
  task.fewshot_sampler = "balanced";
  CHECK(error_of(task, quiz_docs(), shots).find("fewshot_sampler: unknown sampler 'balanced'") != std::string::npos);
}

TEST_CASE("scoring errors: a metric the output type does not compute, answers that do not fit the requests") {
  auto task = quiz_task();
  task.metrics = {{.metric = "bleu"}};
  const auto prepared = prepare_task(task, quiz_docs(), {}, {});
  const std::vector<response> three(3, huashan::harness::loglikelihood_result{-1.0, false, 1});
  CHECK_THROWS_WITH_AS(score_doc(task, prepared.docs.at(1), three),
                       "task 'quiz' (suites/quiz.yaml), document 1, metric_list: metric 'bleu' is not computed for "
                       "multiple_choice (expected acc, acc_norm, acc_bytes or exact_match)",
                       huashan::input_error);
  CHECK_THROWS_WITH_AS(score_doc(task, prepared.docs.at(1), {std::string("x")}),
                       doctest::Contains("document 1: 1 responses for 3 requests"), huashan::input_error);
}
