// Which browser origins may start battles and vote (arena/http/origin.hpp).
#include <doctest/doctest.h>

#include "arena/http/origin.hpp"

using huashan::arena::http::origin_allowed;
using huashan::arena::http::origin_problem;

TEST_CASE("without --allowed-origin only the server's own origin, as Host names it, may post") {
  const std::vector<std::string> none;
  CHECK(origin_allowed(std::nullopt, "arena.example:8080", none));  // not a browser
  CHECK(origin_allowed("http://arena.example:8080", "arena.example:8080", none));
  CHECK(origin_allowed("HTTPS://Arena.Example:8080", "arena.example:8080", none));
  CHECK(!origin_allowed("http://arena.example", "arena.example:8080", none));  // another port is another origin
  CHECK(!origin_allowed("http://evil.example", "arena.example:8080", none));
  CHECK(!origin_allowed("http://arena.example:8080.evil.example", "arena.example:8080", none));
  CHECK(!origin_allowed("ftp://arena.example:8080", "arena.example:8080", none));
  CHECK(!origin_allowed("null", "arena.example:8080", none));  // sandboxed frames, data: pages
  CHECK(!origin_allowed("http://", "", none));                  // no Host: nothing to match
}

TEST_CASE("with --allowed-origin only the origins named may post") {
  const std::vector<std::string> allowed{"https://arena.example.org", "https://staging.example.org"};
  CHECK(origin_allowed("https://arena.example.org", "127.0.0.1:8080", allowed));
  CHECK(origin_allowed("https://STAGING.example.org", "127.0.0.1:8080", allowed));
  CHECK(!origin_allowed("http://127.0.0.1:8080", "127.0.0.1:8080", allowed));  // the proxy's view no longer counts
  CHECK(!origin_allowed("https://arena.example.org.evil", "127.0.0.1:8080", allowed));
  CHECK(origin_allowed(std::nullopt, "127.0.0.1:8080", allowed));
}

TEST_CASE("--allowed-origin takes scheme://host[:port] and names what is wrong with anything else") {
  CHECK(!origin_problem("https://arena.example.org"));
  CHECK(!origin_problem("http://127.0.0.1:8080"));
  CHECK(origin_problem("arena.example.org")->find("scheme") != std::string::npos);
  CHECK(origin_problem("ftp://arena.example.org")->find("http or https") != std::string::npos);
  CHECK(origin_problem("https://")->find("no host") != std::string::npos);
  CHECK(origin_problem("https://arena.example.org/vote")->find("path") != std::string::npos);
  CHECK(origin_problem("https://user@arena.example.org")->find("'@'") != std::string::npos);
}
