// A suite (an lm-evaluation-harness "task") as its YAML file describes it,
// after `include:` inheritance: where its documents come from, how a document
// becomes a prompt and choices, what the model is asked, how answers are
// filtered and scored. Plain data; suite_loader.hpp reads it, task.hpp uses it.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace huashan::harness::eval {

enum class output_type { multiple_choice, generate_until, loglikelihood, loglikelihood_rolling };

struct filter_step {
  std::string function;        // regex | take_first | majority_vote | lowercase | uppercase | strip
  std::string regex_pattern;   // regex: the pattern (PCRE2)
  std::int32_t group_select = 0;  // regex: which match (negative counts from the end)
  std::string fallback = "[invalid]";  // regex: the answer when nothing matches
};
struct filter_pipeline {
  std::string name;  // "none" is the identity lm-evaluation-harness adds when no filter_list is given
  std::vector<filter_step> steps;
};

struct metric_spec {
  std::string metric;  // acc | acc_norm | exact_match | perplexity | word_perplexity | byte_perplexity | bits_per_byte
  std::string aggregation;  // mean | perplexity | weighted_perplexity | bits_per_byte ("" = the metric's default)
  bool higher_is_better = true;
  bool ignore_case = false;         // exact_match
  bool ignore_punctuation = false;  // exact_match
  std::vector<std::string> regexes_to_ignore;  // exact_match
};

struct generation_kwargs {
  std::vector<std::string> until;
  std::int32_t max_gen_toks = 256;
  double temperature = 0.0;
  bool do_sample = false;
};

// CircularEval (docs/suites.md, "circular"): where a multiple-choice
// document keeps its option texts and its gold, so that the options can be
// rotated and the question asked once per rotation.
struct circular_config {
  std::vector<std::string> choice_fields;  // one field per option, in label order (C-Eval's A, B, C, D)
  std::string choices_field;               // or one field holding the list ("choices"; "choices.text" reaches into an object)
  std::string answer_field;                // the gold
  std::string answer_format = "letter";    // letter (A = the first option) | index (0-based) | label (one of labels_field's)
  std::string labels_field;                // answer_format label: the labels the gold is one of (they stay in place)
};

struct task_config {
  std::string task;                     // the name results are keyed by
  std::string task_alias;               // a shorter name for tables ("" = task)
  std::filesystem::path file;           // the YAML it came from (errors name it)
  std::vector<std::string> tag;         // tags (groups without their own aggregate)
  std::string dataset_path;             // folder under --data-dir (or beside the YAML when relative and present)
  std::string dataset_name;             // a subset name, as lm-evaluation-harness's
  std::map<std::string, std::string> data_files;  // split -> file (jsonl, json lines, csv, tsv), relative to dataset_path
  // dataset_kwargs.column_names: the columns of a header-less CSV/TSV (its
  // first row is then a record); empty = the first row is the header.
  std::vector<std::string> column_names;
  std::string process_docs;             // a built-in document preprocessing by name ("" = none), e.g. "hellaswag"
  std::string test_split;
  std::string validation_split;
  std::string training_split;
  std::string fewshot_split;
  std::string description;              // Jinja, rendered with the document
  std::string doc_to_text;              // Jinja or a field name
  std::string doc_to_target;            // Jinja or a field name
  std::optional<std::string> doc_to_choice;  // Jinja, a field name, or a YAML list (kept as its JSON text, "[...]")
  std::string target_delimiter = " ";
  std::string fewshot_delimiter = "\n\n";
  output_type output = output_type::multiple_choice;
  std::int32_t num_fewshot = 0;
  std::string fewshot_sampler = "default";  // default (seeded random, as lm-evaluation-harness) | first_n
  std::uint64_t fewshot_seed = 1234;
  generation_kwargs generation;
  std::vector<filter_pipeline> filters;  // at least {"none", {}}
  std::vector<metric_spec> metrics;
  double version = 0.0;                 // metadata.version
  bool should_decontaminate = false;
  std::string doc_to_decontamination_query;
  std::int32_t repeats = 1;             // only 1 is supported
  std::optional<circular_config> circular;  // how the options rotate in a circular run (none: the task has no circular form)
  boost::json::object as_json;          // the resolved config, for results' "configs"
};

// A group: its member tasks (or groups) and how their metrics combine.
struct group_metric {
  std::string metric;       // e.g. "acc"
  std::string aggregation = "mean";
  bool weight_by_size = true;  // size-weighted (true) or plain average of the members
  std::vector<std::string> filter_list = {"none"};
};
struct group_config {
  std::string group;
  std::string group_alias;
  std::filesystem::path file;
  std::vector<std::string> task;  // member names, in order
  std::vector<group_metric> aggregate_metric_list;
  double version = 0.0;
  boost::json::object as_json;
};

}  // namespace huashan::harness::eval
