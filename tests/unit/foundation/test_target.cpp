#include <doctest/doctest.h>

#include "arena/http/target.hpp"

using namespace huashan::arena::http;

TEST_CASE("request targets split into a decoded path and query") {
  const auto t = parse_target("/a%20b/c?x=1&y&name=caf%C3%A9+au+lait&x=2");
  CHECK(t.path == "/a b/c");
  CHECK(t.query.at("x") == "2");
  CHECK(t.query.at("y").empty());
  CHECK(t.query.at("name") == "caf\xC3\xA9 au lait");
}

TEST_CASE("malformed percent escapes stay literal") {
  CHECK(percent_decode("%zz%4", false) == "%zz%4");
  CHECK(percent_decode("%", false) == "%");
  CHECK(percent_decode("a+b", false) == "a+b");
  CHECK(percent_decode("a+b", true) == "a b");
  CHECK(percent_decode("%41%42", false) == "AB");
}
