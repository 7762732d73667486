// `huashan eval compare A B`: reads two runs written by `huashan eval --output`
// (results.json and the samples_{task}.jsonl beside it), compares them document
// by document and prints the differences with their intervals and p-values.
#include <boost/json.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli/commands.hpp"
#include "common/error.hpp"
#include "harness/eval/compare.hpp"
#include "harness/eval/python_text.hpp"

namespace huashan::cli {

namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using harness::eval::metric_difference;

// A folder given by --output stands for the results.json in it.
fs::path results_path(const fs::path& given) {
  std::error_code ec;
  if (fs::is_directory(given, ec)) return given / "results.json";
  if (!fs::exists(given, ec))
    throw input_error(fmt::format("{}: no such file or folder (expected a results.json or a folder written by eval --output)", given.string()));
  return given;
}

std::string read_text(const fs::path& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw input_error(fmt::format("{}: cannot open ({})", path.string(), what));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

json::object parse_object(const std::string& text, const std::string& where) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) throw input_error(fmt::format("{}: not JSON: {}", where, ec.message()));
  if (!v.is_object()) throw input_error(fmt::format("{}: expected a JSON object", where));
  return std::move(v.get_object());
}

std::vector<json::object> read_samples(const fs::path& path, const std::string& task) {
  std::error_code ec;
  if (!fs::exists(path, ec))
    throw input_error(fmt::format("{}: missing (the samples of task '{}', written beside results.json by eval --output)", path.string(), task));
  std::istringstream lines(read_text(path, fmt::format("the samples of task '{}'", task)));
  std::vector<json::object> out;
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    out.push_back(parse_object(line, fmt::format("{}:{}", path.string(), number)));
  }
  return out;
}

std::string fixed4(std::optional<double> x) { return x ? fmt::format("{:.4f}", *x) : "N/A"; }

std::string p_text(std::optional<double> p) {
  if (!p) return "N/A";
  return *p < 1e-4 ? "<0.0001" : fmt::format("{:.4f}", *p);
}

// Code points, so Chinese task names line up as characters.
std::size_t text_width(const std::string& s) {
  std::size_t n = 0;
  for (const unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string table(const std::vector<metric_difference>& rows, const char* first_header) {
  const std::vector<std::string> headers = {first_header, "Filter", "Metric", "n", "A", "B", "A-B", "95% CI", "p", "Test"};
  const std::vector<bool> right = {false, false, false, true, true, true, true, true, true, false};
  std::vector<std::vector<std::string>> cells;
  for (const auto& d : rows) {
    const std::string interval = d.ci_low ? fmt::format("[{:.4f}, {:.4f}]", *d.ci_low, *d.ci_high) : "N/A";
    cells.push_back({d.name, d.filter, d.metric, std::to_string(d.n), fixed4(d.mean_a), fixed4(d.mean_b), fmt::format("{:+.4f}", d.difference),
                     interval, p_text(d.p_value), d.test == harness::eval::paired_test::mcnemar ? "mcnemar" : "paired-t"});
  }
  std::vector<std::size_t> width(headers.size());
  for (std::size_t c = 0; c < headers.size(); ++c) {
    width[c] = std::max<std::size_t>(text_width(headers[c]), 3);
    for (const auto& row : cells) width[c] = std::max(width[c], text_width(row[c]));
  }
  auto line = [&](const std::vector<std::string>& v) {
    std::string s = "|";
    for (std::size_t c = 0; c < v.size(); ++c) {
      const std::string pad(width[c] - text_width(v[c]), ' ');
      s += (right[c] ? pad + v[c] : v[c] + pad) + "|";
    }
    return s + "\n";
  };
  std::string out = line(headers) + "|";
  for (std::size_t c = 0; c < headers.size(); ++c) out += std::string(width[c] - (right[c] ? 1 : 0), '-') + (right[c] ? ":" : "") + "|";
  out += "\n";
  for (const auto& row : cells) out += line(row);
  return out;
}

}  // namespace

int run_eval_compare(const global_options& /*global*/, const eval_compare_options& options) {
  harness::eval::run_for_comparison runs[2];
  const fs::path* given[2] = {&options.run_a, &options.run_b};
  fs::path results_files[2];
  for (int side = 0; side < 2; ++side) {
    results_files[side] = results_path(*given[side]);
    runs[side].results = parse_object(read_text(results_files[side], "results.json of an eval run"), results_files[side].string());
  }
  for (const auto& task : harness::eval::check_comparable_prompts(runs[0].results, runs[1].results))
    for (int side = 0; side < 2; ++side)
      runs[side].samples[task] = read_samples(results_files[side].parent_path() / ("samples_" + task + ".jsonl"), task);

  const auto comparison = harness::eval::compare_runs(runs[0], runs[1]);
  std::string out = fmt::format("A: {}\nB: {}\n\n", results_files[0].string(), results_files[1].string());
  out += table(comparison.tasks, "Tasks");
  if (!comparison.groups.empty()) out += "\n" + table(comparison.groups, "Groups");
  for (const auto& note : comparison.notes) out += "note: " + note + "\n";
  std::fputs(out.c_str(), stdout);

  if (options.json_output) {
    const auto text = harness::eval::python_json_dumps(harness::eval::comparison_json(comparison, runs[0], runs[1]), 2) + "\n";
    std::ofstream file(*options.json_output, std::ios::binary | std::ios::trunc);
    file << text;
    file.flush();
    if (!file) throw io_error(fmt::format("{}: cannot write", options.json_output->string()));
  }
  return 0;
}

}  // namespace huashan::cli
