// Results and samples must read the same in Python as lm-evaluation-harness's:
// the expected strings here are what python3's json.dumps prints.
#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "harness/eval/json_text.hpp"

using huashan::harness::eval::python_float;
using huashan::harness::eval::python_json;

TEST_CASE("floats print as Python's repr") {
  CHECK(python_float(0.25) == "0.25");
  CHECK(python_float(1.0) == "1.0");
  CHECK(python_float(1e-05) == "1e-05");
  CHECK(python_float(1e16) == "1e+16");
  CHECK(python_float(1.2345678901234568e+17) == "1.2345678901234568e+17");
  CHECK(python_float(0.0001) == "0.0001");
  CHECK(python_float(-0.5) == "-0.5");
  CHECK(python_float(100000000.0) == "100000000.0");
  CHECK(python_float(3e-07) == "3e-07");
  CHECK(python_float(123.456) == "123.456");
  CHECK(python_float(1e22) == "1e+22");
  CHECK(python_float(0.1 + 0.2) == "0.30000000000000004");
  CHECK(python_float(-1e-300) == "-1e-300");
  CHECK(python_float(5e-324) == "5e-324");
  CHECK(python_float(0.0) == "0.0");
  CHECK(python_float(std::nan("")) == "NaN");
  CHECK(python_float(-std::numeric_limits<double>::infinity()) == "-Infinity");
}

TEST_CASE("documents print as json.dumps(ensure_ascii=False), on one line or indented") {
  boost::json::object o;
  o["a"] = boost::json::array{1, 2.0, "x\ny\xc3\xa9\xe4\xb8\xad\x01\x7f\"\\"};
  o["b"] = boost::json::object{};
  o["c"] = boost::json::array{};
  o["d"] = nullptr;
  o["e"] = true;
  o["f"] = std::nan("");
  o["g"] = -std::numeric_limits<double>::infinity();
  CHECK(python_json(o) ==
        "{\"a\": [1, 2.0, \"x\\ny\xc3\xa9\xe4\xb8\xad\\u0001\x7f\\\"\\\\\"], \"b\": {}, \"c\": [], \"d\": null, "
        "\"e\": true, \"f\": NaN, \"g\": -Infinity}");
  boost::json::object nested;
  nested["a"] = boost::json::array{1, boost::json::object{{"b", 2}}};
  nested["c"] = boost::json::array{};
  CHECK(python_json(nested, 2) == "{\n  \"a\": [\n    1,\n    {\n      \"b\": 2\n    }\n  ],\n  \"c\": []\n}");
}
