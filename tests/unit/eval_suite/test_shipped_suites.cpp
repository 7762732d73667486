// Every suite in benchmarks/ loads, and the shipped suites read the datasets
// kept in tests/data in their published layouts: record counts and fields.
#include <doctest/doctest.h>

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <map>
#include <filesystem>
#include <set>
#include <string>

#include "common/error.hpp"
#include "harness/eval/process_docs.hpp"
#include "harness/eval/suite_loader.hpp"

namespace eval = huashan::harness::eval;
namespace fs = std::filesystem;

namespace {

const fs::path benchmarks = fs::path(HUASHAN_SOURCE_DIR) / "benchmarks";
const fs::path datasets = fs::path(HUASHAN_TEST_DATA) / "datasets";
const fs::path format_samples = datasets / "format_samples";

const eval::task_config& task_named(const eval::suite_selection& sel, const std::string& name) {
  auto it = std::find_if(sel.tasks.begin(), sel.tasks.end(), [&](const auto& t) { return t.task == name; });
  REQUIRE_MESSAGE(it != sel.tasks.end(), name);
  return *it;
}

const eval::task_config only_task(const std::string& name) {
  const auto sel = eval::load_suites({name}, {benchmarks});
  REQUIRE(sel.tasks.size() == 1);
  return sel.tasks[0];
}

std::string text(const eval::document& doc, const char* key) { return std::string(doc.at(key).as_string()); }

}  // namespace

TEST_CASE("every YAML file in benchmarks/ loads") {
  std::size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(benchmarks)) {
    if (entry.path().extension() != ".yaml") continue;
    ++files;
    CAPTURE(entry.path().string());
    const auto sel = eval::load_suites({entry.path().string()}, {benchmarks});
    CHECK(sel.tasks.size() + sel.groups.size() >= 1);
  }
  CHECK(files > 180);
}

TEST_CASE("the shipped groups: C-Eval 52, CMMLU 67, MMLU 57 subjects") {
  const auto ceval = eval::load_suites({"ceval-valid"}, {benchmarks});
  CHECK(ceval.tasks.size() == 52);
  REQUIRE(ceval.groups.size() == 1);
  REQUIRE(ceval.groups[0].aggregate_metric_list.size() == 2);
  CHECK(ceval.groups[0].aggregate_metric_list[1].metric == "acc_norm");
  CHECK(ceval.groups[0].aggregate_metric_list[1].weight_by_size);
  const auto& logic = task_named(ceval, "ceval-valid_logic");
  CHECK(logic.description == "以下是中国关于逻辑学的单项选择题，请选出其中的正确答案。\n\n");
  CHECK(logic.doc_to_text == "{{question.strip()}}\nA. {{A}}\nB. {{B}}\nC. {{C}}\nD. {{D}}\n答案：");
  CHECK(logic.doc_to_choice == std::optional<std::string>(R"(["A","B","C","D"])"));
  CHECK(logic.validation_split == "val");
  CHECK(logic.fewshot_split == "dev");
  CHECK(logic.fewshot_sampler == "first_n");

  const auto cmmlu = eval::load_suites({"cmmlu"}, {benchmarks});
  CHECK(cmmlu.tasks.size() == 67);
  CHECK(task_named(cmmlu, "cmmlu_logical").description == "以下是关于逻辑学的单项选择题，请直接给出正确答案的选项。\n\n");

  const auto mmlu = eval::load_suites({"mmlu"}, {benchmarks});
  CHECK(mmlu.tasks.size() == 57);
  CHECK(mmlu.groups.size() == 5);  // mmlu and its four categories
  const auto& algebra = task_named(mmlu, "mmlu_abstract_algebra");
  CHECK(algebra.description == "The following are multiple choice questions (with answers) about abstract algebra.\n\n");
  CHECK(algebra.column_names == std::vector<std::string>{"question", "A", "B", "C", "D", "answer"});

  const auto sample = eval::load_suites({"huashan-sample"}, {benchmarks});
  CHECK(sample.tasks.size() == 4);

  // A tag, and a file's name where it differs from its task's.
  const auto arc = eval::load_suites({"ai2_arc"}, {benchmarks});
  REQUIRE(arc.tasks.size() == 2);
  CHECK(arc.tasks[0].task == "arc_challenge");
  CHECK(arc.tasks[1].task == "arc_easy");
  const auto cot = eval::load_suites({"gsm8k-cot"}, {benchmarks});
  REQUIRE(cot.tasks.size() == 1);
  CHECK(cot.tasks[0].task == "gsm8k_cot");
}

