// Rotation r puts option (i + r) mod k at label i, and the gold moves with
// its option, written back in the document's own format.
#include <boost/json.hpp>
#include <doctest/doctest.h>

#include "common/error.hpp"
#include "harness/eval/circular.hpp"

namespace eval = huashan::harness::eval;
namespace json = boost::json;

namespace {

json::object doc(const char* text) { return json::parse(text).as_object(); }

eval::circular_config letter_fields() {
  eval::circular_config c;
  c.choice_fields = {"A", "B", "C", "D"};
  c.answer_field = "answer";
  return c;
}

}  // namespace

TEST_CASE("option fields rotate and a letter gold follows its option") {
  const auto views = eval::circular_rotations(
      letter_fields(), doc(R"({"q": "?", "A": "a", "B": "b", "C": "c", "D": "d", "answer": "C"})"), "here");
  REQUIRE(views.size() == 4);
  CHECK(views[0] == doc(R"({"q": "?", "A": "a", "B": "b", "C": "c", "D": "d", "answer": "C"})"));
  CHECK(views[1] == doc(R"({"q": "?", "A": "b", "B": "c", "C": "d", "D": "a", "answer": "B"})"));
  CHECK(views[2] == doc(R"({"q": "?", "A": "c", "B": "d", "C": "a", "D": "b", "answer": "A"})"));
  CHECK(views[3] == doc(R"({"q": "?", "A": "d", "B": "a", "C": "b", "D": "c", "answer": "D"})"));
}

TEST_CASE("a list of options rotates; an index gold stays a number or a digit string as it came") {
  eval::circular_config c;
  c.choices_field = "choices";
  c.answer_field = "gold";
  c.answer_format = "index";
  const auto numeric = eval::circular_rotations(c, doc(R"({"choices": ["x", "y", "z"], "gold": 0})"), "here");
  REQUIRE(numeric.size() == 3);
  CHECK(numeric[1] == doc(R"({"choices": ["y", "z", "x"], "gold": 2})"));
  CHECK(numeric[2] == doc(R"({"choices": ["z", "x", "y"], "gold": 1})"));
  const auto text = eval::circular_rotations(c, doc(R"({"choices": ["x", "y", "z"], "gold": "1"})"), "here");
  CHECK(text[1] == doc(R"({"choices": ["y", "z", "x"], "gold": "0"})"));
  CHECK(text[2] == doc(R"({"choices": ["z", "x", "y"], "gold": "2"})"));
}

TEST_CASE("a label gold is rewritten among labels that stay in place (ARC's choices.text and choices.label)") {
  eval::circular_config c;
  c.choices_field = "choices.text";
  c.answer_field = "answerKey";
  c.answer_format = "label";
  c.labels_field = "choices.label";
  const auto views = eval::circular_rotations(
      c, doc(R"({"choices": {"text": ["t1", "t2", "t3"], "label": ["1", "2", "3"]}, "answerKey": "3"})"), "here");
  REQUIRE(views.size() == 3);
  CHECK(views[1] == doc(R"({"choices": {"text": ["t2", "t3", "t1"], "label": ["1", "2", "3"]}, "answerKey": "2"})"));
  CHECK(views[2] == doc(R"({"choices": {"text": ["t3", "t1", "t2"], "label": ["1", "2", "3"]}, "answerKey": "1"})"));
}

TEST_CASE("a document whose fields do not fit its circular block is an input_error naming the field") {
  const auto message = [](const eval::circular_config& c, const char* text) {
    try {
      eval::circular_rotations(c, doc(text), "task 'quiz', document 7");
    } catch (const huashan::input_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const auto missing = message(letter_fields(), R"({"A": "a", "B": "b", "C": "c", "answer": "A"})");
  CHECK(missing.find("task 'quiz', document 7") != std::string::npos);
  CHECK(missing.find("no field 'D'") != std::string::npos);
  CHECK(message(letter_fields(), R"({"A": "a", "B": "b", "C": "c", "D": "d", "answer": "E"})").find("a letter A to D") !=
        std::string::npos);
  CHECK(message(letter_fields(), R"({"A": "a", "B": "b", "C": "c", "D": "d", "answer": 1})").find("answer_field") !=
        std::string::npos);
  eval::circular_config list;
  list.choices_field = "choices";
  list.answer_field = "gold";
  list.answer_format = "index";
  CHECK(message(list, R"({"choices": "abc", "gold": 0})").find("must be a non-empty list") != std::string::npos);
  CHECK(message(list, R"({"choices": ["a", "b"], "gold": 2})").find("an index 0 to 1") != std::string::npos);
  list.answer_format = "label";
  list.labels_field = "labels";
  CHECK(message(list, R"({"choices": ["a", "b"], "labels": ["A", "B"], "gold": "C"})").find("one of the labels") !=
        std::string::npos);
  CHECK(message(list, R"({"choices": ["a", "b"], "labels": ["A"], "gold": "A"})").find("a list of 2 labels") !=
        std::string::npos);
}
