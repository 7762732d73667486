#include <doctest/doctest.h>

#include "common/config.hpp"
#include "common/error.hpp"
#include "common/log.hpp"

using namespace huashan;

TEST_CASE("redact_url hides the password and nothing else") {
  CHECK(config::redact_url("postgresql://alice:s3cret@db.example:5432/arena") ==
        "postgresql://alice:***@db.example:5432/arena");
  CHECK(config::redact_url("postgresql://alice@db/arena") == "postgresql://alice@db/arena");
  CHECK(config::redact_url("postgresql:///arena?host=/tmp") == "postgresql:///arena?host=/tmp");
  CHECK(config::redact_url("host=/tmp dbname=x") == "host=/tmp dbname=x");
}

TEST_CASE("parse_port accepts 1..65535 and names the flag otherwise") {
  CHECK(config::parse_port("8080", "--port") == 8080);
  CHECK(config::parse_port("65535", "--port") == 65535);
  CHECK_THROWS_WITH_AS(config::parse_port("0", "--port"), "--port '0' is not a TCP port (1..65535)", config_error);
  CHECK_THROWS_AS(config::parse_port("65536", "--port"), config_error);
  CHECK_THROWS_AS(config::parse_port("80x", "--port"), config_error);
  CHECK_THROWS_AS(config::parse_port("", "--port"), config_error);
}

TEST_CASE("log levels parse by name and reject unknown names") {
  CHECK(log::parse_level("debug") == log::level::debug);
  CHECK(log::parse_level("warning") == log::level::warn);
  CHECK_THROWS_AS(log::parse_level("loud"), config_error);
}

TEST_CASE("first_line keeps only the first line of a library message") {
  CHECK(first_line("could not connect\nDETAIL: x\n") == "could not connect");
  CHECK(first_line("one line  ") == "one line");
  CHECK(first_line("") == "");
}
