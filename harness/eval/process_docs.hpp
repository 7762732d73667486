// Built-in document preprocessing, named by a suite's `process_docs` key.
// lm-evaluation-harness runs Python here (`!function utils.process_docs`);
// suites name one of these instead, each reproducing one such function.
#pragma once

#include <boost/json/object.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace huashan::harness::eval {

using document = boost::json::object;

// The names process_docs accepts, for error messages and docs.
const std::vector<std::string>& process_docs_names();
bool is_process_docs_name(std::string_view name);

// Applies the named preprocessing to every document. input_error naming
// `source` (the data file) and the document's index when a field it needs is
// missing or has the wrong type.
std::vector<document> apply_process_docs(std::string_view name, std::vector<document> docs, const std::string& source);

// HellaSwag's text clean-up (lm-evaluation-harness's hellaswag preprocess):
// strip, " [title]" -> ". ", drop bracketed tags, "  " -> " ".
std::string hellaswag_preprocess(std::string_view text);

}  // namespace huashan::harness::eval
