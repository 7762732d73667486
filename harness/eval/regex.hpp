// Python `re` behaviour on PCRE2 for what filters and metrics need: findall
// (whole matches, one group, or the tuple of groups) and sub with "".
// Patterns are compiled once per process and shared (PCRE2 code is
// immutable; each call uses its own match data).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace huashan::harness::eval {

class python_regex {
 public:
  // Compiles `pattern` (UTF-8, Unicode classes, as Python's str patterns);
  // input_error with `where` and PCRE2's message when it does not compile.
  static std::shared_ptr<const python_regex> get(const std::string& pattern, const std::string& where);
  ~python_regex();
  python_regex(const python_regex&) = delete;
  python_regex& operator=(const python_regex&) = delete;

  // re.findall: each match's groups (the whole match when the pattern has no
  // group); a group that did not take part is "".
  std::vector<std::vector<std::string>> findall(std::string_view subject) const;
  // re.sub(pattern, "", subject).
  std::string remove_all(std::string_view subject) const;

 private:
  python_regex() = default;
  template <typename OnMatch>
  void for_each_match(std::string_view subject, OnMatch&& on_match) const;
  void* code_ = nullptr;
  std::uint32_t capture_count_ = 0;
};

}  // namespace huashan::harness::eval
