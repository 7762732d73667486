#include "harness/eval/metrics.hpp"

#include <utf8proc.h>

#include <cmath>

#include "common/utf8.hpp"
#include "harness/eval/python_text.hpp"
#include "harness/eval/regex.hpp"

namespace huashan::harness::eval {

namespace {

bool ascii_punctuation(char c) {
  static constexpr std::string_view punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
  return punctuation.find(c) != std::string_view::npos;
}

std::string normalise(const metric_spec& spec, std::string_view text, const std::string& where) {
  std::string out(text);
  for (const auto& pattern : spec.regexes_to_ignore) {
    out = python_regex::get(pattern, where + ", exact_match regexes_to_ignore")->remove_all(out);
  }
  if (spec.ignore_case) out = python_lower(out);
  if (spec.ignore_punctuation) std::erase_if(out, ascii_punctuation);
  return out;
}

}  // namespace

std::size_t first_argmax(const std::vector<double>& values) {
  std::size_t best = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (std::isnan(values[i])) return i;
    if (values[i] > values[best]) best = i;
  }
  return best;
}

double exact_match(const metric_spec& spec, std::string_view prediction, std::string_view reference,
                   const std::string& where) {
  return normalise(spec, prediction, where) == normalise(spec, reference, where) ? 1.0 : 0.0;
}

double count_words(std::string_view text) {
  // Each maximal run of whitespace splits once more.
  double pieces = 1;
  bool in_space = false;
  for (std::size_t pos = 0; pos < text.size();) {
    char32_t cp = 0;
    std::size_t n = utf8_decode(text.substr(pos), cp);
    if (n == 0) {
      n = 1;
      cp = 0xFFFD;
    }
    bool space = (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20) || cp == 0x85;
    if (!space && cp >= 0x80) {
      const auto category = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
      space = category == UTF8PROC_CATEGORY_ZS || category == UTF8PROC_CATEGORY_ZL ||
              category == UTF8PROC_CATEGORY_ZP;
    }
    if (space && !in_space) pieces += 1;
    in_space = space;
    pos += n;
  }
  return pieces;
}

double count_bytes(std::string_view text) { return static_cast<double>(text.size()); }

}  // namespace huashan::harness::eval
