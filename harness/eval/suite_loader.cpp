#include "harness/eval/suite_loader.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>

#include "common/error.hpp"
#include "harness/eval/dataset.hpp"
#include "harness/eval/process_docs.hpp"

namespace huashan::harness::eval {
namespace {

namespace fs = std::filesystem;

// ---- YAML files with include: inheritance -----------------------------------

// One top-level key's value and where it was written (an included file's
// keys keep their own file, so errors point at the line to fix).
struct yaml_entry {
  YAML::Node value;
  YAML::Mark key_mark;
  fs::path file;
};

struct resolved_yaml {
  fs::path file;                           // the file asked for (the last of the include chain)
  std::vector<std::string> order;          // keys in first-written order
  std::map<std::string, yaml_entry> entries;

  const yaml_entry* find(const std::string& key) const {
    auto it = entries.find(key);
    return it == entries.end() ? nullptr : &it->second;
  }
};

std::string where(const fs::path& file, const YAML::Mark& mark) {
  if (mark.is_null()) return file.string();
  return fmt::format("{}:{}", file.string(), mark.line + 1);
}

[[noreturn]] void fail_at(const fs::path& file, const YAML::Mark& mark, const std::string& what) {
  throw input_error(fmt::format("{}: {}", where(file, mark), what));
}

// A mapping key's text. YAML allows any node as a key ("? [a, b]: x"), and
// yaml-cpp's as<std::string>() throws its own exception for those.
std::string key_text(const YAML::Node& key, const fs::path& file) {
  if (!key.IsScalar()) fail_at(file, key.Mark(), "a key must be text, not a list or a mapping");
  return key.Scalar();
}

YAML::Node parse_yaml_text(const std::string& text, const fs::path& file) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    fail_at(file, e.mark, fmt::format("not valid YAML: {}", e.msg));
  }
}

std::string read_text_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw input_error(fmt::format("{}: cannot open the suite file", file.string()));
  std::ostringstream text;
  text << in.rdbuf();
  return std::move(text).str();
}

resolved_yaml resolve_node(const YAML::Node& root, const fs::path& file, std::vector<fs::path>& chain);

resolved_yaml resolve_file(const fs::path& file, std::vector<fs::path>& chain, const fs::path& from,
                           const YAML::Mark& from_mark) {
  std::error_code ec;
  const fs::path canonical = fs::weakly_canonical(file, ec);
  const fs::path key = ec ? file : canonical;
  if (std::find(chain.begin(), chain.end(), key) != chain.end()) {
    std::vector<std::string> names;
    for (const auto& p : chain) names.push_back(p.filename().string());
    names.push_back(key.filename().string());
    fail_at(from, from_mark, fmt::format("include cycle: {}", fmt::join(names, " -> ")));
  }
  if (!fs::is_regular_file(file)) {
    if (from.empty()) throw input_error(fmt::format("{}: no such suite file", file.string()));
    fail_at(from, from_mark, fmt::format("included file '{}' does not exist", file.string()));
  }
  chain.push_back(key);
  resolved_yaml out = resolve_node(parse_yaml_text(read_text_file(file), file), file, chain);
  chain.pop_back();
  return out;
}

// The included file's keys first, then this file's, which override them.
resolved_yaml resolve_node(const YAML::Node& root, const fs::path& file, std::vector<fs::path>& chain) {
  resolved_yaml out;
  out.file = file;
  if (!root || root.IsNull()) throw input_error(fmt::format("{}: the suite file is empty", file.string()));
  if (!root.IsMap()) fail_at(file, root.Mark(), "a suite file must be a mapping of keys to values");
  for (const auto& kv : root) {
    if (key_text(kv.first, file) != "include") continue;
    if (!kv.second.IsScalar()) fail_at(file, kv.second.Mark(), "'include' must be a file path (a string)");
    const fs::path included = file.parent_path() / kv.second.as<std::string>();
    out = resolve_file(included, chain, file, kv.second.Mark());
    out.file = file;
  }
  for (const auto& kv : root) {
    const std::string key = key_text(kv.first, file);
    if (key == "include") continue;
    if (!out.entries.contains(key)) out.order.push_back(key);
    out.entries[key] = yaml_entry{kv.second, kv.first.Mark(), file};
  }
  return out;
}

resolved_yaml resolve_path(const fs::path& file) {
  std::vector<fs::path> chain;
  return resolve_file(file, chain, {}, YAML::Mark::null_mark());
}

// ---- typed values ----------------------------------------------------------

struct value_reader {
  const yaml_entry& entry;
  std::string key;  // dotted, for messages

  [[noreturn]] void fail(const std::string& what) const { fail_at(entry.file, entry.value.Mark(), what); }
  [[noreturn]] void fail(const YAML::Node& node, const std::string& what) const { fail_at(entry.file, node.Mark(), what); }

  void no_python(const YAML::Node& node) const {
    if (node.Tag() == "!function")
      fail(node, fmt::format("'{}' is '!function {}', Python code, which this project does not run; {}", key,
                             node.IsScalar() ? node.Scalar() : "...",
                             key == "process_docs"
                                 ? fmt::format("use a built-in name ({})", fmt::join(process_docs_names(), ", "))
                                 : std::string("write it as a Jinja template or use a built-in process_docs")));
  }

  std::string string(const YAML::Node& node, const std::string& name) const {
    no_python(node);
    if (!node.IsScalar()) fail(node, fmt::format("'{}' must be a string", name));
    return node.Scalar();
  }
  std::string string() const { return string(entry.value, key); }
  bool is_null() const { return entry.value.IsNull(); }

