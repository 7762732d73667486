// Samples files are written one JSON document per line as Python's
// json.dumps(ensure_ascii=False) writes them; the expected string is what
// python3 prints for the same value.
#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "harness/eval/python_text.hpp"

TEST_CASE("a samples line is json.dumps' one-line form") {
  boost::json::object o;
  o["a"] = boost::json::array{1, 2.0, "x\ny\xc3\xa9\xe4\xb8\xad\x01\x7f\"\\"};
  o["b"] = boost::json::object{};
  o["c"] = boost::json::array{};
  o["d"] = nullptr;
  o["e"] = true;
  o["f"] = std::nan("");
  o["g"] = -std::numeric_limits<double>::infinity();
  o["h"] = boost::json::array{-1.5e-05, boost::json::object{{"k", 0.1 + 0.2}}};
  CHECK(huashan::harness::eval::python_json_dumps(o, -1) ==
        "{\"a\": [1, 2.0, \"x\\ny\xc3\xa9\xe4\xb8\xad\\u0001\x7f\\\"\\\\\"], \"b\": {}, \"c\": [], \"d\": null, "
        "\"e\": true, \"f\": NaN, \"g\": -Infinity, \"h\": [-1.5e-05, {\"k\": 0.30000000000000004}]}");
}
