// The dataset readers on the cases real files have: quoted fields with
// commas, doubled quotes and line breaks, a byte order mark, CRLF, header-less
// CSV, and the errors that must name the file and line.
#include <doctest/doctest.h>

#include <boost/json/value.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "common/error.hpp"
#include "harness/eval/dataset.hpp"

namespace eval = huashan::harness::eval;
namespace fs = std::filesystem;

namespace {

std::string field(const eval::document& doc, const char* key) { return std::string(doc.at(key).as_string()); }

std::string error_of(auto&& call) {
  try {
    call();
  } catch (const huashan::input_error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("CSV: RFC 4180 quoting, every field a string") {
  const auto docs = eval::parse_delimited(
      "q,a,n\n\"x, y\",\"say \"\"hi\"\"\",7\n\"two\nlines\",,08\n", ',', {}, "t.csv");
  REQUIRE(docs.size() == 2);
  CHECK(field(docs[0], "q") == "x, y");
  CHECK(field(docs[0], "a") == "say \"hi\"");
  CHECK(field(docs[0], "n") == "7");
  CHECK(field(docs[1], "q") == "two\nlines");
  CHECK(field(docs[1], "a").empty());
  CHECK(field(docs[1], "n") == "08");  // not a number: leading zero kept
}

TEST_CASE("CSV: byte order mark skipped, CRLF line ends, no final newline") {
  const auto docs = eval::parse_delimited("\xEF\xBB\xBFid,text\r\n1,\"a\r\nb\"\r\n2,c", ',', {}, "t.csv");
  REQUIRE(docs.size() == 2);
  CHECK(docs[0].contains("id"));  // the BOM is not part of the first column's name
  CHECK(field(docs[0], "text") == "a\r\nb");
  CHECK(field(docs[1], "id") == "2");
  CHECK(field(docs[1], "text") == "c");
}

TEST_CASE("CSV: an unnamed first column (CMMLU's index) is the key \"\"") {
  const auto docs = eval::parse_delimited(",Question,Answer\n0,q,A\n", ',', {}, "t.csv");
  REQUIRE(docs.size() == 1);
  CHECK(field(docs[0], "") == "0");
  CHECK(field(docs[0], "Answer") == "A");
}

TEST_CASE("CSV: header-less with column_names, every row a record") {
  const auto docs = eval::parse_delimited("What?,1,2,3,4,B\n\"Why, then?\",a,b,c,d,D\n", ',',
                                          {"question", "A", "B", "C", "D", "answer"}, "t.csv");
  REQUIRE(docs.size() == 2);
  CHECK(field(docs[0], "question") == "What?");
  CHECK(field(docs[0], "answer") == "B");
  CHECK(field(docs[1], "question") == "Why, then?");
}

TEST_CASE("CSV: a wrong field count names the file and the record's first line") {
  const std::string message =
      error_of([] { eval::parse_delimited("a,b\n1,2\n\"multi\nline\",2\n3\n", ',', {}, "data/x.csv"); });
  CHECK(message == "data/x.csv:5: 1 fields, expected 2 (the header's)");
  CHECK(error_of([] { eval::parse_delimited("a,b\n\"open,2\n", ',', {}, "y.csv"); }).starts_with("y.csv:2: a quoted field is not closed"));
  CHECK(error_of([] { eval::parse_delimited("1,2,3\n", ',', {"a", "b"}, "z.csv"); }) ==
        "z.csv:1: 3 fields, expected 2 (column_names')");
}

TEST_CASE("TSV: tab-separated, same quoting") {
  const auto docs = eval::parse_delimited("a\tb\nx,y\t\"p\tq\"\n", '\t', {}, "t.tsv");
  REQUIRE(docs.size() == 1);
  CHECK(field(docs[0], "a") == "x,y");
  CHECK(field(docs[0], "b") == "p\tq");
}

TEST_CASE("JSON lines: objects kept as they are; blank lines skipped; a bad line is FILE:LINE") {
  const auto docs = eval::parse_json_lines("{\"q\": \"a\", \"n\": 3, \"l\": [1, 2]}\n\n{\"q\": \"b\"}\r\n", "t.jsonl");
  REQUIRE(docs.size() == 2);
  CHECK(docs[0].at("n").as_int64() == 3);
  CHECK(docs[0].at("l").as_array().size() == 2);
  CHECK(field(docs[1], "q") == "b");
  CHECK(error_of([] { eval::parse_json_lines("{\"q\": 1}\n{\"q\": 2\n", "d/t.jsonl"); }).starts_with("d/t.jsonl:2: not valid JSON"));
  CHECK(error_of([] { eval::parse_json_lines("{}\n[1]\n", "t.jsonl"); }) == "t.jsonl:2: a JSON line must be an object");
  const auto array_docs = eval::parse_json_lines("[{\"a\": 1}, {\"a\": 2}]", "t.json");
  CHECK(array_docs.size() == 2);
}

TEST_CASE("read_dataset_file chooses the reader by extension") {
  const fs::path dir = fs::temp_directory_path() / "huashan_eval_dataset_test";
  fs::create_directories(dir);
  std::ofstream(dir / "a.tsv") << "x\ty\n1\t2\n";
  std::ofstream(dir / "a.jsonl") << "{\"x\": 1}\n";
  std::ofstream(dir / "a.txt") << "x\n";
  CHECK(field(eval::read_dataset_file(dir / "a.tsv").at(0), "y") == "2");
  CHECK(eval::read_dataset_file(dir / "a.jsonl").at(0).at("x").as_int64() == 1);
  CHECK(error_of([&] { eval::read_dataset_file(dir / "a.txt"); }).find("unknown dataset format '.txt'") != std::string::npos);
  CHECK(error_of([&] { eval::read_dataset_file(dir / "missing.csv"); }).find("missing.csv: cannot open") != std::string::npos);
  fs::remove_all(dir);
}