  std::int64_t integer(const YAML::Node& node, const std::string& name) const {
    no_python(node);
    std::int64_t v = 0;
    if (!node.IsScalar() || !YAML::convert<std::int64_t>::decode(node, v))
      fail(node, fmt::format("'{}' must be an integer", name));
    return v;
  }
  double number(const YAML::Node& node, const std::string& name) const {
    no_python(node);
    double v = 0;
    if (!node.IsScalar() || !YAML::convert<double>::decode(node, v)) fail(node, fmt::format("'{}' must be a number", name));
    return v;
  }
  bool boolean(const YAML::Node& node, const std::string& name) const {
    no_python(node);
    bool v = false;
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, v))
      fail(node, fmt::format("'{}' must be true or false", name));
    return v;
  }
  // A string or a list of strings (lm-evaluation-harness accepts both for tag, until, ...).
  std::vector<std::string> strings(const YAML::Node& node, const std::string& name) const {
    no_python(node);
    if (node.IsNull()) return {};
    if (node.IsScalar()) return {node.Scalar()};
    if (!node.IsSequence()) fail(node, fmt::format("'{}' must be a string or a list of strings", name));
    std::vector<std::string> out;
    for (const auto& item : node) out.push_back(string(item, name + " item"));
    return out;
  }
  void map_keys(const YAML::Node& node, const std::string& name, const std::vector<std::string>& known,
                const std::string& owner) const {
    if (!node.IsMap()) fail(node, fmt::format("'{}' must be a mapping", name));
    for (const auto& kv : node) {
      const std::string k = key_text(kv.first, entry.file);
      if (std::find(known.begin(), known.end(), k) == known.end())
        fail(kv.first, fmt::format("unknown key '{}' in '{}' of {} (known: {})", k, name, owner, fmt::join(known, ", ")));
    }
  }
};

// metadata.version as the YAML writes it: 2 stays an integer, 2.0 a number.
boost::json::value version_json(const YAML::Node& node, double version) {
  std::int64_t whole = 0;
  if (YAML::convert<std::int64_t>::decode(node, whole)) return whole;
  return version;
}

std::optional<std::string> optional_string(const resolved_yaml& y, const std::string& key) {
  const yaml_entry* e = y.find(key);
  if (e == nullptr || e->value.IsNull()) return std::nullopt;
  return value_reader{*e, key}.string();
}

// ---- metric and output-type defaults (lm-evaluation-harness's) ---------------

struct metric_defaults {
  const char* aggregation;
  bool higher_is_better;
};
const std::map<std::string, metric_defaults>& known_metrics() {
  static const std::map<std::string, metric_defaults> metrics = {
      {"acc", {"mean", true}},
      {"acc_norm", {"mean", true}},
      {"exact_match", {"mean", true}},
      {"perplexity", {"perplexity", false}},
      {"word_perplexity", {"weighted_perplexity", false}},
      {"byte_perplexity", {"weighted_perplexity", false}},
      {"bits_per_byte", {"bits_per_byte", false}},
  };
  return metrics;
}
const std::vector<std::string>& known_aggregations() {
  static const std::vector<std::string> names = {"mean", "perplexity", "weighted_perplexity", "bits_per_byte"};
  return names;
}

std::vector<std::string> default_metric_names(output_type type) {
  switch (type) {
    case output_type::multiple_choice: return {"acc", "acc_norm"};
    case output_type::loglikelihood: return {"perplexity", "acc"};
    case output_type::loglikelihood_rolling: return {"word_perplexity", "byte_perplexity", "bits_per_byte"};
    case output_type::generate_until: return {"exact_match"};
  }
  return {};
}

const char* output_type_name(output_type type) {
  switch (type) {
    case output_type::multiple_choice: return "multiple_choice";
    case output_type::loglikelihood: return "loglikelihood";
    case output_type::loglikelihood_rolling: return "loglikelihood_rolling";
    case output_type::generate_until: return "generate_until";
  }
  return "";
}

metric_spec default_metric(const std::string& name) {
  metric_spec spec;
  spec.metric = name;
  const auto& d = known_metrics().at(name);
  spec.aggregation = d.aggregation;
  spec.higher_is_better = d.higher_is_better;
  return spec;
}

const std::vector<std::string> filter_functions = {"regex", "take_first", "majority_vote", "lowercase", "uppercase", "strip"};

// ---- task files ---------------------------------------------------------------

const std::vector<std::string> task_keys = {
    "task", "task_alias", "tag", "dataset_path", "dataset_name", "dataset_kwargs", "training_split", "validation_split",
    "test_split", "fewshot_split", "process_docs", "doc_to_text", "doc_to_target", "doc_to_choice", "description",
    "target_delimiter", "fewshot_delimiter", "output_type", "num_fewshot", "fewshot_config", "generation_kwargs",
    "filter_list", "metric_list", "metadata", "should_decontaminate", "doc_to_decontamination_query", "repeats",
    "circular"};

// Keys lm-evaluation-harness has and this project does not run; named so the
// error says "not supported" rather than "unknown".
const std::vector<std::string> unsupported_task_keys = {"custom_dataset", "process_results", "use_prompt", "unsafe_code",
                                                        "gen_prefix", "multiple_input", "doc_to_image", "doc_to_audio"};

// A string template or field name; lm-evaluation-harness also allows an int
// (a fixed target index), kept as its text.
std::string template_value(const value_reader& r) {
  r.no_python(r.entry.value);
  if (!r.entry.value.IsScalar()) r.fail(fmt::format("'{}' must be a string (a Jinja template or a field name)", r.key));
  return r.entry.value.Scalar();
}

