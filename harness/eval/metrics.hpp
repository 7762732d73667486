// Per-document metrics as lm-evaluation-harness computes them: the argmax
// behind acc / acc_norm, exact_match with its normalisations, and the word
// and byte counts behind the weighted perplexities.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "harness/eval/suite_config.hpp"

namespace huashan::harness::eval {

// numpy.argmax: the first maximum; the first NaN when there is one.
std::size_t first_argmax(const std::vector<double>& values);

// exact_match of one prediction against one reference with the metric's
// regexes_to_ignore (removed from both), ignore_case and ignore_punctuation
// (string.punctuation removed); 1.0 or 0.0. `where` names the task for a bad
// regex.
double exact_match(const metric_spec& spec, std::string_view prediction, std::string_view reference,
                   const std::string& where);

// len(re.split(r"\s+", text)): words for word_perplexity.
double count_words(std::string_view text);
// len(text.encode("utf-8")): bytes for byte_perplexity and bits_per_byte.
double count_bytes(std::string_view text);

}  // namespace huashan::harness::eval
