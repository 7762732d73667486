#include <doctest/doctest.h>

#include "arena/store/migrations.hpp"
#include "common/error.hpp"

using namespace huashan;
using namespace huashan::arena::store;

TEST_CASE("migrations are ordered by version and checksummed") {
  const auto ms = parse_migrations({{"0002_second.sql", "SELECT 2;"}, {"0001_first.sql", "SELECT 1;"}});
  REQUIRE(ms.size() == 2);
  CHECK(ms[0].version == 1);
  CHECK(ms[0].name == "first");
  CHECK(ms[1].filename == "0002_second.sql");
  // sha256("SELECT 1;") computed independently with sha256sum.
  CHECK(ms[0].checksum == "17db4fd369edb9244b9f91d9aeed145c3d04ad8ba6e95d06247f07a63527d11a");
  CHECK(ms[0].checksum != ms[1].checksum);
}

TEST_CASE("bad migration file names and duplicate versions are refused by name") {
  CHECK_THROWS_WITH_AS(parse_migrations({{"1_first.sql", ""}}),
                       "migration file name '1_first.sql' does not match NNNN_name.sql", input_error);
  CHECK_THROWS_WITH_AS(parse_migrations({{"0001_a.sql", "x"}, {"0001_b.sql", "y"}}),
                       "migrations 0001_a.sql and 0001_b.sql share version 1", input_error);
}

TEST_CASE("the embedded migrations match the files in sql/") {
  const auto embedded = embedded_migrations();
  const auto on_disk = load_migrations(HUASHAN_SOURCE_DIR "/sql");
  REQUIRE(embedded.size() == on_disk.size());
  REQUIRE_FALSE(embedded.empty());
  for (std::size_t i = 0; i < embedded.size(); ++i) {
    CHECK(embedded[i].filename == on_disk[i].filename);
    CHECK(embedded[i].checksum == on_disk[i].checksum);
  }
}