void parse_metric_list(const value_reader& r, task_config& cfg, boost::json::array& json) {
  if (!r.entry.value.IsSequence()) r.fail("'metric_list' must be a list of {metric: ...} entries");
  for (const auto& item : r.entry.value) {
    r.map_keys(item, "metric_list",
               {"metric", "aggregation", "higher_is_better", "ignore_case", "ignore_punctuation", "regexes_to_ignore"},
               fmt::format("task '{}'", cfg.task));
    if (!item["metric"]) r.fail(item, "a metric_list entry needs 'metric'");
    const std::string name = r.string(item["metric"], "metric");
    if (!known_metrics().contains(name)) {
      std::vector<std::string> names;
      for (const auto& [k, v] : known_metrics()) names.push_back(k);
      r.fail(item["metric"], fmt::format("unknown metric '{}' (supported: {})", name, fmt::join(names, ", ")));
    }
    metric_spec spec = default_metric(name);
    boost::json::object j{{"metric", name}};
    if (item["aggregation"]) {
      spec.aggregation = r.string(item["aggregation"], "aggregation");
      const auto& aggs = known_aggregations();
      if (std::find(aggs.begin(), aggs.end(), spec.aggregation) == aggs.end())
        r.fail(item["aggregation"], fmt::format("unknown aggregation '{}' (supported: {})", spec.aggregation, fmt::join(aggs, ", ")));
    }
    j["aggregation"] = spec.aggregation;
    if (item["higher_is_better"]) spec.higher_is_better = r.boolean(item["higher_is_better"], "higher_is_better");
    j["higher_is_better"] = spec.higher_is_better;
    if (item["ignore_case"]) {
      spec.ignore_case = r.boolean(item["ignore_case"], "ignore_case");
      j["ignore_case"] = spec.ignore_case;
    }
    if (item["ignore_punctuation"]) {
      spec.ignore_punctuation = r.boolean(item["ignore_punctuation"], "ignore_punctuation");
      j["ignore_punctuation"] = spec.ignore_punctuation;
    }
    if (item["regexes_to_ignore"]) {
      spec.regexes_to_ignore = r.strings(item["regexes_to_ignore"], "regexes_to_ignore");
      boost::json::array a;
      for (const auto& s : spec.regexes_to_ignore) a.emplace_back(s);
      j["regexes_to_ignore"] = std::move(a);
    }
    cfg.metrics.push_back(std::move(spec));
    json.push_back(std::move(j));
  }
}

void parse_filter_list(const value_reader& r, task_config& cfg, boost::json::array& json) {
  if (!r.entry.value.IsSequence()) r.fail("'filter_list' must be a list of {name, filter: [...]} entries");
  for (const auto& item : r.entry.value) {
    r.map_keys(item, "filter_list", {"name", "filter"}, fmt::format("task '{}'", cfg.task));
    if (!item["name"] || !item["filter"]) r.fail(item, "a filter_list entry needs 'name' and 'filter'");
    filter_pipeline pipeline;
    pipeline.name = r.string(item["name"], "name");
    const YAML::Node& steps = item["filter"];
    if (!steps.IsSequence()) r.fail(steps, "'filter' must be a list of {function: ...} steps");
    boost::json::array steps_json;
    for (const auto& step_node : steps) {
      r.map_keys(step_node, "filter", {"function", "regex_pattern", "group_select", "fallback"},
                 fmt::format("task '{}'", cfg.task));
      if (!step_node["function"]) r.fail(step_node, "a filter step needs 'function'");
      filter_step step;
      step.function = r.string(step_node["function"], "function");
      if (std::find(filter_functions.begin(), filter_functions.end(), step.function) == filter_functions.end())
        r.fail(step_node["function"],
               fmt::format("unknown filter function '{}' (supported: {})", step.function, fmt::join(filter_functions, ", ")));
      boost::json::object sj{{"function", step.function}};
      if (step.function == "regex") {
        if (step_node["regex_pattern"]) step.regex_pattern = r.string(step_node["regex_pattern"], "regex_pattern");
        else step.regex_pattern = R"(#### (\-?[0-9\.\,]+))";  // lm-evaluation-harness's RegexFilter default
        sj["regex_pattern"] = step.regex_pattern;
        if (step_node["group_select"]) {
          step.group_select = static_cast<std::int32_t>(r.integer(step_node["group_select"], "group_select"));
          sj["group_select"] = step.group_select;
        }
        if (step_node["fallback"]) {
          step.fallback = r.string(step_node["fallback"], "fallback");
          sj["fallback"] = step.fallback;
        }
      } else if (step_node["regex_pattern"] || step_node["group_select"] || step_node["fallback"]) {
        r.fail(step_node, fmt::format("regex_pattern, group_select and fallback belong to the 'regex' filter, not '{}'", step.function));
      }
      pipeline.steps.push_back(std::move(step));
      steps_json.push_back(std::move(sj));
    }
    json.push_back(boost::json::object{{"name", pipeline.name}, {"filter", std::move(steps_json)}});
    cfg.filters.push_back(std::move(pipeline));
  }
}

// The `circular` block (this project's extension): which fields hold the
// options and the gold. Checked here for shape; each document's values are
// checked when its rotations are made.
circular_config parse_circular(const value_reader& r, const task_config& cfg, boost::json::object& json) {
  const std::string owner = fmt::format("task '{}'", cfg.task);
  const YAML::Node& node = r.entry.value;
  if (!node.IsMap())
    r.fail(fmt::format("'circular' of {} must be a mapping, e.g. {{choice_fields: [A, B, C, D], answer_field: answer}}",
                       owner));
  r.map_keys(node, "circular", {"choice_fields", "choices_field", "answer_field", "answer_format", "labels_field"}, owner);
  circular_config c;
  if (node["choice_fields"] && node["choices_field"])
    r.fail(node, fmt::format("'circular' of {} has both choice_fields and choices_field; give one", owner));
  if (node["choice_fields"]) {
    const YAML::Node& fields = node["choice_fields"];
    if (!fields.IsSequence())
      r.fail(fields, fmt::format("'circular.choice_fields' of {} must be a list of field names, e.g. [A, B, C, D]", owner));
    c.choice_fields = r.strings(fields, "circular.choice_fields");
    if (c.choice_fields.size() < 2)
      r.fail(fields, fmt::format("'circular.choice_fields' of {} must name at least two fields", owner));
    std::set<std::string> distinct(c.choice_fields.begin(), c.choice_fields.end());
    if (distinct.size() != c.choice_fields.size())
      r.fail(fields, fmt::format("'circular.choice_fields' of {} names a field twice", owner));
    boost::json::array a;
    for (const auto& f : c.choice_fields) a.emplace_back(f);
    json["choice_fields"] = std::move(a);
  } else if (node["choices_field"]) {
    c.choices_field = r.string(node["choices_field"], "circular.choices_field");
    if (c.choices_field.empty()) r.fail(node["choices_field"], fmt::format("'circular.choices_field' of {} is empty", owner));
    json["choices_field"] = c.choices_field;
  } else {
    r.fail(node, fmt::format("'circular' of {} needs choice_fields (one field per option) or choices_field (one list "
                             "field)", owner));
  }
  if (!node["answer_field"])
    r.fail(node, fmt::format("'circular' of {} needs answer_field (the field holding the gold)", owner));
  c.answer_field = r.string(node["answer_field"], "circular.answer_field");
  if (std::find(c.choice_fields.begin(), c.choice_fields.end(), c.answer_field) != c.choice_fields.end())
    r.fail(node["answer_field"], fmt::format("'circular.answer_field' of {} is also one of choice_fields", owner));
  json["answer_field"] = c.answer_field;
  if (node["answer_format"]) {
    c.answer_format = r.string(node["answer_format"], "circular.answer_format");
    if (c.answer_format != "letter" && c.answer_format != "index" && c.answer_format != "label")
      r.fail(node["answer_format"], fmt::format("'circular.answer_format' '{}' of {} is not one of letter, index, label",
                                                c.answer_format, owner));
  }
  json["answer_format"] = c.answer_format;
  if (node["labels_field"]) {
    if (c.answer_format != "label")
      r.fail(node["labels_field"], fmt::format("'circular.labels_field' of {} belongs to answer_format label", owner));
    c.labels_field = r.string(node["labels_field"], "circular.labels_field");
    json["labels_field"] = c.labels_field;
  } else if (c.answer_format == "label") {
    r.fail(node, fmt::format("'circular' of {} has answer_format label and needs labels_field (the labels' list)", owner));
  }
  if (cfg.output != output_type::multiple_choice)
    r.fail(node, fmt::format("'circular' of {} applies to output_type multiple_choice only", owner));
  return c;
}

