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

TEST_CASE("path patterns capture {name} segments; exact routes win") {
  router routes;
  routes.add("POST", "/api/battles/{id}/vote", [](const request& req) {
    response r;
    r.body = "vote " + req.path_params.at("id");
    return r;
  });
  routes.add("GET", "/api/battles/{id}", [](const request& req) {
    response r;
    r.body = "battle " + req.path_params.at("id");
    return r;
  });
  routes.add("GET", "/api/battles/recent", [](const request&) {
    response r;
    r.body = "recent";
    return r;
  });
  CHECK(routes.dispatch(make_request("POST", "/api/battles/abc-123/vote")).body == "vote abc-123");
  CHECK(routes.dispatch(make_request("GET", "/api/battles/xyz")).body == "battle xyz");
  CHECK(routes.dispatch(make_request("GET", "/api/battles/recent")).body == "recent");
  CHECK(routes.dispatch(make_request("GET", "/api/battles/a/b/c")).status == 404);
  CHECK(routes.dispatch(make_request("GET", "/api/battles/")).status == 404);
  CHECK(routes.dispatch(make_request("GET", "/api/battles/abc/vote")).status == 405);
  CHECK(routes.route_of(make_request("POST", "/api/battles/abc/vote")) == "/api/battles/{id}/vote");
  CHECK(routes.route_of(make_request("GET", "/nothing")) == "unmatched");
}

TEST_CASE("a last {name...} segment takes the rest of the path") {
  router routes;
  routes.add("GET", "/models/{name...}", [](const request& req) {
    response r;
    r.body = "model " + req.path_params.at("name");
    return r;
  });
  CHECK(routes.dispatch(make_request("GET", "/models/alpha")).body == "model alpha");
  CHECK(routes.dispatch(make_request("GET", "/models/org/alpha:7b")).body == "model org/alpha:7b");
  CHECK(routes.dispatch(make_request("GET", "/models")).status == 404);
  CHECK(routes.dispatch(make_request("GET", "/models/")).status == 404);
}

TEST_CASE("resolve matches once: route label, path parameters, handler mode, or the 404/405 answer") {
  router routes;
  routes.add("GET", "/livez", [](const request&) { return response{}; }, handler_mode::never_blocks);
  routes.add("POST", "/api/battles/{id}/vote", [](const request& req) {
    response r;
    r.body = req.path_params.at("id");
    return r;
  });

  auto live = make_request("GET", "/livez");
  const auto a = routes.resolve(live);
  CHECK(a.route == "/livez");
  REQUIRE(a.target != nullptr);
  CHECK(a.mode == handler_mode::never_blocks);

  auto vote = make_request("POST", "/api/battles/42/vote");
  const auto b = routes.resolve(vote);
  CHECK(b.route == "/api/battles/{id}/vote");
  CHECK(b.mode == handler_mode::may_block);  // the default
  CHECK(vote.path_params.at("id") == "42");
  REQUIRE(b.target != nullptr);
  CHECK((*b.target)(vote).body == "42");
  CHECK(routes.route_of(vote) == b.route);

  auto missing = make_request("GET", "/nope");
  const auto c = routes.resolve(missing);
  CHECK(c.target == nullptr);
  CHECK(c.route == "unmatched");
  CHECK(c.refusal.status == 404);
  CHECK(c.mode == handler_mode::never_blocks);  // refusals need no handler thread

  auto wrong = make_request("GET", "/api/battles/42/vote");
  const auto d = routes.resolve(wrong);
  CHECK(d.target == nullptr);
  CHECK(d.refusal.status == 405);
  CHECK(d.route == "/api/battles/{id}/vote");
}

TEST_CASE("segments are decoded one by one; bytes that are not UTF-8 become U+FFFD before any handler sees them") {
  router routes;
  routes.add("GET", "/v1/models/{id}", [](const request& req) {
    response r;
    r.body = "id " + req.path_params.at("id");
    if (const auto lang = req.query.find("lang"); lang != req.query.end()) r.body += " lang " + lang->second;
    return r;
  });
  auto escaped_slash = make_request("GET", "/v1/models/org/name");
  escaped_slash.target = "/v1/models/org%2Fname";
  CHECK(routes.dispatch(escaped_slash).body == "id org/name");
  CHECK(routes.route_of(escaped_slash) == "/v1/models/{id}");

  auto dot_dot = make_request("GET", "/v1/models/../../etc");
  dot_dot.target = "/v1/models/..%2F..%2Fetc";
  CHECK(routes.dispatch(dot_dot).body == "id ../../etc");  // one segment: a name, never a path

  auto not_utf8 = make_request("GET", "/v1/models/\xC0\xAF");
  not_utf8.target = "/v1/models/%C0%AF?lang=%FF";
  not_utf8.query["lang"] = "\xFF";
  CHECK(routes.dispatch(not_utf8).body == "id \xEF\xBF\xBD\xEF\xBF\xBD lang \xEF\xBF\xBD");

  const auto unmatched = make_request("GET", "/nothing/\xFF");
  const auto answer = routes.dispatch(unmatched);
  CHECK(answer.status == 404);
  CHECK(answer.body.find("\xEF\xBF\xBD") != std::string::npos);  // the detail names the path, in UTF-8
  CHECK(answer.body.find('\xFF') == std::string::npos);
}