TEST_CASE("C-Eval: the six carried subjects, val and dev") {
  const std::vector<std::pair<std::string, std::size_t>> subjects = {
      {"chinese_language_and_literature", 23}, {"college_programming", 37}, {"computer_network", 19},
      {"high_school_mathematics", 18},         {"logic", 22},               {"modern_chinese_history", 23}};
  for (const auto& [subject, n] : subjects) {
    CAPTURE(subject);
    const auto task = only_task("ceval-valid_" + subject);
    const auto val = eval::load_split(task, task.validation_split, datasets);
    CHECK(val.size() == n);
    for (const char* key : {"id", "question", "A", "B", "C", "D", "answer"}) CHECK(val.at(0).contains(key));
    CHECK(std::string("ABCD").find(text(val.back(), "answer")) != std::string::npos);
    const auto dev = eval::load_split(task, task.fewshot_split, datasets);
    CHECK(dev.size() == 5);
    CHECK(dev.at(0).contains("explanation"));
  }
}

TEST_CASE("CMMLU: the seven carried subjects, test and dev") {
  const std::vector<std::pair<std::string, std::size_t>> subjects = {
      {"ancient_chinese", 164}, {"chinese_driving_rule", 131}, {"chinese_food_culture", 136}, {"chinese_history", 323},
      {"computer_science", 204}, {"high_school_mathematics", 164}, {"machine_learning", 122}};
  for (const auto& [subject, n] : subjects) {
    CAPTURE(subject);
    const auto task = only_task("cmmlu_" + subject);
    const auto test = eval::load_split(task, task.test_split, datasets);
    CHECK(test.size() == n);
    for (const char* key : {"", "Question", "A", "B", "C", "D", "Answer"}) CHECK(test.at(0).contains(key));
    CHECK(text(test.at(0), "") == "0");
    CHECK(eval::load_split(task, task.fewshot_split, datasets).size() == 5);
  }
}

TEST_CASE("MMLU: the six carried subjects in the original header-less layout") {
  const std::vector<std::pair<std::string, std::size_t>> subjects = {
      {"abstract_algebra", 100}, {"college_computer_science", 100}, {"global_facts", 100},
      {"high_school_mathematics", 270}, {"machine_learning", 112}, {"world_religions", 171}};
  for (const auto& [subject, n] : subjects) {
    CAPTURE(subject);
    const auto task = only_task("mmlu_" + subject);
    const auto test = eval::load_split(task, "test", datasets);
    CHECK(test.size() == n);
    for (const auto& doc : test) CHECK(std::string("ABCD").find(text(doc, "answer")) != std::string::npos);
    CHECK(eval::load_split(task, "dev", datasets).size() == 5);
  }
  const auto algebra = eval::load_split(only_task("mmlu_abstract_algebra"), "test", datasets);
  CHECK(text(algebra[0], "question") == "Find the degree for the given field extension Q(sqrt(2), sqrt(3), sqrt(18)) over Q.");
  CHECK(text(algebra[0], "B") == "4");
  CHECK(text(algebra[0], "answer") == "B");
}

TEST_CASE("GSM8K chain of thought: the test file and the eight exemplars beside the YAML") {
  const auto task = only_task("gsm8k_cot");
  CHECK(task.output == eval::output_type::generate_until);
  CHECK(task.num_fewshot == 8);
  CHECK(task.generation.until == std::vector<std::string>{"Q:", "</s>", "<|im_end|>"});
  CHECK(task.generation.max_gen_toks == 256);
  REQUIRE(task.filters.size() == 2);
  CHECK(task.filters[0].name == "strict-match");
  CHECK(task.filters[0].steps[0].regex_pattern == "The answer is (\\-?[0-9\\.\\,]+).");
  CHECK(task.metrics.at(0).regexes_to_ignore == std::vector<std::string>{",", "\\$", "(?s).*#### ", "\\.$"});
  const auto test = eval::load_split(task, task.test_split, datasets);
  CHECK(test.size() == 1319);
  CHECK(text(test.back(), "answer").find("#### ") != std::string::npos);
  const auto shots = eval::load_split(task, task.fewshot_split, datasets);
  REQUIRE(shots.size() == 8);
  CHECK(text(shots[0], "target").ends_with("The answer is 6."));
  CHECK(text(shots[7], "question") == "Olivia has $23. She bought five bagels for $3 each. How much money does she have left?");
  // Plain gsm8k needs train.jsonl, which is not carried.
  CHECK_THROWS_AS(eval::load_split(only_task("gsm8k"), "train", datasets), huashan::input_error);
}

