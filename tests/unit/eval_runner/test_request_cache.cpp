// The answers cache survives a kill at any byte: complete lines are kept, an
// incomplete last line is dropped, damage elsewhere is reported, not hidden.
#include <doctest/doctest.h>

#include <filesystem>
#include <limits>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "common/error.hpp"
#include "harness/eval/request_cache.hpp"

namespace eval = huashan::harness::eval;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const char* name) {
  const auto dir = fs::temp_directory_path() / (std::string("huashan-cache-test-") + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  return dir;
}

huashan::harness::model_fingerprint fp(const std::string& sha) { return {"gguf", {{"gguf_sha256", sha}, {"engine_version", "0.1.0"}}}; }

eval::request ll(std::string ctx, std::string cont) { return {huashan::harness::loglikelihood_request{std::move(ctx), std::move(cont)}}; }

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("request keys separate every argument and kind") {
  CHECK(eval::request_key(ll("ab", "c")) != eval::request_key(ll("a", "bc")));
  CHECK(eval::request_key(ll("ab", "c")) == eval::request_key(ll("ab", "c")));
  eval::request rolling{huashan::harness::rolling_request{"abc"}};
  CHECK(eval::request_key(rolling) != eval::request_key(ll("abc", "")));
  huashan::harness::generate_until_request g{"Q:", {"\n"}, 32, 0.0, 1.0, 1};
  huashan::harness::generate_until_request g2 = g;
  g2.seed = 2;  // greedy: the seed does not matter
  CHECK(eval::request_key({g}) == eval::request_key({g2}));
  g.temperature = g2.temperature = 0.7;
  CHECK(eval::request_key({g}) != eval::request_key({g2}));
  g2.seed = 1;
  g2.until = {"\n", "Q:"};
  CHECK(eval::request_key({g}) != eval::request_key({g2}));
  CHECK(eval::fingerprint_id(fp("aa")) != eval::fingerprint_id(fp("ab")));
}

TEST_CASE("answers persist, reopen, and are kept per fingerprint") {
  const auto dir = fresh_dir("persist");
  const auto k1 = eval::request_key(ll("a", "b")), k2 = eval::request_key(ll("a", "c"));
  {
    eval::request_cache c(dir, fp("aa"));
    CHECK(c.size() == 0);
    c.store({{k1, huashan::harness::loglikelihood_result{-1.25, true, 2}}, {k2, std::string("answer\n\"7\"")}});
  }
  eval::request_cache again(dir, fp("aa"));
  REQUIRE(again.size() == 2);
  const auto a = again.find(k1);
  REQUIRE(a);
  const auto& r = std::get<huashan::harness::loglikelihood_result>(*a);
  CHECK(r.logprob == -1.25);
  CHECK(r.is_greedy);
  CHECK(r.n_tokens == 2);
  CHECK(std::get<std::string>(*again.find(k2)) == "answer\n\"7\"");
  eval::request_cache other(dir, fp("bb"));
  CHECK(other.size() == 0);
  CHECK_FALSE(other.find(k1));
  fs::remove_all(dir);
}

TEST_CASE("log-probabilities come back with every bit, infinities included") {
  const auto dir = fresh_dir("bits");
  // Values whose 17th digit matters (a parser that rounds the last bit fails them).
  const std::vector<double> values = {-3.6355220079421997, -3.7907081842422485, -0.1 - 0.2, -1e-300,
                                      -std::numeric_limits<double>::infinity()};
  std::vector<std::pair<std::string, eval::response>> answers;
  for (std::size_t i = 0; i < values.size(); ++i)
    answers.emplace_back(eval::request_key(ll("c", std::to_string(i))), huashan::harness::loglikelihood_result{values[i], false, 1});
  answers.emplace_back(eval::request_key({huashan::harness::rolling_request{"t"}}), huashan::harness::rolling_result{values[0], 3});
  {
    eval::request_cache c(dir, fp("aa"));
    c.store(answers);
  }
  eval::request_cache c(dir, fp("aa"));
  for (std::size_t i = 0; i < values.size(); ++i) {
    const auto got = c.find(answers[i].first);
    REQUIRE(got);
    CHECK(std::get<huashan::harness::loglikelihood_result>(*got).logprob == values[i]);
  }
  CHECK(std::get<huashan::harness::rolling_result>(*c.find(answers.back().first)).logprob == values[0]);
  fs::remove_all(dir);
}

TEST_CASE("an incomplete last line (a kill mid-write) is dropped; the next answer starts a new line") {
  const auto dir = fresh_dir("torn");
  const auto k1 = eval::request_key(ll("a", "b")), k2 = eval::request_key(ll("x", "y"));
  fs::path path;
  {
    eval::request_cache c(dir, fp("aa"));
    path = c.path();
    c.store({{k1, huashan::harness::rolling_result{-3.5, 4}}});
  }
  {
    std::ofstream out(path, std::ios::app | std::ios::binary);
    out << "{\"key\":\"" << k2 << "\",\"answer\":{\"kind\":\"loglik";
  }
  {
    eval::request_cache c(dir, fp("aa"));
    CHECK(c.size() == 1);
    CHECK_FALSE(c.find(k2));
    c.store({{k2, huashan::harness::loglikelihood_result{-0.5, false, 1}}});
  }
  const auto text = slurp(path);
  CHECK(text.find("loglik\"") == std::string::npos);
  CHECK(std::count(text.begin(), text.end(), '\n') == 2);
  eval::request_cache c(dir, fp("aa"));
  CHECK(c.size() == 2);
  fs::remove_all(dir);
}

TEST_CASE("a damaged line before the end is an error naming the file and line, and the file is left as it was") {
  const auto dir = fresh_dir("damaged");
  fs::path path;
  {
    eval::request_cache c(dir, fp("aa"));
    path = c.path();
    c.store({{eval::request_key(ll("a", "b")), huashan::harness::rolling_result{-3.5, 4}}});
  }
  {
    std::ofstream out(path, std::ios::app | std::ios::binary);
    out << "not json\n";
    out << "{\"key\":\"k\",\"answer\":{\"kind\":\"generate_until\",\"text\":\"x\"}}\n";
  }
  const auto before = slurp(path);
  const std::string where = path.string() + ":2:";
  CHECK_THROWS_WITH_AS(eval::request_cache(dir, fp("aa")), doctest::Contains(where.c_str()), huashan::input_error);
  CHECK(slurp(path) == before);
  fs::remove_all(dir);
}
