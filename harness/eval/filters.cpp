#include "harness/eval/filters.hpp"

#include <fmt/format.h>
#include <utf8proc.h>

#include <map>

#include "common/error.hpp"
#include "common/utf8.hpp"
#include "harness/eval/python_text.hpp"
#include "harness/eval/regex.hpp"

namespace huashan::harness::eval {

namespace {

// str.isspace() code points.
bool python_whitespace(char32_t cp) {
  if ((cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20) || cp == 0x85) return true;
  if (cp < 0x80) return false;
  const auto category = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return category == UTF8PROC_CATEGORY_ZS || category == UTF8PROC_CATEGORY_ZL || category == UTF8PROC_CATEGORY_ZP;
}

std::string regex_extract(const filter_step& step, const python_regex& regex, const std::string& answer,
                          const std::string& where) {
  const auto matches = regex.findall(answer);
  if (matches.empty()) return step.fallback;
  const auto count = static_cast<std::int64_t>(matches.size());
  const std::int64_t index = step.group_select < 0 ? count + step.group_select : step.group_select;
  if (index < 0 || index >= count) {
    throw input_error(fmt::format("{}: regex filter group_select {} names no match ({} found in the answer)", where,
                                  step.group_select, count));
  }
  const auto& groups = matches[static_cast<std::size_t>(index)];
  std::string picked;
  if (groups.size() == 1) {
    picked = groups[0];
  } else {
    // Several groups: the first that matched something, as the tuple rule.
    picked = step.fallback;
    for (const auto& g : groups) {
      if (!g.empty()) {
        picked = g;
        break;
      }
    }
  }
  return python_strip(picked);
}

std::string majority(const std::vector<std::string>& answers) {
  // Ties go to the answer seen first (Counter.most_common(1)).
  std::map<std::string, std::size_t> counts;
  std::string best;
  std::size_t best_count = 0;
  for (const auto& a : answers) ++counts[a];
  for (const auto& a : answers) {
    if (counts[a] > best_count) {
      best = a;
      best_count = counts[a];
    }
  }
  return best;
}

}  // namespace

std::string python_strip(std::string_view s) {
  std::size_t begin = 0;
  std::size_t end = s.size();
  while (begin < end) {
    char32_t cp = 0;
    const std::size_t n = utf8_decode(s.substr(begin), cp);
    if (n == 0 || !python_whitespace(cp)) break;
    begin += n;
  }
  while (end > begin) {
    // Step back to the start of the last code point.
    std::size_t start = end - 1;
    while (start > begin && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    char32_t cp = 0;
    const std::size_t n = utf8_decode(s.substr(start, end - start), cp);
    if (n == 0 || !python_whitespace(cp)) break;
    end = start;
  }
  return std::string(s.substr(begin, end - begin));
}

std::vector<std::string> apply_filter_pipeline(const filter_pipeline& pipeline, std::vector<std::string> answers,
                                               const std::string& where) {
  if (pipeline.steps.empty()) {
    if (answers.size() > 1) answers.resize(1);
    return answers;
  }
  for (std::size_t i = 0; i < pipeline.steps.size(); ++i) {
    const auto& step = pipeline.steps[i];
    const std::string step_where = fmt::format("{}, filter '{}' step {} ({})", where, pipeline.name, i, step.function);
    if (step.function == "regex") {
      const auto regex = python_regex::get(step.regex_pattern, step_where);
      for (auto& a : answers) a = regex_extract(step, *regex, a, step_where);
    } else if (step.function == "take_first") {
      if (answers.size() > 1) answers.resize(1);
    } else if (step.function == "majority_vote") {
      if (!answers.empty()) answers = {majority(answers)};
    } else if (step.function == "lowercase") {
      for (auto& a : answers) a = python_lower(a);
    } else if (step.function == "uppercase") {
      for (auto& a : answers) a = python_upper(a);
    } else if (step.function == "strip") {
      for (auto& a : answers) a = python_strip(a);
    } else {
      throw input_error(fmt::format(
          "{}: unknown filter function (expected regex, take_first, majority_vote, lowercase, uppercase or strip)",
          step_where));
    }
  }
  return answers;
}

}  // namespace huashan::harness::eval
