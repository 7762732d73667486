// The suite loader on small YAML written here: lm-evaluation-harness's
// defaults, include inheritance, and errors that name the file and line.
#include <doctest/doctest.h>

#include <boost/json/serialize.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "common/error.hpp"
#include "harness/eval/suite_loader.hpp"

namespace eval = huashan::harness::eval;
namespace fs = std::filesystem;

namespace {

std::string error_of(auto&& call) {
  try {
    call();
  } catch (const huashan::input_error& e) {
    return e.what();
  }
  return "(no error)";
}

const char* minimal_mc = R"(task: demo
dataset_path: demo
dataset_kwargs:
  data_files:
    test: test.jsonl
test_split: test
output_type: multiple_choice
doc_to_text: "{{q}}"
doc_to_choice: ["A", "B"]
doc_to_target: 1
)";

// A folder of suite files, removed afterwards.
struct suite_dir {
  fs::path path;
  explicit suite_dir(const std::string& name) : path(fs::temp_directory_path() / name) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~suite_dir() { fs::remove_all(path); }
  void write(const std::string& file, const std::string& text) const {
    fs::create_directories((path / file).parent_path());
    std::ofstream(path / file) << text;
  }
};

}  // namespace

TEST_CASE("a multiple-choice task: lm-evaluation-harness's defaults and the configs shape") {
  const eval::task_config t = eval::parse_task_yaml(minimal_mc, "s/demo.yaml");
  CHECK(t.task == "demo");
  CHECK(t.file == fs::path("s/demo.yaml"));
  CHECK(t.output == eval::output_type::multiple_choice);
  REQUIRE(t.doc_to_choice.has_value());
  CHECK(*t.doc_to_choice == R"(["A","B"])");
  CHECK(t.doc_to_target == "1");
  CHECK(t.target_delimiter == " ");
  CHECK(t.fewshot_delimiter == "\n\n");
  CHECK(t.num_fewshot == 0);
  CHECK(t.fewshot_sampler == "default");
  REQUIRE(t.metrics.size() == 2);
  CHECK(t.metrics[0].metric == "acc");
  CHECK(t.metrics[1].metric == "acc_norm");
  CHECK(t.metrics[1].aggregation == "mean");
  REQUIRE(t.filters.size() == 1);
  CHECK(t.filters[0].name == "none");
  CHECK(t.filters[0].steps.empty());
  CHECK(t.data_files.at("test") == "test.jsonl");
  CHECK(boost::json::serialize(t.as_json) ==
        R"({"task":"demo","dataset_path":"demo","dataset_kwargs":{"data_files":{"test":"test.jsonl"}},)"
        R"("test_split":"test","doc_to_text":"{{q}}","doc_to_target":"1","doc_to_choice":["A","B"],"description":"",)"
        R"("target_delimiter":" ","fewshot_delimiter":"\n\n","fewshot_config":{"sampler":"default"},"num_fewshot":0,)"
        R"("metric_list":[{"metric":"acc","aggregation":"mean","higher_is_better":true},)"
        R"({"metric":"acc_norm","aggregation":"mean","higher_is_better":true}],"output_type":"multiple_choice",)"
        R"("repeats":1,"should_decontaminate":false})");
}