task_config build_task(const resolved_yaml& y) {
  task_config cfg;
  cfg.file = y.file;
  const yaml_entry* task_entry = y.find("task");
  if (task_entry == nullptr) throw input_error(fmt::format("{}: missing required key 'task' (the task's name)", y.file.string()));
  cfg.task = value_reader{*task_entry, "task"}.string();
  const std::string owner = fmt::format("task '{}'", cfg.task);

  for (const auto& key : y.order) {
    const yaml_entry& e = y.entries.at(key);
    if (std::find(task_keys.begin(), task_keys.end(), key) != task_keys.end()) continue;
    if (std::find(unsupported_task_keys.begin(), unsupported_task_keys.end(), key) != unsupported_task_keys.end())
      fail_at(e.file, e.key_mark, fmt::format("key '{}' in {} is not supported (docs/suites.md lists the supported keys)", key, owner));
    if (key == "group")
      fail_at(e.file, e.key_mark,
              fmt::format("unknown key 'group' in {}: a task joins others with 'tag'; a group file has 'group' and a list 'task'", owner));
    fail_at(e.file, e.key_mark, fmt::format("unknown key '{}' in {}", key, owner));
  }

  auto reader = [&](const std::string& key) -> std::optional<value_reader> {
    const yaml_entry* e = y.find(key);
    if (e == nullptr) return std::nullopt;
    return value_reader{*e, key};
  };
  auto str = [&](const std::string& key, std::string& out) {
    if (auto v = optional_string(y, key)) out = *v;
  };

  str("task_alias", cfg.task_alias);
  if (auto r = reader("tag")) cfg.tag = r->strings(r->entry.value, "tag");
  str("dataset_path", cfg.dataset_path);
  str("dataset_name", cfg.dataset_name);
  boost::json::object dataset_kwargs_json;
  if (auto r = reader("dataset_kwargs"); r && !r->is_null()) {
    const YAML::Node& node = r->entry.value;
    r->map_keys(node, "dataset_kwargs", {"data_files", "column_names"}, owner);
    if (const YAML::Node files = node["data_files"]) {
      if (!files.IsMap())
        r->fail(files, "'dataset_kwargs.data_files' must map split names to files, e.g. {test: test.jsonl}");
      boost::json::object files_json;
      for (const auto& kv : files) {
        const std::string split = key_text(kv.first, r->entry.file);
        cfg.data_files[split] = r->string(kv.second, "data_files." + split);
        files_json[split] = cfg.data_files[split];
      }
      dataset_kwargs_json["data_files"] = std::move(files_json);
    }
    if (const YAML::Node columns = node["column_names"]) {
      if (!columns.IsSequence()) r->fail(columns, "'dataset_kwargs.column_names' must be a list of column names");
      cfg.column_names = r->strings(columns, "column_names");
      boost::json::array a;
      for (const auto& c : cfg.column_names) a.emplace_back(c);
      dataset_kwargs_json["column_names"] = std::move(a);
    }
  }
  str("training_split", cfg.training_split);
  str("validation_split", cfg.validation_split);
  str("test_split", cfg.test_split);
  str("fewshot_split", cfg.fewshot_split);
  if (auto r = reader("process_docs"); r && !r->is_null()) {
    cfg.process_docs = r->string();
    if (!is_process_docs_name(cfg.process_docs))
      r->fail(fmt::format("process_docs '{}' is not a built-in preprocessing (known: {})", cfg.process_docs,
                          fmt::join(process_docs_names(), ", ")));
  }
  if (auto r = reader("doc_to_text"); r && !r->is_null()) cfg.doc_to_text = template_value(*r);
  if (auto r = reader("doc_to_target"); r && !r->is_null()) cfg.doc_to_target = template_value(*r);
  boost::json::value choice_json;
  if (auto r = reader("doc_to_choice"); r && !r->is_null()) {
    const YAML::Node& node = r->entry.value;
    r->no_python(node);
    if (node.IsSequence()) {
      boost::json::array a;
      for (const auto& item : node) a.emplace_back(r->string(item, "doc_to_choice item"));
      cfg.doc_to_choice = boost::json::serialize(a);
      choice_json = std::move(a);
    } else {
      cfg.doc_to_choice = template_value(*r);
      choice_json = *cfg.doc_to_choice;
    }
  }
  str("description", cfg.description);
  str("target_delimiter", cfg.target_delimiter);
  str("fewshot_delimiter", cfg.fewshot_delimiter);

  // lm-evaluation-harness's TaskConfig defaults output_type to generate_until.
  cfg.output = output_type::generate_until;
  if (auto r = reader("output_type")) {
    const std::string name = r->string();
    const std::map<std::string, output_type> types = {{"multiple_choice", output_type::multiple_choice},
                                                      {"generate_until", output_type::generate_until},
                                                      {"loglikelihood", output_type::loglikelihood},
                                                      {"loglikelihood_rolling", output_type::loglikelihood_rolling}};
    auto it = types.find(name);
    if (it == types.end())
      r->fail(fmt::format("output_type '{}' in {} is not one of multiple_choice, generate_until, loglikelihood, "
                          "loglikelihood_rolling",
                          name, owner));
    cfg.output = it->second;
  }
  if (auto r = reader("num_fewshot"); r && !r->is_null()) {
    const std::int64_t n = r->integer(r->entry.value, "num_fewshot");
    if (n < 0) r->fail("'num_fewshot' must be 0 or more");
    cfg.num_fewshot = static_cast<std::int32_t>(n);
  }
  if (auto r = reader("fewshot_config"); r && !r->is_null()) {
    r->map_keys(r->entry.value, "fewshot_config", {"sampler"}, owner);
    if (const YAML::Node sampler = r->entry.value["sampler"]) {
      cfg.fewshot_sampler = r->string(sampler, "fewshot_config.sampler");
      if (cfg.fewshot_sampler != "default" && cfg.fewshot_sampler != "first_n")
        r->fail(sampler, fmt::format("fewshot_config.sampler '{}' is not one of default, first_n", cfg.fewshot_sampler));
    }
  }
  bool has_generation_kwargs = false;
  if (auto r = reader("generation_kwargs"); r && !r->is_null()) {
    has_generation_kwargs = true;
    const YAML::Node& node = r->entry.value;
    r->map_keys(node, "generation_kwargs", {"until", "max_gen_toks", "temperature", "do_sample"}, owner);
    if (node["until"]) cfg.generation.until = r->strings(node["until"], "until");
    if (node["max_gen_toks"]) {
      const std::int64_t n = r->integer(node["max_gen_toks"], "max_gen_toks");
      if (n < 1) r->fail(node["max_gen_toks"], "'max_gen_toks' must be 1 or more");
      cfg.generation.max_gen_toks = static_cast<std::int32_t>(n);
    }
    if (node["temperature"]) cfg.generation.temperature = r->number(node["temperature"], "temperature");
    if (node["do_sample"]) cfg.generation.do_sample = r->boolean(node["do_sample"], "do_sample");
  }
  // lm-evaluation-harness stops a generation at the few-shot delimiter when no `until` is given.
  if (cfg.output == output_type::generate_until && cfg.generation.until.empty())
    cfg.generation.until = {cfg.fewshot_delimiter};

  boost::json::array filters_json;
  if (auto r = reader("filter_list"); r && !r->is_null()) parse_filter_list(*r, cfg, filters_json);
  if (cfg.filters.empty()) cfg.filters.push_back(filter_pipeline{"none", {}});

  boost::json::array metrics_json;
  if (auto r = reader("metric_list"); r && !r->is_null()) parse_metric_list(*r, cfg, metrics_json);
  if (cfg.metrics.empty()) {
    for (const auto& name : default_metric_names(cfg.output)) {
      metric_spec spec = default_metric(name);
      metrics_json.push_back(boost::json::object{
          {"metric", spec.metric}, {"aggregation", spec.aggregation}, {"higher_is_better", spec.higher_is_better}});
      cfg.metrics.push_back(std::move(spec));
    }
  }
  boost::json::object metadata_json;
  if (auto r = reader("metadata"); r && !r->is_null()) {
    const YAML::Node& node = r->entry.value;
    if (!node.IsMap()) r->fail("'metadata' must be a mapping, e.g. {version: 1.0}");
    for (const auto& kv : node) {
      const std::string k = key_text(kv.first, r->entry.file);
      if (k == "version") {
        cfg.version = r->number(kv.second, "metadata.version");
        metadata_json["version"] = version_json(kv.second, cfg.version);
      } else if (kv.second.IsScalar()) {
        metadata_json[k] = kv.second.Scalar();
      }
    }
  }
  if (auto r = reader("should_decontaminate"); r && !r->is_null())
    cfg.should_decontaminate = r->boolean(r->entry.value, "should_decontaminate");
  str("doc_to_decontamination_query", cfg.doc_to_decontamination_query);
  if (auto r = reader("repeats"); r && !r->is_null()) {
    cfg.repeats = static_cast<std::int32_t>(r->integer(r->entry.value, "repeats"));
    if (cfg.repeats != 1) r->fail("'repeats' other than 1 is not supported");
  }

  boost::json::object circular_json;
  if (auto r = reader("circular"); r && !r->is_null()) cfg.circular = parse_circular(*r, cfg, circular_json);

  // Required keys, and what the output type needs.
  auto missing = [&](const std::string& key, const std::string& why) {
    throw input_error(fmt::format("{}: missing required key '{}' in {}{}", y.file.string(), key, owner, why));
  };
  if (cfg.dataset_path.empty()) missing("dataset_path", "");
  if (cfg.test_split.empty() && cfg.validation_split.empty())
    missing("test_split", " (or validation_split): the split that is scored");
  if (cfg.doc_to_text.empty() && cfg.output != output_type::loglikelihood_rolling) missing("doc_to_text", "");
  if (cfg.doc_to_target.empty()) missing("doc_to_target", "");
  if (cfg.output == output_type::multiple_choice && !cfg.doc_to_choice) missing("doc_to_choice", " (output_type multiple_choice)");
  if (has_generation_kwargs && cfg.output != output_type::generate_until) {
    const yaml_entry& e = y.entries.at("generation_kwargs");
    fail_at(e.file, e.key_mark, fmt::format("'generation_kwargs' in {} applies to output_type generate_until only", owner));
  }
  for (const auto& [role, split] : {std::pair<const char*, const std::string&>{"test_split", cfg.test_split},
                                    {"validation_split", cfg.validation_split},
                                    {"fewshot_split", cfg.fewshot_split}}) {
    if (!split.empty() && !cfg.data_files.contains(split))
      throw input_error(fmt::format("{}: {} '{}' of {} has no file in dataset_kwargs.data_files", y.file.string(), role,
                                    split, owner));
  }

  // The resolved config in lm-evaluation-harness's results "configs" shape (unset keys left out).
  boost::json::object& j = cfg.as_json;
  j["task"] = cfg.task;
  if (!cfg.task_alias.empty()) j["task_alias"] = cfg.task_alias;
  if (!cfg.tag.empty()) {
    boost::json::array a;
    for (const auto& t : cfg.tag) a.emplace_back(t);
    j["tag"] = std::move(a);
  }
  j["dataset_path"] = cfg.dataset_path;
  if (!cfg.dataset_name.empty()) j["dataset_name"] = cfg.dataset_name;
  if (!dataset_kwargs_json.empty()) j["dataset_kwargs"] = std::move(dataset_kwargs_json);
  if (!cfg.training_split.empty()) j["training_split"] = cfg.training_split;
  if (!cfg.validation_split.empty()) j["validation_split"] = cfg.validation_split;
  if (!cfg.test_split.empty()) j["test_split"] = cfg.test_split;
  if (!cfg.fewshot_split.empty()) j["fewshot_split"] = cfg.fewshot_split;
  if (!cfg.process_docs.empty()) j["process_docs"] = cfg.process_docs;
  if (!cfg.doc_to_text.empty()) j["doc_to_text"] = cfg.doc_to_text;
  j["doc_to_target"] = cfg.doc_to_target;
  if (cfg.doc_to_choice) j["doc_to_choice"] = std::move(choice_json);
  j["description"] = cfg.description;
  j["target_delimiter"] = cfg.target_delimiter;
  j["fewshot_delimiter"] = cfg.fewshot_delimiter;
  j["fewshot_config"] = boost::json::object{{"sampler", cfg.fewshot_sampler}};
  j["num_fewshot"] = cfg.num_fewshot;
  j["metric_list"] = std::move(metrics_json);
  j["output_type"] = output_type_name(cfg.output);
  if (cfg.output == output_type::generate_until) {
    boost::json::array until;
    for (const auto& u : cfg.generation.until) until.emplace_back(u);
    j["generation_kwargs"] = boost::json::object{{"until", std::move(until)},
                                                 {"max_gen_toks", cfg.generation.max_gen_toks},
                                                 {"temperature", cfg.generation.temperature},
                                                 {"do_sample", cfg.generation.do_sample}};
  }
  j["repeats"] = cfg.repeats;
  if (!filters_json.empty()) j["filter_list"] = std::move(filters_json);
  j["should_decontaminate"] = cfg.should_decontaminate;
  if (!cfg.doc_to_decontamination_query.empty()) j["doc_to_decontamination_query"] = cfg.doc_to_decontamination_query;
  if (!metadata_json.empty()) j["metadata"] = std::move(metadata_json);
  if (cfg.circular) j["circular"] = std::move(circular_json);
  return cfg;
}

