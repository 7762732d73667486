// JSON text as Python's json.dumps writes it (lm-evaluation-harness writes its
// results and samples with it): floats in repr's shortest form ("0.25",
// "1.0", "1e-05"), non-ASCII kept as UTF-8, NaN and Infinity as Python spells
// them, keys in their order. Tools that read its files read ours the same way.
#pragma once

#include <boost/json/value.hpp>

#include <string>

namespace huashan::harness::eval {

// indent < 0: one line with ", " and ": " separators (json.dumps' default);
// indent >= 0: one member per line, indented (json.dumps(indent=N)).
std::string python_json(const boost::json::value& v, int indent = -1);
// A double as Python's repr(float).
std::string python_float(double x);

}  // namespace huashan::harness::eval
