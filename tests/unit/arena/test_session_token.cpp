#include <doctest/doctest.h>

#include "arena/domain/session_token.hpp"
#include "common/error.hpp"

using namespace huashan;
using namespace huashan::arena;
using namespace std::chrono;

TEST_CASE("a signed session verifies with its secret and nothing else") {
  const auto secret = random_session_secret();
  const auto other = random_session_secret();
  const auto s = new_session();
  CHECK(s.id.size() == 22);
  const auto token = sign_session(s, secret);

  const auto back = verify_session(token, secret, hours(24));
  REQUIRE(back.has_value());
  CHECK(back->id == s.id);
  CHECK(back->issued_unix_seconds == s.issued_unix_seconds);

  CHECK_FALSE(verify_session(token, other, hours(24)).has_value());
  std::string tampered = token;
  tampered[0] = tampered[0] == 'A' ? 'B' : 'A';
  CHECK_FALSE(verify_session(tampered, secret, hours(24)).has_value());
  CHECK_FALSE(verify_session("", secret, hours(24)).has_value());
  CHECK_FALSE(verify_session("a.b.c", secret, hours(24)).has_value());
  CHECK_FALSE(verify_session(std::string(1000, 'x'), secret, hours(24)).has_value());
}

TEST_CASE("a session older than its maximum age does not verify") {
  const auto secret = random_session_secret();
  const auto s = new_session();
  const auto token = sign_session(s, secret);
  const auto later = system_clock::now() + hours(25);
  CHECK_FALSE(verify_session(token, secret, hours(24), later).has_value());
  CHECK(verify_session(token, secret, hours(48), later).has_value());
}

TEST_CASE("session secrets parse from 64 hex digits only") {
  const std::string hex(64, 'a');
  const auto secret = parse_session_secret(hex);
  CHECK(secret[0] == 0xaa);
  CHECK_THROWS_AS(parse_session_secret("abc"), config_error);
  CHECK_THROWS_AS(parse_session_secret(std::string(64, 'g')), config_error);
}