// ---- group files ---------------------------------------------------------------

group_config build_group(const resolved_yaml& y) {
  group_config cfg;
  cfg.file = y.file;
  cfg.group = value_reader{y.entries.at("group"), "group"}.string();
  const std::string owner = fmt::format("group '{}'", cfg.group);
  const std::vector<std::string> keys = {"group", "group_alias", "task", "aggregate_metric_list", "metadata"};
  for (const auto& key : y.order) {
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      const yaml_entry& e = y.entries.at(key);
      fail_at(e.file, e.key_mark, fmt::format("unknown key '{}' in {}", key, owner));
    }
  }
  if (auto v = optional_string(y, "group_alias")) cfg.group_alias = *v;
  const yaml_entry* members = y.find("task");
  if (members == nullptr) throw input_error(fmt::format("{}: missing required key 'task' (the member list) in {}", y.file.string(), owner));
  const value_reader mr{*members, "task"};
  if (!members->value.IsSequence()) mr.fail(fmt::format("'task' of {} must be a list of task, group or tag names", owner));
  for (const auto& item : members->value) {
    if (item.IsMap()) mr.fail(item, "inline task definitions in a group are not supported; write the task in its own file and name it here");
    cfg.task.push_back(mr.string(item, "task item"));
  }
  boost::json::array aggregate_json;
  if (const yaml_entry* e = y.find("aggregate_metric_list"); e != nullptr && !e->value.IsNull()) {
    const value_reader r{*e, "aggregate_metric_list"};
    const YAML::Node& node = e->value;
    if (!node.IsSequence() && !node.IsMap()) r.fail("'aggregate_metric_list' must be a list of {metric, aggregation, weight_by_size}");
    std::vector<YAML::Node> items;
    if (node.IsMap()) items.push_back(node);
    else for (const auto& item : node) items.push_back(item);
    for (const auto& item : items) {
      r.map_keys(item, "aggregate_metric_list", {"metric", "aggregation", "weight_by_size", "filter_list"}, owner);
      if (!item["metric"]) r.fail(item, "an aggregate_metric_list entry needs 'metric'");
      group_metric gm;
      gm.metric = r.string(item["metric"], "metric");
      if (item["aggregation"]) gm.aggregation = r.string(item["aggregation"], "aggregation");
      if (gm.aggregation != "mean") r.fail(item["aggregation"], "a group's aggregation must be 'mean'");
      // lm-evaluation-harness's AggMetricConfig defaults weight_by_size to false.
      gm.weight_by_size = item["weight_by_size"] ? r.boolean(item["weight_by_size"], "weight_by_size") : false;
      if (item["filter_list"]) gm.filter_list = r.strings(item["filter_list"], "filter_list");
      boost::json::array filters;
      for (const auto& f : gm.filter_list) filters.emplace_back(f);
      aggregate_json.push_back(boost::json::object{{"metric", gm.metric},
                                                   {"aggregation", gm.aggregation},
                                                   {"weight_by_size", gm.weight_by_size},
                                                   {"filter_list", std::move(filters)}});
      cfg.aggregate_metric_list.push_back(std::move(gm));
    }
  }
  boost::json::object metadata_json;
  if (const yaml_entry* e = y.find("metadata"); e != nullptr && !e->value.IsNull()) {
    const value_reader r{*e, "metadata"};
    if (!e->value.IsMap()) r.fail("'metadata' must be a mapping, e.g. {version: 1.0}");
    if (e->value["version"]) {
      cfg.version = r.number(e->value["version"], "metadata.version");
      metadata_json["version"] = version_json(e->value["version"], cfg.version);
    }
  }
  boost::json::object& j = cfg.as_json;
  j["group"] = cfg.group;
  if (!cfg.group_alias.empty()) j["group_alias"] = cfg.group_alias;
  boost::json::array task_json;
  for (const auto& t : cfg.task) task_json.emplace_back(t);
  j["task"] = std::move(task_json);
  if (!aggregate_json.empty()) j["aggregate_metric_list"] = std::move(aggregate_json);
  if (!metadata_json.empty()) j["metadata"] = std::move(metadata_json);
  return cfg;
}

