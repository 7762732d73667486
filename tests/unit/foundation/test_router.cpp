#include <doctest/doctest.h>

#include "arena/http/server.hpp"

using namespace huashan::arena::http;

namespace {
request make_request(std::string method, std::string path) {
  request r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.target = r.path;
  return r;
}
}  // namespace

TEST_CASE("router dispatches by path and method, 404 and 405 otherwise") {
  router routes;
  routes.add("GET", "/livez", [](const request&) {
    response r;
    r.body = "alive";
    return r;
  });
  routes.add("POST", "/things", [](const request& req) {
    response r;
    r.status = 201;
    r.body = req.body;
    return r;
  });

  CHECK(routes.dispatch(make_request("GET", "/livez")).body == "alive");
  CHECK(routes.dispatch(make_request("HEAD", "/livez")).status == 200);

  auto post = make_request("POST", "/things");
  post.body = "x";
  CHECK(routes.dispatch(post).status == 201);

  const auto missing = routes.dispatch(make_request("GET", "/nope"));
  CHECK(missing.status == 404);
  CHECK(missing.content_type == "application/problem+json");
  CHECK(missing.body.find("/nope") != std::string::npos);

  const auto wrong_method = routes.dispatch(make_request("DELETE", "/things"));
  CHECK(wrong_method.status == 405);
  REQUIRE(wrong_method.headers.size() == 1);
  CHECK(wrong_method.headers[0].second == "POST");
}

TEST_CASE("problem+json escapes its strings") {
  const auto p = problem(400, "Bad Request", "field \"prompt\" is empty");
  CHECK(p.body == R"({"type":"about:blank","title":"Bad Request","status":400,"detail":"field \"prompt\" is empty"})");
}
