#define PCRE2_CODE_UNIT_WIDTH 8
#include "harness/eval/regex.hpp"

#include <fmt/format.h>
#include <pcre2.h>

#include <map>
#include <mutex>

#include "common/error.hpp"
#include "common/utf8.hpp"

namespace huashan::harness::eval {

namespace {

pcre2_code* as_code(void* p) { return static_cast<pcre2_code*>(p); }

struct match_data_deleter {
  void operator()(pcre2_match_data* p) const { pcre2_match_data_free(p); }
};

}  // namespace

std::shared_ptr<const python_regex> python_regex::get(const std::string& pattern, const std::string& where) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const python_regex>> compiled;
  std::lock_guard lock(mutex);
  if (auto it = compiled.find(pattern); it != compiled.end()) return it->second;

  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &error_code, &error_offset,
                                   nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error_code, message, sizeof message);
    throw input_error(fmt::format("{}: regex '{}' does not compile at offset {}: {}", where, pattern, error_offset,
                                  reinterpret_cast<const char*>(message)));
  }
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // interpreted matching when JIT is unavailable
  std::shared_ptr<python_regex> regex(new python_regex());
  regex->code_ = code;
  pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &regex->capture_count_);
  compiled.emplace(pattern, regex);
  return regex;
}

python_regex::~python_regex() { pcre2_code_free(as_code(code_)); }

template <typename OnMatch>
void python_regex::for_each_match(std::string_view subject, OnMatch&& on_match) const {
  std::unique_ptr<pcre2_match_data, match_data_deleter> data(
      pcre2_match_data_create_from_pattern(as_code(code_), nullptr));
  const auto* text = reinterpret_cast<PCRE2_SPTR>(subject.data());
  PCRE2_SIZE offset = 0;
  std::uint32_t options = 0;
  while (offset <= subject.size()) {
    const int rc = pcre2_match(as_code(code_), text, subject.size(), offset, options, data.get(), nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) {
      if (options == 0) break;
      // After an empty match no non-empty one starts here: as Python, go on
      // searching from the next character.
      const std::size_t step = offset < subject.size() ? utf8_valid_prefix(subject.substr(offset)) : 1;
      offset += step == 0 ? 1 : step;
      options = 0;
      continue;
    }
    if (rc < 0) break;  // a resource limit: keep what was found
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(data.get());
    on_match(ovector);
    const PCRE2_SIZE start = ovector[0];
    const PCRE2_SIZE end = ovector[1];
    offset = end;
    options = end == start ? (PCRE2_NOTEMPTY_ATSTART | PCRE2_ANCHORED) : 0;
  }
}

std::vector<std::vector<std::string>> python_regex::findall(std::string_view subject) const {
  std::vector<std::vector<std::string>> matches;
  for_each_match(subject, [&](const PCRE2_SIZE* ovector) {
    std::vector<std::string> groups;
    const std::uint32_t first = capture_count_ == 0 ? 0 : 1;
    for (std::uint32_t g = first; g <= capture_count_; ++g) {
      const PCRE2_SIZE b = ovector[2 * g];
      const PCRE2_SIZE e = ovector[2 * g + 1];
      groups.push_back(b == PCRE2_UNSET ? std::string() : std::string(subject.substr(b, e - b)));
    }
    matches.push_back(std::move(groups));
  });
  return matches;
}

std::string python_regex::remove_all(std::string_view subject) const {
  std::string out;
  std::size_t copied = 0;
  for_each_match(subject, [&](const PCRE2_SIZE* ovector) {
    out.append(subject.substr(copied, ovector[0] - copied));
    copied = ovector[1];
  });
  out.append(subject.substr(copied));
  return out;
}

}  // namespace huashan::harness::eval