// A group file has `group` and a member list; a task file that still says
// `group: x` (lm-evaluation-harness's old spelling of a tag) has a task name.
bool is_group_file(const resolved_yaml& y) {
  if (!y.entries.contains("group")) return false;
  const yaml_entry* task = y.find("task");
  return task == nullptr || task->value.IsSequence();
}

// ---- finding suites by name --------------------------------------------------------

struct suite_index {
  std::map<std::string, std::vector<fs::path>> tasks;   // name -> files (more than one: ambiguous)
  std::map<std::string, std::vector<fs::path>> groups;
  std::map<std::string, std::vector<std::string>> tags;  // tag -> task names, in scan order
  std::map<std::string, std::vector<fs::path>> stems;   // file name without .yaml -> files
  std::vector<std::string> unreadable;                  // "FILE: why"
};

suite_index scan(const std::vector<fs::path>& dirs) {
  suite_index index;
  std::vector<fs::path> files;
  for (const auto& dir : dirs) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::follow_directory_symlink, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) break;
      const auto ext = it->path().extension();
      if (it->is_regular_file() && (ext == ".yaml" || ext == ".yml")) files.push_back(it->path());
    }
  }
  // Overlapping folders (one inside another) list a file twice; it is one definition.
  std::set<fs::path> seen;
  std::vector<fs::path> unique_files;
  for (const auto& file : files) {
    std::error_code ec;
    const fs::path canonical = fs::weakly_canonical(file, ec);
    if (seen.insert(ec ? file : canonical).second) unique_files.push_back(file);
  }
  files = std::move(unique_files);
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    try {
      const resolved_yaml y = resolve_path(file);
      index.stems[file.stem().string()].push_back(file);
      if (is_group_file(y)) {
        index.groups[value_reader{y.entries.at("group"), "group"}.string()].push_back(file);
      } else if (auto name = optional_string(y, "task")) {
        index.tasks[*name].push_back(file);
        if (const yaml_entry* tag = y.find("tag"))
          for (const auto& t : value_reader{*tag, "tag"}.strings(tag->value, "tag")) index.tags[t].push_back(*name);
      }
    } catch (const input_error& e) {
      index.unreadable.push_back(e.what());
    }
  }
  return index;
}

