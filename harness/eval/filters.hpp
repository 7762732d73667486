// lm-evaluation-harness's answer filters on one request's generated texts:
// regex extraction, take_first, majority_vote, lowercase, uppercase, strip.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "harness/eval/suite_config.hpp"

namespace huashan::harness::eval {

// Runs `pipeline`'s steps in order on `answers`; a pipeline without steps is
// lm-evaluation-harness's "none" (take_first). input_error naming `where` and
// the step for an unknown function, a bad pattern or a group_select that
// names no match.
std::vector<std::string> apply_filter_pipeline(const filter_pipeline& pipeline, std::vector<std::string> answers,
                                               const std::string& where);

// Python's str.strip() (whitespace at both ends).
std::string python_strip(std::string_view s);

}  // namespace huashan::harness::eval