TEST_CASE("metric defaults per output type, and per metric") {
  auto with_type = [](const std::string& type, const std::string& extra = "") {
    return eval::parse_task_yaml("task: t\ndataset_path: d\ndataset_kwargs: {data_files: {test: x.jsonl}}\ntest_split: test\n"
                                 "doc_to_text: q\ndoc_to_target: a\noutput_type: " + type + "\n" + extra,
                                 "t.yaml");
  };
  const auto ll = with_type("loglikelihood");
  REQUIRE(ll.metrics.size() == 2);
  CHECK(ll.metrics[0].metric == "perplexity");
  CHECK(ll.metrics[0].aggregation == "perplexity");
  CHECK_FALSE(ll.metrics[0].higher_is_better);
  CHECK(ll.metrics[1].metric == "acc");
  const auto rolling = with_type("loglikelihood_rolling");
  REQUIRE(rolling.metrics.size() == 3);
  CHECK(rolling.metrics[0].metric == "word_perplexity");
  CHECK(rolling.metrics[0].aggregation == "weighted_perplexity");
  CHECK(rolling.metrics[1].metric == "byte_perplexity");
  CHECK(rolling.metrics[2].metric == "bits_per_byte");
  CHECK(rolling.metrics[2].aggregation == "bits_per_byte");
  CHECK_FALSE(rolling.metrics[2].higher_is_better);
  const auto gen = with_type("generate_until");
  REQUIRE(gen.metrics.size() == 1);
  CHECK(gen.metrics[0].metric == "exact_match");
  CHECK(gen.generation.until == std::vector<std::string>{"\n\n"});  // the few-shot delimiter
  CHECK(gen.generation.max_gen_toks == 256);
  // No output_type: lm-evaluation-harness's default, generate_until.
  const auto untyped = eval::parse_task_yaml(
      "task: t\ndataset_path: d\ndataset_kwargs: {data_files: {test: x.jsonl}}\ntest_split: test\ndoc_to_text: q\ndoc_to_target: a\n",
      "t.yaml");
  CHECK(untyped.output == eval::output_type::generate_until);
  const auto custom = with_type("generate_until",
                                "metric_list:\n  - metric: exact_match\n    ignore_case: true\n    regexes_to_ignore: [\",\", \"\\\\$\"]\n"
                                "generation_kwargs:\n  until: \"Q:\"\n  max_gen_toks: 32\n  do_sample: false\n  temperature: 0.5\n"
                                "filter_list:\n  - name: strict\n    filter:\n      - function: regex\n        regex_pattern: \"(\\\\d+)\"\n"
                                "        group_select: -1\n      - function: take_first\n");
  REQUIRE(custom.metrics.size() == 1);
  CHECK(custom.metrics[0].ignore_case);
  CHECK_FALSE(custom.metrics[0].ignore_punctuation);
  CHECK(custom.metrics[0].regexes_to_ignore == std::vector<std::string>{",", "\\$"});
  CHECK(custom.generation.until == std::vector<std::string>{"Q:"});
  CHECK(custom.generation.max_gen_toks == 32);
  CHECK(custom.generation.temperature == 0.5);
  REQUIRE(custom.filters.size() == 1);
  CHECK(custom.filters[0].name == "strict");
  REQUIRE(custom.filters[0].steps.size() == 2);
  CHECK(custom.filters[0].steps[0].regex_pattern == "(\\d+)");
  CHECK(custom.filters[0].steps[0].group_select == -1);
  CHECK(custom.filters[0].steps[0].fallback == "[invalid]");
  CHECK(custom.filters[0].steps[1].function == "take_first");
}

TEST_CASE("an unknown key is an error naming the file, the line and the task") {
  const std::string text = std::string(minimal_mc) + "num_fewshots: 5\n";
  CHECK(error_of([&] { eval::parse_task_yaml(text, "suites/demo.yaml"); }) ==
        "suites/demo.yaml:11: unknown key 'num_fewshots' in task 'demo'");
  CHECK(error_of([&] { eval::parse_task_yaml(std::string(minimal_mc) + "generation_kwargs: {top_q: 1}\n", "d.yaml"); })
            .starts_with("d.yaml:11: unknown key 'top_q' in 'generation_kwargs' of task 'demo'"));
}

TEST_CASE("missing required keys, wrong types, bad values") {
  CHECK(error_of([] { eval::parse_task_yaml("dataset_path: d\n", "a.yaml"); }) ==
        "a.yaml: missing required key 'task' (the task's name)");
  const std::string no_choice = R"(task: demo
dataset_path: d
dataset_kwargs: {data_files: {test: t.jsonl}}
test_split: test
output_type: multiple_choice
doc_to_text: q
doc_to_target: a
)";
  CHECK(error_of([&] { eval::parse_task_yaml(no_choice, "b.yaml"); }) ==
        "b.yaml: missing required key 'doc_to_choice' in task 'demo' (output_type multiple_choice)");
  std::string bad_type = minimal_mc;
  bad_type.replace(bad_type.find("multiple_choice"), 15, "multiple_choise");
  CHECK(error_of([&] { eval::parse_task_yaml(bad_type, "c.yaml"); })
            .starts_with("c.yaml:7: output_type 'multiple_choise' in task 'demo' is not one of multiple_choice"));
  CHECK(error_of([] { eval::parse_task_yaml(std::string(minimal_mc) + "num_fewshot: five\n", "d.yaml"); }) ==
        "d.yaml:11: 'num_fewshot' must be an integer");
  CHECK(error_of([] { eval::parse_task_yaml(std::string(minimal_mc) + "metric_list: [{metric: f2}]\n", "e.yaml"); })
            .starts_with("e.yaml:11: unknown metric 'f2'"));
  CHECK(error_of([] { eval::parse_task_yaml(std::string(minimal_mc) + "doc_to_text: [a]\n", "f.yaml"); })
            .starts_with("f.yaml:11: 'doc_to_text' must be a string"));
  std::string no_file = minimal_mc;
  no_file.replace(no_file.find("test: test.jsonl"), 16, "dev: dev.jsonl");
  CHECK(error_of([&] { eval::parse_task_yaml(no_file, "g.yaml"); }) ==
        "g.yaml: test_split 'test' of task 'demo' has no file in dataset_kwargs.data_files");
  CHECK(error_of([] { eval::parse_task_yaml("task: [x\n", "h.yaml"); }).starts_with("h.yaml:"));
  // YAML allows a list or a mapping as a key; a suite file does not (found by fuzz_suite_yaml).
  CHECK(error_of([] { eval::parse_task_yaml(std::string(minimal_mc) + "? [a, b]\n: x\n", "i.yaml"); }) ==
        "i.yaml:11: a key must be text, not a list or a mapping");
  CHECK(error_of([] { eval::parse_group_yaml("group: g\ntask:\n  - t\n? {k: v}\n: 1\n", "j.yaml"); }) ==
        "j.yaml:4: a key must be text, not a list or a mapping");
  CHECK(error_of([] { eval::parse_task_yaml(std::string(minimal_mc) + "metadata: {? [v]: 1}\n", "k.yaml"); })
            .ends_with("a key must be text, not a list or a mapping"));
}

