// A model's answer to one request as JSON, exactly: log-probabilities travel
// as their shortest round-trip text and are read back with from_chars, so the
// answer read has the very bits computed (a JSON number would pass through a
// parser that may round the last bit). The answers cache and the arena's
// worker protocol both use this form.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <string>
#include <vector>

#include "harness/eval/task.hpp"

namespace huashan::harness::eval {

// {"kind": "loglikelihood", "logprob": "-1.25", "is_greedy": true, "n_tokens": 2},
// {"kind": "loglikelihood_rolling", "logprob": ..., "n_tokens": ...} or
// {"kind": "generate_until", "text": ...}.
boost::json::object response_to_json(const response& r);
// The answer `o` holds; input_error naming the field that is missing or wrong.
response response_from_json(const boost::json::object& o);
// Which request kind an answer answers (the index of request::args).
std::size_t response_kind(const response& r);

}  // namespace huashan::harness::eval

namespace huashan::harness::eval {

// One document's answers, in request order, as the canonical JSON text the
// arena stores and compares (equal answers, equal text).
std::string answers_text(const std::vector<response>& answers);
// The answers in `a`; input_error naming the position that is wrong.
std::vector<response> answers_from_json(const boost::json::array& a);

}  // namespace huashan::harness::eval
