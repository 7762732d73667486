// Battle writer: what write_battles_csv writes, read_battles_csv reads back
// column for column (the arena's export relies on this round trip).
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "ranking/battle_reader.hpp"
#include "ranking/battle_writer.hpp"

using namespace huashan::ranking;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Every column of two tables, by name where the dictionaries may order differently.
void check_same(const battle_table& x, const battle_table& y) {
  REQUIRE(x.size() == y.size());
  REQUIRE(x.has_style() == y.has_style());
  REQUIRE(x.has_language() == y.has_language());
  REQUIRE(x.has_categories() == y.has_categories());
  REQUIRE(x.has_sampling_probability() == y.has_sampling_probability());
  REQUIRE(x.tstamp.size() == y.tstamp.size());
  REQUIRE(x.voter.size() == y.voter.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    CHECK(x.models.name(x.model_a[i]) == y.models.name(y.model_a[i]));
    CHECK(x.models.name(x.model_b[i]) == y.models.name(y.model_b[i]));
    CHECK(x.winner[i] == y.winner[i]);
    if (!x.tstamp.empty()) CHECK(x.tstamp[i] == y.tstamp[i]);
    if (x.has_language()) CHECK(x.languages.name(x.language[i]) == y.languages.name(y.language[i]));
    if (x.has_categories()) {
      REQUIRE(x.category_begin[i + 1] - x.category_begin[i] == y.category_begin[i + 1] - y.category_begin[i]);
      for (std::uint32_t k = 0; k < x.category_begin[i + 1] - x.category_begin[i]; ++k) {
        CHECK(x.categories.name(x.category_ids[x.category_begin[i] + k]) ==
              y.categories.name(y.category_ids[y.category_begin[i] + k]));
      }
    }
    if (!x.voter.empty()) CHECK(x.voters.name(x.voter[i]) == y.voters.name(y.voter[i]));
    if (x.has_sampling_probability()) CHECK(x.sampling_probability[i] == y.sampling_probability[i]);
    if (x.has_style()) {
      CHECK(x.style[i].a == y.style[i].a);
      CHECK(x.style[i].b == y.style[i].b);
    }
  }
}

}  // namespace

TEST_CASE("writer: every optional column, awkward names and exact numbers survive a round trip") {
  const std::string text =
      "model_a,model_b,winner,tstamp,language,category,judge,sampling_probability,"
      "len_a,len_b,header_a,header_b,list_a,list_b,bold_a,bold_b\n"
      "\"gpt, 4\",claude,model_a,1733450000.123456,English,coding|math,\"v \"\"1\"\"\",0.1,10,20,1,0,2,3,0,1\n"
      "claude,\"multi\nline\",tie (bothbad),1733450001.5,Chinese,,v2,0.33333333333333331,5,6,0,0,0,0,0,0\n"
      "qwen,claude,tie,1733450002,other,creative,v2,1,7,8,0,1,0,0,4,0\n"
      "qwen,\"gpt, 4\",model_b,1733450003.25,English,math,v3,0.0625,1,1,1,1,1,1,1,1\n";
  const battle_table original = read_battles_csv(text, "original.csv");
  const std::string written = write_battles_csv(original);
  CHECK(written.rfind("model_a,model_b,winner,tstamp,language,category,judge,sampling_probability,len_a,", 0) == 0);
  CHECK(written.find("\"gpt, 4\",claude,model_a,") != std::string::npos);
  CHECK(written.find("\"v \"\"1\"\"\"") != std::string::npos);
  check_same(original, read_battles_csv(written, "written.csv"));
}

TEST_CASE("writer: only the columns the table has") {
  const battle_table t = read_battles_csv("model_a,model_b,winner\na,b,tie\n", "plain.csv");
  CHECK(write_battles_csv(t) == "model_a,model_b,winner\na,b,tie\n");
}

TEST_CASE("writer: the 20,000 golden battles with style columns read back unchanged") {
  const std::string path = std::string(HUASHAN_TEST_DATA) + "/golden/ranking/battles-30x20k.csv";
  const battle_table original = read_battles_csv(slurp(path), path);
  check_same(original, read_battles_csv(write_battles_csv(original), "written.csv"));
}
