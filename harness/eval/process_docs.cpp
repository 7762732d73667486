#include "harness/eval/process_docs.hpp"

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>

#include "common/error.hpp"

namespace huashan::harness::eval {
namespace {

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
  std::size_t pos = 0;
  while ((pos = text.find(from, pos)) != std::string::npos) {
    text.replace(pos, from.size(), to);
    pos += to.size();
  }
  return text;
}

// Python's str.strip(): whitespace at both ends (ASCII whitespace is all that
// HellaSwag's English text has).
std::string_view strip(std::string_view text) {
  constexpr std::string_view space = " \t\n\r\f\v";
  const std::size_t first = text.find_first_not_of(space);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(space) - first + 1);
}

// Python's str.capitalize() on ASCII letters: the first upper, the rest lower.
std::string capitalize(std::string_view text) {
  std::string out(text);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(out[i]);
    if (c >= 0x80) continue;
    out[i] = static_cast<char>(i == 0 ? std::toupper(c) : std::tolower(c));
  }
  return out;
}

// re.sub("\[.*?\]", "", text): each '[' up to the nearest following ']' (on
// the same line, since '.' does not match a newline).
std::string remove_bracketed(std::string_view text) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '[') {
      std::size_t close = i + 1;
      while (close < text.size() && text[close] != ']' && text[close] != '\n') ++close;
      if (close < text.size() && text[close] == ']') {
        i = close + 1;
        continue;
      }
    }
    out += text[i++];
  }
  return out;
}

const boost::json::value& field(const document& doc, std::string_view key, std::size_t index, const std::string& source,
                                std::string_view process) {
  const boost::json::value* v = doc.if_contains(key);
  if (v == nullptr)
    throw input_error(fmt::format("{}: document {}: process_docs '{}' needs the field '{}'", source, index, process, key));
  return *v;
}

const std::string text_field(const document& doc, std::string_view key, std::size_t index, const std::string& source,
                             std::string_view process) {
  const boost::json::value& v = field(doc, key, index, source, process);
  if (!v.is_string())
    throw input_error(fmt::format("{}: document {}: field '{}' must be a string for process_docs '{}'", source, index, key, process));
  return std::string(v.as_string());
}

// lm-evaluation-harness's hellaswag/utils.py process_docs: adds query,
// choices and gold to each document.
document hellaswag_doc(document doc, std::size_t index, const std::string& source) {
  constexpr std::string_view name = "hellaswag";
  const std::string ctx = text_field(doc, "ctx_a", index, source, name) + " " + capitalize(text_field(doc, "ctx_b", index, source, name));
  const std::string query = hellaswag_preprocess(text_field(doc, "activity_label", index, source, name) + ": " + ctx);
  const boost::json::value& endings = field(doc, "endings", index, source, name);
  if (!endings.is_array())
    throw input_error(fmt::format("{}: document {}: field 'endings' must be a list for process_docs 'hellaswag'", source, index));
  boost::json::array choices;
  for (const auto& ending : endings.as_array()) {
    if (!ending.is_string())
      throw input_error(fmt::format("{}: document {}: 'endings' must hold strings", source, index));
    choices.emplace_back(hellaswag_preprocess(ending.as_string()));
  }
  // int(doc["label"]): the original file has a number, the Hugging Face copy a string.
  const boost::json::value& label = field(doc, "label", index, source, name);
  std::int64_t gold = 0;
  if (label.is_int64()) {
    gold = label.as_int64();
  } else if (label.is_string()) {
    try {
      gold = std::stoll(std::string(label.as_string()));
    } catch (const std::exception&) {
      throw input_error(fmt::format("{}: document {}: 'label' is not a number", source, index));
    }
  } else {
    throw input_error(fmt::format("{}: document {}: 'label' must be a number", source, index));
  }
  doc["query"] = query;
  doc["choices"] = std::move(choices);
  doc["gold"] = gold;
  return doc;
}

// AI2's ARC JSON lines ({id, question: {stem, choices: [{text, label}]},
// answerKey}) in the Hugging Face allenai/ai2_arc shape lm-evaluation-harness's
// arc YAML reads: question is the stem, choices = {text: [...], label: [...]}.
document ai2_arc_doc(document doc, std::size_t index, const std::string& source) {
  constexpr std::string_view name = "ai2_arc";
  const boost::json::value& question = field(doc, "question", index, source, name);
  if (!question.is_object())
    throw input_error(fmt::format("{}: document {}: 'question' must be an object {{stem, choices}} for process_docs 'ai2_arc'", source, index));
  const std::string stem = text_field(question.as_object(), "stem", index, source, name);
  const boost::json::value& choices = field(question.as_object(), "choices", index, source, name);
  if (!choices.is_array())
    throw input_error(fmt::format("{}: document {}: 'question.choices' must be a list", source, index));
  boost::json::array texts;
  boost::json::array labels;
  for (const auto& choice : choices.as_array()) {
    if (!choice.is_object())
      throw input_error(fmt::format("{}: document {}: each of 'question.choices' must be an object {{text, label}}", source, index));
    texts.emplace_back(text_field(choice.as_object(), "text", index, source, name));
    labels.emplace_back(text_field(choice.as_object(), "label", index, source, name));
  }
  text_field(doc, "answerKey", index, source, name);
  doc["question"] = stem;
  doc["choices"] = boost::json::object{{"text", std::move(texts)}, {"label", std::move(labels)}};
  return doc;
}

}  // namespace

std::string hellaswag_preprocess(std::string_view text) {
  std::string out(strip(text));
  out = replace_all(std::move(out), " [title]", ". ");
  out = remove_bracketed(out);
  return replace_all(std::move(out), "  ", " ");
}

const std::vector<std::string>& process_docs_names() {
  static const std::vector<std::string> names = {"ai2_arc", "hellaswag"};
  return names;
}

bool is_process_docs_name(std::string_view name) {
  const auto& names = process_docs_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::vector<document> apply_process_docs(std::string_view name, std::vector<document> docs, const std::string& source) {
  if (name.empty()) return docs;
  for (std::size_t i = 0; i < docs.size(); ++i) {
    if (name == "hellaswag") {
      docs[i] = hellaswag_doc(std::move(docs[i]), i, source);
    } else if (name == "ai2_arc") {
      docs[i] = ai2_arc_doc(std::move(docs[i]), i, source);
    } else {
      throw input_error(fmt::format("process_docs '{}' is not a built-in preprocessing (known: {})", name,
                                    fmt::join(process_docs_names(), ", ")));
    }
  }
  return docs;
}

}  // namespace huashan::harness::eval
