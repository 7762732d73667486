#include "harness/eval/dataset.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <fmt/format.h>

#include <fstream>
#include <iterator>
#include <sstream>

#include "common/error.hpp"

namespace huashan::harness::eval {
namespace {

std::string read_whole_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw input_error(fmt::format("{}: cannot open the dataset file", file.string()));
  std::ostringstream text;
  text << in.rdbuf();
  return std::move(text).str();
}

std::string_view without_bom(std::string_view text) {
  constexpr std::string_view bom = "\xEF\xBB\xBF";
  if (text.starts_with(bom)) text.remove_prefix(bom.size());
  return text;
}

struct csv_row {
  std::vector<std::string> fields;
  std::size_t line = 0;  // where the row starts, 1-based
};

// Splits the whole text into rows at once because quoted fields may hold line
// breaks, so a row is not a line.
std::vector<csv_row> split_rows(std::string_view text, char delimiter, const std::string& name) {
  std::vector<csv_row> rows;
  std::size_t line = 1;
  std::size_t i = 0;
  while (i < text.size()) {
    csv_row row;
    row.line = line;
    std::string field;
    bool row_done = false;
    while (!row_done) {
      field.clear();
      if (i < text.size() && text[i] == '"') {
        const std::size_t quote_line = line;
        ++i;
        for (;;) {
          if (i >= text.size())
            throw input_error(fmt::format("{}:{}: a quoted field is not closed before the end of the file", name, quote_line));
          const char c = text[i];
          if (c == '"') {
            if (i + 1 < text.size() && text[i + 1] == '"') {
              field += '"';
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          if (c == '\n') ++line;
          field += c;
          ++i;
        }
        if (i < text.size() && text[i] != delimiter && text[i] != '\n' && text[i] != '\r')
          throw input_error(fmt::format("{}:{}: text after a closing quote (a quote inside a quoted field is written \"\")", name, line));
      } else {
        while (i < text.size() && text[i] != delimiter && text[i] != '\n' && text[i] != '\r') field += text[i++];
      }
      row.fields.push_back(field);
      if (i >= text.size()) {
        row_done = true;
      } else if (text[i] == delimiter) {
        ++i;
      } else {
        if (text[i] == '\r') ++i;
        if (i < text.size() && text[i] == '\n') ++i;
        ++line;
        row_done = true;
      }
    }
    // A blank line (one empty unquoted field) is no record, as CSV readers treat it.
    if (row.fields.size() == 1 && row.fields[0].empty()) continue;
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace

std::vector<document> parse_delimited(std::string_view text, char delimiter, const std::vector<std::string>& column_names,
                                      const std::string& name) {
  std::vector<csv_row> rows = split_rows(without_bom(text), delimiter, name);
  std::vector<std::string> columns = column_names;
  std::size_t first = 0;
  if (columns.empty()) {
    if (rows.empty()) throw input_error(fmt::format("{}: empty file, expected a header row", name));
    columns = rows[0].fields;
    first = 1;
  }
  std::vector<document> docs;
  docs.reserve(rows.size() - first);
  for (std::size_t r = first; r < rows.size(); ++r) {
    const csv_row& row = rows[r];
    if (row.fields.size() != columns.size())
      throw input_error(fmt::format("{}:{}: {} fields, expected {} ({})", name, row.line, row.fields.size(), columns.size(),
                                    column_names.empty() ? "the header's" : "column_names'"));
    document doc;
    for (std::size_t c = 0; c < columns.size(); ++c) doc[columns[c]] = row.fields[c];
    docs.push_back(std::move(doc));
  }
  return docs;
}

std::vector<document> parse_json_lines(std::string_view text, const std::string& name) {
  text = without_bom(text);
  std::vector<document> docs;
  const std::size_t start = text.find_first_not_of(" \t\r\n");
  if (start != std::string_view::npos && text[start] == '[') {
    boost::system::error_code ec;
    boost::json::value all = boost::json::parse(text, ec);
    if (ec || !all.is_array())
      throw input_error(fmt::format("{}: not a JSON array of objects ({})", name, ec ? ec.message() : "not an array"));
    for (std::size_t k = 0; k < all.as_array().size(); ++k) {
      const auto& v = all.as_array()[k];
      if (!v.is_object()) throw input_error(fmt::format("{}: element {} is not a JSON object", name, k));
      docs.push_back(v.as_object());
    }
    return docs;
  }
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(line, ec);
    if (ec) throw input_error(fmt::format("{}:{}: not valid JSON ({})", name, line_no, ec.message()));
    if (!v.is_object()) throw input_error(fmt::format("{}:{}: a JSON line must be an object", name, line_no));
    docs.push_back(std::move(v.as_object()));
  }
  return docs;
}

std::vector<document> read_json_lines(const std::filesystem::path& file) {
  return parse_json_lines(read_whole_file(file), file.string());
}

std::vector<document> read_delimited(const std::filesystem::path& file, char delimiter,
                                     const std::vector<std::string>& column_names) {
  return parse_delimited(read_whole_file(file), delimiter, column_names, file.string());
}

std::vector<document> read_dataset_file(const std::filesystem::path& file, const std::vector<std::string>& column_names) {
  const std::string ext = file.extension().string();
  if (ext == ".jsonl" || ext == ".json") {
    if (!column_names.empty())
      throw input_error(fmt::format("{}: column_names applies to CSV and TSV files, not JSON", file.string()));
    return read_json_lines(file);
  }
  if (ext == ".csv") return read_delimited(file, ',', column_names);
  if (ext == ".tsv") return read_delimited(file, '\t', column_names);
  throw input_error(fmt::format("{}: unknown dataset format '{}', expected .jsonl, .json, .csv or .tsv", file.string(), ext));
}

}  // namespace huashan::harness::eval