TEST_CASE("Python hooks are refused with the file, the line and what to use instead") {
  const std::string text = std::string(minimal_mc) + "process_docs: !function utils.process_docs\n";
  const std::string message = error_of([&] { eval::parse_task_yaml(text, "hs/hellaswag.yaml"); });
  CHECK(message.starts_with("hs/hellaswag.yaml:11: 'process_docs' is '!function utils.process_docs'"));
  CHECK(message.find("use a built-in name (ai2_arc, hellaswag)") != std::string::npos);
  CHECK(error_of([] { eval::parse_task_yaml(std::string(minimal_mc) + "process_docs: squad\n", "x.yaml"); })
            .starts_with("x.yaml:11: process_docs 'squad' is not a built-in preprocessing"));
}

TEST_CASE("include: inherits every key, then the file's own keys override") {
  suite_dir dir("huashan_eval_suite_include");
  dir.write("_base_yaml", R"(dataset_path: base
dataset_kwargs: {data_files: {test: t.csv}}
test_split: test
output_type: multiple_choice
doc_to_text: "{{question}}"
doc_to_choice: ["A", "B", "C", "D"]
doc_to_target: "{{answer}}"
description: "base\n\n"
metric_list:
  - metric: acc
metadata:
  version: 2.0
)");
  dir.write("sub/child.yaml", "include: ../_base_yaml\ntask: child\ndescription: \"child\\n\\n\"\nnum_fewshot: 5\n");
  const auto sel = eval::load_suites({(dir.path / "sub/child.yaml").string()}, {});
  REQUIRE(sel.tasks.size() == 1);
  const eval::task_config& t = sel.tasks[0];
  CHECK(t.task == "child");
  CHECK(t.dataset_path == "base");
  CHECK(t.description == "child\n\n");
  CHECK(t.num_fewshot == 5);
  CHECK(t.version == 2.0);
  REQUIRE(t.metrics.size() == 1);
  CHECK(t.metrics[0].metric == "acc");
  CHECK(t.file == dir.path / "sub/child.yaml");
  // An unknown key in the included file is reported at its own file and line.
  dir.write("_bad_yaml", "dataset_path: d\nbogus: 1\n");
  dir.write("uses_bad.yaml", "include: _bad_yaml\ntask: x\n");
  CHECK(error_of([&] { eval::load_suites({(dir.path / "uses_bad.yaml").string()}, {}); }) ==
        (dir.path / "_bad_yaml").string() + ":2: unknown key 'bogus' in task 'x'");
  CHECK(error_of([&] { eval::parse_task_yaml("include: nowhere.yaml\ntask: x\n", dir.path / "y.yaml"); })
            .find("included file") != std::string::npos);
}

TEST_CASE("include cycles are errors naming the chain") {
  suite_dir dir("huashan_eval_suite_cycle");
  dir.write("a.yaml", "include: b.yaml\ntask: a\n");
  dir.write("b.yaml", "include: a.yaml\ntask: b\n");
  const std::string message = error_of([&] { eval::load_suites({(dir.path / "a.yaml").string()}, {}); });
  CHECK(message.find("include cycle: a.yaml -> b.yaml -> a.yaml") != std::string::npos);
  CHECK(message.starts_with((dir.path / "b.yaml").string() + ":1:"));
}

