#include <doctest/doctest.h>

#include <map>

#include "arena/domain/pair_sampler.hpp"
#include "common/error.hpp"

using namespace huashan;
using namespace huashan::arena;

TEST_CASE("uniform: every enabled pair equally likely; disabled models never drawn") {
  std::vector<sampler_model> models(4);
  models[3].enabled = false;
  sampler_options o;
  o.policy = sampling_policy::uniform;
  const auto p = pair_probabilities(models, {}, o);
  CHECK(p[0 * 4 + 1] == doctest::Approx(1.0 / 3));
  CHECK(p[1 * 4 + 2] == doctest::Approx(1.0 / 3));
  CHECK(p[0 * 4 + 3] == 0.0);

  std::mt19937_64 rng(1);
  std::map<std::pair<std::size_t, std::size_t>, int> seen;
  for (int i = 0; i < 6000; ++i) {
    const auto d = draw_pair(models, {}, o, rng);
    CHECK(d.a != 3);
    CHECK(d.b != 3);
    CHECK(d.probability == doctest::Approx(1.0 / 6));
    ++seen[{d.a, d.b}];
  }
  CHECK(seen.size() == 6);  // 3 pairs × 2 sides
  for (const auto& [pair, n] : seen) CHECK(n == doctest::Approx(1000).epsilon(0.15));
}

TEST_CASE("weighted: new models are boosted until they reach the target") {
  std::vector<sampler_model> models{{1.0, 1000, true}, {1.0, 1000, true}, {1.0, 0, true}};
  sampler_options o;
  o.target_votes = 300;
  o.new_model_boost = 3.0;
  const auto p = pair_probabilities(models, {}, o);
  // weights 1, 1, 3: pairs (0,1)=1, (0,2)=3, (1,2)=3 of 7.
  CHECK(p[0 * 3 + 1] == doctest::Approx(1.0 / 7));
  CHECK(p[0 * 3 + 2] == doctest::Approx(3.0 / 7));
  models[2].votes = 300;
  CHECK(pair_probabilities(models, {}, o)[0 * 3 + 2] == doctest::Approx(1.0 / 3));
}

TEST_CASE("active: close, rarely compared pairs are preferred; all keep positive probability") {
  std::vector<sampler_model> models(3, {1.0, 1000, true});
  sampler_knowledge k;
  k.rating = {0.0, 0.01, 1.0};       // 0 and 1 close; 2 far ahead
  k.variance = {0.01, 0.01, 0.01};
  k.pair_battles = {0, 10, 10, 10, 0, 10, 10, 10, 0};
  sampler_options o;
  o.policy = sampling_policy::active;
  o.exploration = 0.1;
  const auto p = pair_probabilities(models, k, o);
  CHECK(p[0 * 3 + 1] > 0.8);
  CHECK(p[0 * 3 + 2] > 0.0);
  CHECK(p[1 * 3 + 2] > 0.0);
}

TEST_CASE("fewer than two enabled models is an error naming the count") {
  std::vector<sampler_model> models{{1.0, 0, true}, {1.0, 0, false}};
  CHECK_THROWS_WITH_AS(pair_probabilities(models, {}, {}), doctest::Contains("1 are enabled"), input_error);
  CHECK_THROWS_AS(parse_sampling_policy("greedy"), config_error);
}
