// Reads suite YAML files (lm-evaluation-harness task files, the common subset)
// and the documents of their splits. Every error names the file and the key,
// line or record that is wrong.
#pragma once

#include <boost/json/object.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "harness/eval/suite_config.hpp"

namespace huashan::harness::eval {

// Every task and group the requested names reach (a group brings its members,
// recursively), each once, in the order first reached.
struct suite_selection {
  std::vector<task_config> tasks;
  std::vector<group_config> groups;
};

// `names` are task or group names (found among the *.yaml files under
// `search_dirs`, recursively) or paths of YAML files. input_error naming the
// file, line and key: unknown key, wrong type, missing required key, include
// cycle, unknown name (listing close names).
suite_selection load_suites(const std::vector<std::string>& names, const std::vector<std::filesystem::path>& search_dirs);

// One task from YAML text (tests); `file` is used for errors and relative includes.
task_config parse_task_yaml(const std::string& yaml_text, const std::filesystem::path& file);
// One group from YAML text (tests); members are kept as written (tags not expanded).
group_config parse_group_yaml(const std::string& yaml_text, const std::filesystem::path& file);

using document = boost::json::object;

// Where `split`'s file is: data_files' path under `data_dir`/dataset_path
// (dataset_path relative), else beside the suite file (in its folder, then
// in dataset_path under it), the first that exists; for lm-evaluation-harness's local-file builders
// (dataset_path json, csv or text) always beside the suite file. input_error
// naming the places looked at when none has it.
std::filesystem::path data_file_path(const task_config& task, const std::string& split, const std::filesystem::path& data_dir);

// The documents of `split` (one of the config's split names): data_files'
// file for it under `data_dir`/dataset_path, read as JSON lines, CSV or TSV
// (first row the header unless dataset_kwargs.column_names is given; fields
// are strings), then process_docs applied.
// input_error naming the path when missing, and file:line for a bad record.
std::vector<document> load_split(const task_config& task, const std::string& split, const std::filesystem::path& data_dir);

}  // namespace huashan::harness::eval