TEST_CASE("names: tasks, groups with tags as members, closest names for a typo") {
  suite_dir dir("huashan_eval_suite_names");
  auto task = [&](const std::string& name, const std::string& tag) {
    dir.write("tasks/" + name + ".yaml", "include: ../_t_yaml\ntask: " + name + "\ntag: " + tag + "\n");
  };
  dir.write("_t_yaml", "dataset_path: d\ndataset_kwargs: {data_files: {test: t.jsonl}}\ntest_split: test\n"
                       "output_type: multiple_choice\ndoc_to_text: q\ndoc_to_choice: [a, b]\ndoc_to_target: 0\n");
  task("alpha_one", "alpha_tasks");
  task("alpha_two", "alpha_tasks");
  task("beta_one", "beta_tasks");
  dir.write("alpha.yaml", "group: alpha\ntask: [alpha_tasks]\naggregate_metric_list:\n  - metric: acc\n");
  dir.write("all.yaml", "group: all\ntask: [alpha, beta_one]\naggregate_metric_list:\n  - metric: acc\n    weight_by_size: true\n");
  const std::vector<fs::path> dirs{dir.path};

  const auto all = eval::load_suites({"all"}, dirs);
  REQUIRE(all.groups.size() == 2);
  CHECK(all.groups[0].group == "all");
  CHECK(all.groups[1].group == "alpha");
  CHECK(all.groups[1].task == std::vector<std::string>{"alpha_one", "alpha_two"});  // the tag expanded
  CHECK_FALSE(all.groups[1].aggregate_metric_list.at(0).weight_by_size);  // lm-evaluation-harness's default
  CHECK(all.groups[0].aggregate_metric_list.at(0).weight_by_size);
  REQUIRE(all.tasks.size() == 3);
  CHECK(all.tasks[0].task == "alpha_one");
  CHECK(all.tasks[2].task == "beta_one");

  const auto by_tag = eval::load_suites({"beta_tasks", "beta_one"}, dirs);
  CHECK(by_tag.tasks.size() == 1);  // each task once

  const std::string message = error_of([&] { eval::load_suites({"alpha_tow"}, dirs); });
  CHECK(message.starts_with("unknown suite 'alpha_tow'"));
  CHECK(message.find("closest: alpha_two") != std::string::npos);

  dir.write("loop.yaml", "group: loop\ntask: [loop2]\n");
  dir.write("loop2.yaml", "group: loop2\ntask: [loop]\n");
  // A new folder list is scanned anew (the scan of `dirs` is cached without loop.yaml).
  const std::vector<fs::path> dirs2{dir.path, dir.path / "tasks"};
  CHECK(error_of([&] { eval::load_suites({"loop"}, dirs2); }).find("group cycle: loop -> loop2 -> loop") != std::string::npos);
}

TEST_CASE("group files: members, aggregation, configs shape") {
  const auto g = eval::parse_group_yaml(
      "group: g\ntask: [a, b]\naggregate_metric_list:\n  - metric: acc\n    aggregation: mean\n    weight_by_size: true\n"
      "metadata:\n  version: 2\n",
      "g.yaml");
  CHECK(g.task == std::vector<std::string>{"a", "b"});
  CHECK(g.version == 2.0);
  CHECK(boost::json::serialize(g.as_json) ==
        R"({"group":"g","task":["a","b"],"aggregate_metric_list":[{"metric":"acc","aggregation":"mean",)"
        R"("weight_by_size":true,"filter_list":["none"]}],"metadata":{"version":2}})");
  CHECK(error_of([] { eval::parse_group_yaml("group: g\ntask: [a]\nweights: 1\n", "g.yaml"); }) ==
        "g.yaml:3: unknown key 'weights' in group 'g'");
  CHECK(error_of([] { eval::parse_group_yaml("group: g\n", "g.yaml"); }) ==
        "g.yaml: missing required key 'task' (the member list) in group 'g'");
  CHECK(error_of([] { eval::parse_task_yaml("group: old_style_tag\ntask: t\n", "t.yaml"); })
            .starts_with("t.yaml:1: unknown key 'group' in task 't': a task joins others with 'tag'"));
}

TEST_CASE("data files: under --data-dir/dataset_path, else beside the suite file") {
  suite_dir dir("huashan_eval_suite_paths");
  dir.write("data/ds/test.jsonl", "{\"q\": 1}\n{\"q\": 2}\n");
  dir.write("suites/local.jsonl", "{\"q\": 3}\n");
  auto t = eval::parse_task_yaml(
      "task: t\ndataset_path: ds\ndataset_kwargs: {data_files: {test: test.jsonl, shots: local.jsonl}}\n"
      "test_split: test\nfewshot_split: shots\ndoc_to_text: q\ndoc_to_target: a\n",
      dir.path / "suites/t.yaml");
  CHECK(eval::data_file_path(t, "test", dir.path / "data") == dir.path / "data/ds/test.jsonl");
  CHECK(eval::load_split(t, "test", dir.path / "data").size() == 2);
  CHECK(eval::load_split(t, "shots", dir.path / "data").at(0).at("q").as_int64() == 3);
  const std::string missing = error_of([&] { eval::load_split(t, "test", {}); });
  CHECK(missing.find("the test split's data file is missing") != std::string::npos);
  CHECK(missing.find("pass --data-dir") != std::string::npos);
  CHECK(error_of([&] { eval::load_split(t, "train", dir.path / "data"); }).find("no file for split 'train'") != std::string::npos);
}
