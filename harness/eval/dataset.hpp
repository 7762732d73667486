// Readers of the dataset files suites point at: JSON lines, CSV and TSV, in
// the layouts datasets are published in. Every record becomes a JSON object;
// CSV/TSV fields stay strings, as a CSV loader that infers no types gives them.
#pragma once

#include <boost/json/object.hpp>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace huashan::harness::eval {

using document = boost::json::object;

// One JSON object per line (blank lines skipped), or a whole-file JSON array
// of objects when the first character is '['. input_error "FILE:LINE: ..." for
// a line that is not a JSON object.
std::vector<document> read_json_lines(const std::filesystem::path& file);

// RFC 4180 CSV (or TSV with delimiter '\t'): fields may be quoted with '"',
// a quote inside a quoted field is doubled, quoted fields may span lines;
// CRLF or LF line ends; a UTF-8 byte order mark is skipped. The first row is
// the header unless `column_names` is given (then every row is a record).
// input_error "FILE:LINE: ..." for a record whose field count differs from
// the columns', or an unterminated quote.
std::vector<document> read_delimited(const std::filesystem::path& file, char delimiter,
                                     const std::vector<std::string>& column_names = {});

// The same on text in memory; `name` is what errors call the file.
std::vector<document> parse_delimited(std::string_view text, char delimiter, const std::vector<std::string>& column_names,
                                      const std::string& name);
std::vector<document> parse_json_lines(std::string_view text, const std::string& name);

// Chooses the reader by extension: .jsonl/.json, .csv, .tsv.
std::vector<document> read_dataset_file(const std::filesystem::path& file, const std::vector<std::string>& column_names = {});

}  // namespace huashan::harness::eval
