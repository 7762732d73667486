// Python's random, repr and json.dumps as the task code reproduces them; the
// expected values were printed by python3 (3.11) for the same calls.
#include <doctest/doctest.h>

#include <boost/json/parse.hpp>

#include "common/error.hpp"
#include "harness/eval/filters.hpp"
#include "harness/eval/hashing.hpp"
#include "harness/eval/metrics.hpp"
#include "harness/eval/python_random.hpp"
#include "harness/eval/python_text.hpp"
#include "harness/eval/regex.hpp"

using namespace huashan::harness::eval;

TEST_CASE("python_random: getrandbits equals CPython's for int seeds of one and two words") {
  struct expected {
    std::uint64_t seed;
    std::uint64_t w0, w1, w2, bits40, bits64, bits7;
  };
  // random.Random(seed); [getrandbits(32) x3], getrandbits(40), getrandbits(64), getrandbits(7)
  const expected cases[] = {
      {1234, 4150886329u, 3342196574u, 1892932127u, 4796836454ull, 16804540376168033093ull, 120},
      {0, 3626764237u, 1654615998u, 3255389356u, 463385069186ull, 4776171008201404212ull, 123},
      {42, 2746317213u, 478163327u, 107420369u, 303832645883ull, 4117511471858006928ull, 17},
      {4294967301ull, 675479763u, 2085189291u, 1213270837u, 665247166058ull, 267910309641445477ull, 45},
      {18446744073709551615ull, 93740670u, 1068495656u, 1452108352u, 234585750291ull, 11347071888800127570ull, 12},
  };
  for (const auto& c : cases) {
    CAPTURE(c.seed);
    python_random r(c.seed);
    CHECK(r.getrandbits(32) == c.w0);
    CHECK(r.getrandbits(32) == c.w1);
    CHECK(r.getrandbits(32) == c.w2);
    CHECK(r.getrandbits(40) == c.bits40);
    CHECK(r.getrandbits(64) == c.bits64);
    CHECK(r.getrandbits(7) == c.bits7);
  }
}

TEST_CASE("python_random: sample picks what random.sample picks, pool and set algorithms, twice in a row") {
  struct expected {
    std::uint64_t seed;
    std::size_t n, k;
    std::vector<std::size_t> first, second;
  };
  // r = random.Random(seed); r.sample(range(n), k), r.sample(range(n), k)
  const expected cases[] = {
      {1234, 10, 3, {7, 1, 0}, {1, 0, 9}},                        // pool (n <= 21)
      {1234, 30, 3, {24, 14, 3}, {0, 2, 29}},                     // set (n > 21)
      {1234, 100, 6, {99, 56, 14, 0, 11, 74}, {4, 85, 88, 10, 12, 98}},  // pool (k > 5 widens the rule to 85)
      {7, 1000, 7, {331, 970, 154, 404, 666, 49, 74}, {840, 548, 96, 374, 596, 59, 931}},
      {7, 12, 12, {5, 2, 6, 0, 1, 9, 4, 8, 10, 3, 11, 7}, {0, 1, 6, 9, 10, 7, 11, 4, 3, 5, 2, 8}},
      {99, 200, 40,
       {103, 97, 51, 153, 45, 58, 63, 34, 22, 64, 186, 98, 135, 175, 179, 137, 191, 159, 125, 197,
        107, 156, 150, 55, 95, 99, 54, 38, 118, 169, 195, 145, 86, 21, 187, 183, 120, 80, 199, 10},
       {68, 142, 1, 108, 52, 92, 136, 20, 118, 132, 50, 155, 191, 13, 91, 33, 55, 41, 113, 152,
        45, 128, 169, 179, 9, 28, 5, 43, 121, 107, 192, 196, 161, 22, 36, 79, 158, 197, 97, 84}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.seed);
    CAPTURE(c.n);
    python_random r(c.seed);
    CHECK(r.sample_indices(c.n, c.k) == c.first);
    CHECK(r.sample_indices(c.n, c.k) == c.second);
  }
}

TEST_CASE("python_text: float repr as Python prints it") {
  CHECK(python_float_repr(0.1) == "0.1");
  CHECK(python_float_repr(1.0) == "1.0");
  CHECK(python_float_repr(1e16) == "1e+16");
  CHECK(python_float_repr(1e15) == "1000000000000000.0");
  CHECK(python_float_repr(123456789012345678.0) == "1.2345678901234568e+17");
  CHECK(python_float_repr(0.0001) == "0.0001");
  CHECK(python_float_repr(0.00001) == "1e-05");
  CHECK(python_float_repr(1.5e-7) == "1.5e-07");
  CHECK(python_float_repr(-2.5) == "-2.5");
  CHECK(python_float_repr(1e100) == "1e+100");
  CHECK(python_float_repr(5e-324) == "5e-324");
  CHECK(python_float_repr(0.30000000000000004) == "0.30000000000000004");
}

