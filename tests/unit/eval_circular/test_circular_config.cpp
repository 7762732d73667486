// The `circular` block of a suite file: its two shapes, and an input_error
// naming the file, the task and the field for each way it can be wrong.
#include <doctest/doctest.h>

#include <string>

#include "common/error.hpp"
#include "harness/eval/suite_loader.hpp"

namespace eval = huashan::harness::eval;

namespace {

const std::string base = R"(task: quiz
dataset_path: json
dataset_kwargs:
  data_files:
    test: test.jsonl
test_split: test
output_type: multiple_choice
doc_to_text: "{{question}}"
doc_to_choice: ["A", "B", "C", "D"]
doc_to_target: "{{['A', 'B', 'C', 'D'].index(answer)}}"
)";

std::string error_of(const std::string& yaml) {
  try {
    eval::parse_task_yaml(yaml, "suites/quiz.yaml");
  } catch (const huashan::input_error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("choice_fields with a letter gold, and choices_field with a label gold") {
  const auto fields = eval::parse_task_yaml(base + "circular:\n  choice_fields: [A, B, C, D]\n  answer_field: answer\n",
                                            "suites/quiz.yaml");
  REQUIRE(fields.circular);
  CHECK(fields.circular->choice_fields == std::vector<std::string>{"A", "B", "C", "D"});
  CHECK(fields.circular->answer_field == "answer");
  CHECK(fields.circular->answer_format == "letter");
  CHECK(fields.as_json.at("circular").at("answer_format") == "letter");

  const auto list = eval::parse_task_yaml(base + "circular:\n  choices_field: choices.text\n  answer_field: answerKey\n"
                                                 "  answer_format: label\n  labels_field: choices.label\n",
                                          "suites/quiz.yaml");
  REQUIRE(list.circular);
  CHECK(list.circular->choices_field == "choices.text");
  CHECK(list.circular->labels_field == "choices.label");

  CHECK_FALSE(eval::parse_task_yaml(base, "suites/quiz.yaml").circular);
}

TEST_CASE("a wrong circular block names the file, the task and the field") {
  const auto check = [](const std::string& block, const std::string& expected) {
    const auto message = error_of(base + block);
    CAPTURE(message);
    CHECK(message.find("suites/quiz.yaml:") != std::string::npos);
    CHECK(message.find("task 'quiz'") != std::string::npos);
    CHECK(message.find(expected) != std::string::npos);
  };
  check("circular:\n  answer_field: answer\n", "needs choice_fields");
  check("circular:\n  choice_fields: [A, B]\n  choices_field: c\n  answer_field: answer\n", "both choice_fields and choices_field");
  check("circular:\n  choice_fields: [A, B, C, D]\n", "needs answer_field");
  check("circular:\n  choice_fields: A\n  answer_field: answer\n", "'circular.choice_fields'");
  check("circular:\n  choice_fields: [A]\n  answer_field: answer\n", "at least two fields");
  check("circular:\n  choice_fields: [A, A]\n  answer_field: answer\n", "names a field twice");
  check("circular:\n  choice_fields: [A, B]\n  answer_field: B\n", "also one of choice_fields");
  check("circular:\n  choice_fields: [A, B]\n  answer_field: answer\n  answer_format: roman\n", "not one of letter, index, label");
  check("circular:\n  choices_field: c\n  answer_field: answer\n  answer_format: label\n", "needs labels_field");
  check("circular:\n  choices_field: c\n  answer_field: answer\n  labels_field: l\n", "belongs to answer_format label");
  check("circular:\n  choices_field: c\n  answer_field: answer\n  rotate: all\n", "unknown key 'rotate'");
  check("circular: [A, B]\n", "must be a mapping");
}

TEST_CASE("a circular block on a task that is not multiple choice is refused") {
  const std::string generate = R"(task: quiz
dataset_path: json
dataset_kwargs:
  data_files:
    test: test.jsonl
test_split: test
output_type: generate_until
doc_to_text: "{{question}}"
doc_to_target: "{{answer}}"
circular:
  choices_field: choices
  answer_field: answer
)";
  const auto message = error_of(generate);
  CHECK(message.find("task 'quiz'") != std::string::npos);
  CHECK(message.find("multiple_choice only") != std::string::npos);
}