TEST_CASE("ARC: AI2's JSON lines through process_docs ai2_arc") {
  const auto easy = only_task("arc_easy");
  const auto docs = eval::load_split(easy, "test", format_samples);
  REQUIRE(docs.size() == 3);
  CHECK(text(docs[0], "question") == "Which of these is a source of light?");
  const auto& choices = docs[0].at("choices").as_object();
  CHECK(choices.at("text").as_array().size() == 4);
  CHECK(choices.at("text").as_array()[2].as_string() == "the Sun");
  CHECK(choices.at("label").as_array()[2].as_string() == "C");
  CHECK(docs[1].at("choices").as_object().at("label").as_array().size() == 3);
  CHECK(docs[2].at("choices").as_object().at("label").as_array()[1].as_string() == "2");
  const auto challenge = only_task("arc_challenge");
  CHECK(challenge.doc_to_choice == std::optional<std::string>("{{choices.text}}"));
  CHECK(eval::load_split(challenge, "test", format_samples).size() == 3);
}

TEST_CASE("HellaSwag: lm-evaluation-harness's preprocessing on the format sample") {
  const auto task = only_task("hellaswag");
  CHECK(task.test_split.empty());
  const auto docs = eval::load_split(task, task.validation_split, format_samples);
  REQUIRE(docs.size() == 3);
  auto choices = [](const eval::document& d) {
    std::vector<std::string> out;
    for (const auto& c : d.at("choices").as_array()) out.emplace_back(c.as_string());
    return out;
  };
  // Expected values worked out by hand from the rules (strip; " [title]" -> ". ";
  // drop "[...]"; "  " -> " " once, left to right; ctx_b capitalized).
  CHECK(text(docs[0], "query") == "Making tea: A man fills a kettle with water and sets it on the stove. He");
  CHECK(choices(docs[0]) == std::vector<std::string>{"throws the kettle out of the window.", "paints the kettle blue.",
                                                      "waits for the water to boil and pours it over the tea leaves.",
                                                      "sings to the stove."});
  CHECK(docs[0].at("gold").as_int64() == 2);
  CHECK(docs[0].at("label").as_int64() == 2);
  CHECK(text(docs[1], "query") ==
        "Home and Garden: How to water a houseplant. Check the soil. Push a finger into the soil if it is dry, the plant needs water.");
  CHECK(choices(docs[1]) == std::vector<std::string>{" Pour water slowly around the base. Stop when water runs from the drain hole.",
                                                      " Pour sand on the leaves.", "Put the plant in the freezer overnight.",
                                                      " Paint the pot."});
  CHECK(docs[1].at("gold").as_int64() == 0);
  CHECK(text(docs[2], "query") == "Running a marathon: Runners gather at the start line.");
  CHECK(choices(docs[2]).back() == "A band plays  loudly.");
  CHECK(docs[2].at("gold").as_int64() == 1);  // from the string "1"
}

TEST_CASE("hellaswag_preprocess on its own") {
  CHECK(eval::hellaswag_preprocess("  a [title] b [x]c  d ") == "a. b c d");
  CHECK(eval::hellaswag_preprocess("[unclosed x") == "[unclosed x");
}

TEST_CASE("huashan-sample: the project's own data, beside the YAML, no --data-dir") {
  const auto sel = eval::load_suites({"huashan-sample"}, {benchmarks});
  const std::map<std::string, std::size_t> sizes = {{"huashan-sample_zh_mc", 32}, {"huashan-sample_en_mc", 32},
                                                    {"huashan-sample_word_problems", 22}, {"huashan-sample_text", 6}};
  for (const auto& task : sel.tasks) {
    CAPTURE(task.task);
    const auto docs = eval::load_split(task, task.test_split, {});
    CHECK(docs.size() == sizes.at(task.task));
    if (task.output == eval::output_type::multiple_choice) {
      for (const auto& d : docs) {
        CHECK(d.at("choices").as_array().size() == 4);
        CHECK(std::string("ABCD").find(text(d, "answer")) != std::string::npos);
      }
    }
  }
  const auto words = task_named(sel, "huashan-sample_word_problems");
  for (const auto& d : eval::load_split(words, words.test_split, {})) CHECK(text(d, "answer").find("The answer is ") != std::string::npos);
  CHECK(eval::load_split(words, words.fewshot_split, {}).size() == 3);
  CHECK(task_named(sel, "huashan-sample_text").output == eval::output_type::loglikelihood_rolling);
}
