// Small builders shared by the task tests.
#pragma once

#include <boost/json/parse.hpp>

#include <string>
#include <vector>

#include "harness/eval/task.hpp"

namespace eval_task_test {

using huashan::harness::eval::document;

inline document doc(const char* json) { return boost::json::parse(json).as_object(); }

// Five test questions with a choices list and an index answer.
inline std::vector<document> quiz_docs() {
  return {
      doc(R"({"question": "What is 2+2?", "choices": ["3", "4", "5"], "answer": 1})"),
      doc(R"({"question": "Sky color?", "choices": ["blue", "green", "red"], "answer": 0})"),
      doc(R"({"question": "Largest planet?", "choices": ["Mars", "Jupiter", "Venus"], "answer": 1})"),
      doc(R"({"question": "Water formula?", "choices": ["H2O", "CO2", "O2"], "answer": 0})"),
      doc(R"({"question": "Fastest land animal?", "choices": ["cheetah", "snail", "horse"], "answer": 0})"),
  };
}

inline huashan::harness::eval::task_config quiz_task() {
  huashan::harness::eval::task_config task;
  task.task = "quiz";
  task.file = "suites/quiz.yaml";
  task.test_split = "test";
  task.doc_to_text = "Question: {{question}}\nAnswer:";
  task.doc_to_choice = "choices";
  task.doc_to_target = "answer";
  task.filters = {{"none", {}}};
  task.metrics = {{.metric = "acc"}, {.metric = "acc_norm"}};
  return task;
}

}  // namespace eval_task_test