const suite_index& cached_index(const std::vector<fs::path>& dirs) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<suite_index>> cache;
  std::string key;
  for (const auto& d : dirs) {
    std::error_code ec;
    key += fs::weakly_canonical(d, ec).string() + '\n';
  }
  std::lock_guard lock(mutex);
  auto& slot = cache[key];
  if (!slot) slot = std::make_unique<suite_index>(scan(dirs));
  return *slot;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

[[noreturn]] void unknown_name(const std::string& name, const suite_index& index, const std::vector<fs::path>& dirs) {
  std::vector<std::pair<std::size_t, std::string>> scored;
  auto consider = [&](const auto& map) {
    for (const auto& [candidate, unused] : map) scored.emplace_back(edit_distance(name, candidate), candidate);
  };
  consider(index.tasks);
  consider(index.groups);
  consider(index.tags);
  std::sort(scored.begin(), scored.end());
  scored.erase(std::unique(scored.begin(), scored.end()), scored.end());
  std::vector<std::string> closest;
  for (std::size_t i = 0; i < scored.size() && closest.size() < 5; ++i) closest.push_back(scored[i].second);
  std::vector<std::string> dir_names;
  for (const auto& d : dirs) dir_names.push_back(d.string());
  std::string message = fmt::format("unknown suite '{}': no task, group, tag or file of that name under {}", name,
                                    dir_names.empty() ? std::string("(no suite folders)") : fmt::format("{}", fmt::join(dir_names, ", ")));
  if (!closest.empty()) message += fmt::format("; closest: {}", fmt::join(closest, ", "));
  if (!index.unreadable.empty())
    message += fmt::format(" ({} suite files could not be read, e.g. {})", index.unreadable.size(), index.unreadable.front());
  throw input_error(message);
}

const fs::path& only_file(const std::string& kind, const std::string& name, const std::vector<fs::path>& files) {
  if (files.size() > 1) {
    std::vector<std::string> paths;
    for (const auto& f : files) paths.push_back(f.string());
    throw input_error(fmt::format("{} '{}' is defined in more than one file: {}", kind, name, fmt::join(paths, ", ")));
  }
  return files.front();
}

class selection_builder {
 public:
  selection_builder(const suite_index& index, const std::vector<fs::path>& dirs) : index_(index), dirs_(dirs) {}

