// Battle readers: RFC 4180 details, LMArena and evalica column names, JSONL
// with conv_metadata, and errors that name the file, line and field.
#include <doctest/doctest.h>

#include <string>

#include "common/error.hpp"
#include "ranking/battle_reader.hpp"

using namespace huashan;
using namespace huashan::ranking;

namespace {

std::string error_of(std::string_view text, std::string_view source) {
  try {
    read_battles(text, source);
  } catch (const input_error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("CSV: quoted fields, doubled quotes, CRLF, blank lines and a missing final newline") {
  const std::string text =
      "model_a,model_b,winner,category\r\n"
      "\"gpt, 4\",claude,model_a,coding|math\r\n"
      "\r\n"
      "claude,\"say \"\"hi\"\"\",tie (bothbad),\r\n"
      "\"multi\nline\",claude,model_b,coding";
  const auto t = read_battles_csv(text, "x.csv");
  REQUIRE(t.size() == 3);
  CHECK(t.models.name(t.model_a[0]) == "gpt, 4");
  CHECK(t.models.name(t.model_b[1]) == "say \"hi\"");
  CHECK(t.models.name(t.model_a[2]) == "multi\nline");
  CHECK(t.winner[1] == outcome::tie_bothbad);
  CHECK(t.line[0] == 2);
  CHECK(t.line[1] == 4);
  CHECK(t.line[2] == 5);
  REQUIRE(t.has_categories());
  CHECK(t.category_begin[1] - t.category_begin[0] == 2);
  CHECK(t.category_begin[2] - t.category_begin[1] == 0);
  CHECK(t.categories.name(t.category_ids[t.category_begin[2]]) == "coding");
}

TEST_CASE("CSV: evalica's left,right,winner columns") {
  const auto t = read_battles_csv("left,right,winner\nA,B,left\nB,C,right\nA,C,tie\n", "e.csv");
  REQUIRE(t.size() == 3);
  CHECK(t.winner[0] == outcome::model_a);
  CHECK(t.winner[1] == outcome::model_b);
  CHECK(t.winner[2] == outcome::tie);
}

TEST_CASE("CSV: style columns and language detection from the prompt") {
  const auto t = read_battles_csv(
      "model_a,model_b,winner,prompt,len_a,len_b,header_a,header_b,list_a,list_b,bold_a,bold_b\n"
      "A,B,model_a,How do I sort a list?,10,20,1,0,2,3,0,1\n"
      "A,B,model_b,请解释一下量子计算,5,6,0,0,0,0,0,0\n"
      "A,B,tie,Как дела?,1,2,0,0,0,0,0,0\n",
      "s.csv");
  REQUIRE(t.has_style());
  CHECK(t.style[0].a[0] == 10);
  CHECK(t.style[0].b[0] == 20);
  CHECK(t.style[0].b[2] == 3);
  REQUIRE(t.has_language());
  CHECK(t.languages.name(t.language[0]) == "English");
  CHECK(t.languages.name(t.language[1]) == "Chinese");
  CHECK(t.languages.name(t.language[2]) == "other");
}

TEST_CASE("CSV errors name the file, the line and the field") {
  CHECK(error_of("", "b.csv").find("b.csv: empty file") != std::string::npos);
  CHECK(error_of("model_a,model_b,winner\n", "b.csv").find("no battles") != std::string::npos);
  CHECK(error_of("model_a,model_b\nA,B\n", "b.csv") == "b.csv line 1: missing required column 'winner'");
  CHECK(error_of("model_a,model_b,winner\nA,B,model_a\nA,B,draw\n", "b.csv") ==
        "b.csv line 3: field 'winner': expected model_a|model_b|tie|tie (bothbad), got 'draw'");
  CHECK(error_of("model_a,model_b,winner\nA,A,tie\n", "b.csv") ==
        "b.csv line 2: model_a and model_b are the same model 'A'");
  CHECK(error_of("model_a,model_b,winner\nA,B\n", "b.csv") == "b.csv line 2: 2 fields, the header has 3");
  CHECK(error_of("model_a,model_b,winner\n\"A,B,tie\n", "b.csv") == "b.csv line 2: unterminated quoted field");
  CHECK(error_of("model_a,model_b,winner,len_a,len_b,header_a,header_b,list_a,list_b,bold_a,bold_b\n"
                 "A,B,tie,1,2,3,4,5,x,7,8\n",
                 "b.csv") == "b.csv line 2: field 'list_b': expected a non-negative integer, got 'x'");
}

TEST_CASE("JSONL: LMArena records with conv_metadata, categories and errors") {
  const std::string text =
      R"({"model_a":"A","model_b":"B","winner":"model_a","tstamp":2,"language":"English","categories":["math"],)"
      R"("conv_metadata":{"sum_assistant_a_tokens":7,"sum_assistant_b_tokens":9,"header_count_a":{"h1":1,"h2":2},)"
      R"("header_count_b":{"h1":0},"list_count_a":{"ordered":1,"unordered":1},"list_count_b":{"ordered":0},)"
      R"("bold_count_a":{"**":3,"__":0},"bold_count_b":{"**":0}}})"
      "\n\n"
      R"({"model_a":"B","model_b":"C","winner":"tie","tstamp":1,"language":"Chinese","categories":[],)"
      R"("conv_metadata":{"sum_assistant_a_tokens":1,"sum_assistant_b_tokens":1,"header_count_a":0,)"
      R"("header_count_b":0,"list_count_a":0,"list_count_b":0,"bold_count_a":0,"bold_count_b":0}})"
      "\n";
  const auto t = read_battles(text, "b.jsonl");
  REQUIRE(t.size() == 2);
  CHECK(t.line[1] == 3);
  CHECK(t.style[0].a[1] == 3);
  CHECK(t.style[0].a[2] == 2);
  CHECK(t.style[0].a[3] == 3);
  CHECK(t.tstamp[1] == 1.0);
  const auto chrono = t.chronological();
  CHECK(chrono.models.name(chrono.model_a[0]) == "B");
  CHECK(error_of("{\"model_a\":\"A\",\"model_b\":\"B\"}\n", "b.jsonl") == "b.jsonl line 1: missing field 'winner'");
  CHECK(error_of("{\"model_a\":\"A\",\"model_b\":\"B\",\"winner\":\"x\"}\n", "b.jsonl") ==
        "b.jsonl line 1: field 'winner': expected model_a|model_b|tie|tie (bothbad), got 'x'");
  CHECK(error_of("{\"model_a\":\"A\",\n", "b.jsonl").rfind("b.jsonl line 1: invalid JSON", 0) == 0);
  CHECK(error_of("\n\n", "b.jsonl").find("no battles") != std::string::npos);
}

TEST_CASE("language detection by script") {
  CHECK(detect_language("What is the capital of France?") == script_language::english);
  CHECK(detect_language("法国的首都是哪里？ Paris?") == script_language::chinese);
  // Detection is by script only: Latin text counts as English.
  CHECK(detect_language("Quelle est la capitale de la France ? Ça va très bien, merci") == script_language::english);
  CHECK(detect_language("Привет, как дела?") == script_language::other);
  CHECK(detect_language("1234 !!!") == script_language::other);
  CHECK(detect_language("\xff\xfe broken") == script_language::english);
}