TEST_CASE("python_text: json.dumps(indent=2, ensure_ascii=False) bytes, through their sha256") {
  const auto doc = boost::json::parse(
      R"({"question": "Café «naïve» \"quoted\" \\ tab\there\n", "x": 1.5, "y": 1e-05, "z": 1e16, "w": 10.0,
          "n": null, "b": true, "i": -3, "l": [], "d": {}, "nested": {"k": [1, "two", {"three": 3.25}]},
          "ctl": "\u0001\u007f"})");
  const std::string dumped = python_json_dumps(doc);
  CHECK(dumped.rfind("{\n  \"question\": \"Café «naïve» \\\"quoted\\\" \\\\ tab\\there\\n\",\n  \"x\": 1.5,", 0) == 0);
  CHECK(dumped.find("\"z\": 1e+16,\n  \"w\": 10.0,") != std::string::npos);
  CHECK(dumped.find("\"nested\": {\n    \"k\": [\n      1,\n      \"two\",\n      {\n        \"three\": 3.25\n      }\n    ]\n  },") !=
        std::string::npos);
  // hashlib.sha256(json.dumps(doc, indent=2, ensure_ascii=False).encode()).hexdigest()
  CHECK(sha256_hex(dumped) == "96d96ffe14a5532fae300f203f20d3297f02be7a6a98f42c4762f626f74467e5");
}

TEST_CASE("python_text: str() of lists picks Python's quotes and escapes") {
  const auto list = boost::json::parse(R"(["a", "b'c", "d\"e", "f'g\"h", "\n"])");
  CHECK(python_str(list) == R"(['a', "b'c", 'd"e', 'f\'g"h', '\n'])");
  CHECK(python_str(boost::json::parse("[1, 2.0, true, null]")) == "[1, 2.0, True, None]");
  CHECK(python_str(boost::json::value(1)) == "1");
}

TEST_CASE("python_text: literal_eval of rendered lists") {
  std::string why;
  auto parsed = parse_python_list(R"(['yes', "no", 'it\'s', "tab\t\x41\u00e9", 3, -2, 1.5, True,])", why);
  REQUIRE(parsed);
  REQUIRE(parsed->size() == 8);
  CHECK((*parsed)[0].as_string() == "yes");
  CHECK((*parsed)[1].as_string() == "no");
  CHECK((*parsed)[2].as_string() == "it's");
  CHECK((*parsed)[3].as_string() == "tab\tAé");
  CHECK((*parsed)[4].as_int64() == 3);
  CHECK((*parsed)[5].as_int64() == -2);
  CHECK((*parsed)[6].as_double() == 1.5);
  CHECK((*parsed)[7].as_bool());
  CHECK(!parse_python_list("yes, no", why));
  CHECK(why.find("not a list literal") != std::string::npos);
  CHECK(!parse_python_list("['a', 'b'", why));
  CHECK(!parse_python_list("['a' 'b' x]", why));
}

TEST_CASE("python_text: len counts code points") {
  CHECK(python_len("abc") == 3);
  CHECK(python_len("café") == 4);
  CHECK(python_len("日本語") == 3);
}

TEST_CASE("regex: findall as Python's re (groups, empty matches) and sub with ''") {
  auto r = python_regex::get(R"(\d*)", "test");
  const auto m = r->findall("a1");
  // re.findall(r"\d*", "a1") == ['', '1', '']
  REQUIRE(m.size() == 3);
  CHECK(m[0][0].empty());
  CHECK(m[1][0] == "1");
  CHECK(m[2][0].empty());
  auto groups = python_regex::get(R"((\d+)|(x))", "test")->findall("x 12 x");
  REQUIRE(groups.size() == 3);
  CHECK(groups[0] == std::vector<std::string>{"", "x"});
  CHECK(groups[1] == std::vector<std::string>{"12", ""});
  CHECK(python_regex::get(R"(\s+)", "test")->remove_all(" a  b\n") == "ab");
  CHECK_THROWS_WITH_AS(python_regex::get("(", "task t, filter f"), doctest::Contains("task t, filter f"),
                       huashan::input_error);
}

TEST_CASE("metrics: words as len(re.split(r'\\s+', text)), numpy argmax") {
  CHECK(count_words("a b  c") == 3);
  CHECK(count_words(" a") == 2);  // re.split gives ['', 'a']
  CHECK(count_words("") == 1);
  CHECK(count_words("a\u00a0b") == 2);
  CHECK(count_bytes("é") == 2);
  CHECK(first_argmax({1.0, 3.0, 3.0}) == 1);
  CHECK(first_argmax({-1.0, -0.5, -0.5, -2.0}) == 1);
}

TEST_CASE("filters: strip as str.strip") {
  CHECK(python_strip("  x y \n\t") == "x y");
  CHECK(python_strip("\u00a0x\u2003") == "x");
  CHECK(python_strip("   ").empty());
}