  void add_name(const std::string& name, std::vector<std::string>& group_chain) {
    const fs::path as_path(name);
    const auto ext = as_path.extension();
    if ((ext == ".yaml" || ext == ".yml" || name.find('/') != std::string::npos) && fs::is_regular_file(as_path)) {
      add_file(as_path, group_chain);
    } else if (auto g = index_.groups.find(name); g != index_.groups.end()) {
      add_file(only_file("group", name, g->second), group_chain);
    } else if (auto t = index_.tasks.find(name); t != index_.tasks.end()) {
      add_file(only_file("task", name, t->second), group_chain);
    } else if (auto tag = index_.tags.find(name); tag != index_.tags.end()) {
      for (const auto& member : tag->second) add_name(member, group_chain);
    } else if (auto s = index_.stems.find(name); s != index_.stems.end()) {
      add_file(only_file("suite file", name, s->second), group_chain);
    } else {
      unknown_name(name, index_, dirs_);
    }
  }

  suite_selection take() { return std::move(selection_); }

 private:
  void add_file(const fs::path& file, std::vector<std::string>& group_chain) {
    const resolved_yaml y = resolve_path(file);
    if (!is_group_file(y)) {
      task_config task = build_task(y);
      if (seen_tasks_.insert(task.task).second) selection_.tasks.push_back(std::move(task));
      return;
    }
    group_config group = build_group(y);
    if (std::find(group_chain.begin(), group_chain.end(), group.group) != group_chain.end()) {
      group_chain.push_back(group.group);
      throw input_error(fmt::format("{}: group cycle: {}", file.string(), fmt::join(group_chain, " -> ")));
    }
    // A tag among the members stands for its tasks, as lm-evaluation-harness expands it.
    std::vector<std::string> members;
    for (const auto& m : group.task) {
      auto tag = index_.tags.find(m);
      if (!index_.groups.contains(m) && !index_.tasks.contains(m) && tag != index_.tags.end())
        members.insert(members.end(), tag->second.begin(), tag->second.end());
      else
        members.push_back(m);
    }
    group.task = members;
    boost::json::array task_json;
    for (const auto& t : members) task_json.emplace_back(t);
    group.as_json["task"] = std::move(task_json);
    const bool first = seen_groups_.insert(group.group).second;
    const std::string name = group.group;
    if (first) selection_.groups.push_back(std::move(group));
    group_chain.push_back(name);
    for (const auto& m : members) add_name(m, group_chain);
    group_chain.pop_back();
  }

  const suite_index& index_;
  const std::vector<fs::path>& dirs_;
  suite_selection selection_;
  std::set<std::string> seen_tasks_;
  std::set<std::string> seen_groups_;
};

// Dataset "builders" of lm-evaluation-harness's local-file idiom (dataset_path:
// json + data_files): their files are relative to the suite's own folder.
bool is_builder_name(const std::string& dataset_path) {
  return dataset_path == "json" || dataset_path == "csv" || dataset_path == "text";
}

}  // namespace

suite_selection load_suites(const std::vector<std::string>& names, const std::vector<std::filesystem::path>& search_dirs) {
  const suite_index& index = cached_index(search_dirs);
  selection_builder builder(index, search_dirs);
  for (const auto& name : names) {
    std::vector<std::string> chain;
    builder.add_name(name, chain);
  }
  return builder.take();
}

std::vector<fs::path> chain_of(const fs::path& file) {
  std::error_code ec;
  const fs::path canonical = fs::weakly_canonical(file, ec);
  return {ec ? file : canonical};
}

task_config parse_task_yaml(const std::string& yaml_text, const std::filesystem::path& file) {
  std::vector<fs::path> chain = chain_of(file);
  const resolved_yaml y = resolve_node(parse_yaml_text(yaml_text, file), file, chain);
  if (is_group_file(y)) throw input_error(fmt::format("{}: a group file, expected a task", file.string()));
  return build_task(y);
}

group_config parse_group_yaml(const std::string& yaml_text, const std::filesystem::path& file) {
  std::vector<fs::path> chain = chain_of(file);
  const resolved_yaml y = resolve_node(parse_yaml_text(yaml_text, file), file, chain);
  if (!is_group_file(y)) throw input_error(fmt::format("{}: expected a group file (keys 'group' and a list 'task')", file.string()));
  return build_group(y);
}

std::filesystem::path data_file_path(const task_config& task, const std::string& split, const std::filesystem::path& data_dir) {
  auto it = task.data_files.find(split);
  if (it == task.data_files.end())
    throw input_error(fmt::format("{}: task '{}' has no file for split '{}' in dataset_kwargs.data_files", task.file.string(),
                                  task.task, split));
  const fs::path relative(it->second);
  if (relative.is_absolute()) return relative;
  const fs::path suite_dir = task.file.parent_path();
  if (is_builder_name(task.dataset_path)) return suite_dir / relative;
  const fs::path dataset(task.dataset_path);
  if (dataset.is_absolute()) return dataset / relative;
  std::vector<fs::path> tried;
  if (!data_dir.empty()) tried.push_back(data_dir / dataset / relative);
  // A file the suite ships with its YAML (few-shot exemplars, project-written data).
  tried.push_back(suite_dir / relative);
  tried.push_back(suite_dir / dataset / relative);
  for (const auto& candidate : tried)
    if (fs::is_regular_file(candidate)) return candidate;
  std::vector<std::string> names;
  for (const auto& t : tried) names.push_back(t.string());
  throw input_error(fmt::format("task '{}' ({}): the {} split's data file is missing (looked for {}){}", task.task,
                                task.file.string(), split, fmt::join(names, ", "),
                                data_dir.empty() ? "; pass --data-dir, the folder that holds the dataset folder '" +
                                                       task.dataset_path + "' (docs/suites.md)"
                                                 : ""));
}

std::vector<document> load_split(const task_config& task, const std::string& split, const std::filesystem::path& data_dir) {
  const fs::path file = data_file_path(task, split, data_dir);
  if (!fs::is_regular_file(file))
    throw input_error(fmt::format("task '{}' ({}): the {} split's data file {} does not exist", task.task, task.file.string(),
                                  split, file.string()));
  return apply_process_docs(task.process_docs, read_dataset_file(file, task.column_names), file.string());
}

}  // namespace huashan::harness::eval
