// Samplers against plain reference computations on fixed logits, and seeded
// reproducibility of the draw.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <vector>

#include "harness/engine/sampling.hpp"
#include "harness/engine/scoring.hpp"

using namespace huashan::engine;

namespace {
const std::vector<float> logits = {1.0f, 3.0f, -2.0f, 3.0f, 0.5f, 2.0f, -1.0f, 0.0f};

// Plain softmax in double.
std::vector<double> softmax(const std::vector<float>& l, double temp = 1.0) {
  double m = *std::max_element(l.begin(), l.end());
  std::vector<double> p(l.size());
  double s = 0;
  for (std::size_t i = 0; i < l.size(); ++i) s += p[i] = std::exp((l[i] - m) / temp);
  for (auto& x : p) x /= s;
  return p;
}
std::vector<std::int32_t> ids_of(const std::vector<token_prob>& d) {
  std::vector<std::int32_t> out;
  for (auto& t : d) out.push_back(t.id);
  std::sort(out.begin(), out.end());
  return out;
}
}  // namespace

TEST_CASE("greedy: argmax with the lowest id on ties") {
  CHECK(argmax(logits) == 1);
  sampler s(sampling_params{});
  CHECK(s.sample(logits, {}) == 1);
}

TEST_CASE("greedy: the vectorised argmax picks the plain loop's index") {
  // Lengths around the 8- and 32-wide steps and a Qwen vocabulary; values
  // drawn from a few levels so that the maximum is often tied (every other
  // trial all zeros, of either sign), with NaNs, infinities and signed zeros
  // mixed in.
  std::mt19937 gen(3);
  const float specials[] = {std::nanf(""), INFINITY, -INFINITY, 0.0f, -0.0f};
  int checked = 0;
  for (const std::size_t n : {1u, 2u, 7u, 8u, 9u, 31u, 32u, 33u, 65u, 100u, 151936u}) {
    for (int trial = 0; trial < 40; ++trial) {
      std::vector<float> v(n);
      std::uniform_int_distribution<int> level(-3, 3), pick(0, 9);
      for (auto& x : v) x = static_cast<float>(level(gen)) * (trial % 2 == 0 ? 1.0f : 0.0f);
      for (auto& x : v)
        if (pick(gen) == 0) x = specials[static_cast<std::size_t>(pick(gen)) % 5];
      if (trial % 5 == 0) v[0] = specials[0];         // NaN first
      if (trial % 7 == 0) v[n - 1] = 100.0f;          // maximum in the tail
      if (trial % 11 == 0) v[n / 2] = INFINITY;       // infinite maximum
      CAPTURE(n);
      CAPTURE(trial);
      CHECK(argmax(v) == argmax_reference(v));
      ++checked;
    }
  }
  CHECK(checked == 440);
  // The lowest id wins a tie of -0 and +0, in either order.
  CHECK(argmax(std::vector<float>{-1.0f, -0.0f, 0.0f}) == 1);
  CHECK(argmax(std::vector<float>{-1.0f, 0.0f, -0.0f}) == 1);
}

TEST_CASE("top-k keeps the k largest logits") {
  sampling_params p;
  p.temperature = 1.0f;
  p.top_k = 3;
  CHECK(ids_of(filtered_distribution(logits, p)) == std::vector<std::int32_t>{1, 3, 5});
}

TEST_CASE("top-p keeps the smallest prefix reaching the mass; min-p the tokens above min_p * p_max") {
  const auto probs = softmax(logits);
  std::vector<std::int32_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return probs[static_cast<std::size_t>(a)] > probs[static_cast<std::size_t>(b)]; });
  for (float top_p : {0.3f, 0.6f, 0.9f, 0.99f}) {
    std::vector<std::int32_t> expect;
    double cum = 0;
    for (int id : order) {
      expect.push_back(id);
      cum += probs[static_cast<std::size_t>(id)];
      if (cum >= top_p) break;
    }
    std::sort(expect.begin(), expect.end());
    sampling_params p;
    p.temperature = 1.0f;
    p.top_p = top_p;
    CAPTURE(top_p);
    CHECK(ids_of(filtered_distribution(logits, p)) == expect);
  }
  for (float min_p : {0.05f, 0.2f, 0.5f}) {
    const double pmax = *std::max_element(probs.begin(), probs.end());
    std::vector<std::int32_t> expect;
    for (std::size_t i = 0; i < probs.size(); ++i)
      if (probs[i] >= min_p * pmax) expect.push_back(static_cast<std::int32_t>(i));
    sampling_params p;
    p.temperature = 1.0f;
    p.min_p = min_p;
    CAPTURE(min_p);
    CHECK(ids_of(filtered_distribution(logits, p)) == expect);
  }
}

TEST_CASE("temperature rescales the kept logits; probabilities sum to one") {
  sampling_params p;
  p.temperature = 0.5f;
  const auto d = filtered_distribution(logits, p);
  const auto ref = softmax(logits, 0.5);
  double sum = 0;
  for (const auto& t : d) {
    CHECK(t.p == doctest::Approx(ref[static_cast<std::size_t>(t.id)]).epsilon(1e-5));
    sum += t.p;
  }
  CHECK(sum == doctest::Approx(1.0).epsilon(1e-6));
}

TEST_CASE("repetition penalty divides positive and multiplies negative logits, once per token") {
  std::vector<float> l = logits;
  apply_repetition_penalty(l, std::vector<std::int32_t>{1, 2, 1, 7}, 2.0f);
  CHECK(l[1] == 1.5f);
  CHECK(l[2] == -4.0f);
  CHECK(l[7] == 0.0f);
  CHECK(l[0] == 1.0f);
  // Penalising the greedy choice changes it.
  sampling_params p;
  p.repetition_penalty = 4.0f;
  sampler s(p);
  CHECK(s.sample(logits, std::vector<std::int32_t>{1, 3}) == 5);
}

TEST_CASE("seeded sampling is reproducible and follows the distribution") {
  sampling_params p;
  p.temperature = 1.0f;
  p.seed = 42;
  sampler a(p), b(p);
  std::vector<std::int32_t> da, db;
  for (int i = 0; i < 200; ++i) {
    da.push_back(a.sample(logits, {}));
    db.push_back(b.sample(logits, {}));
  }
  CHECK(da == db);
  p.seed = 43;
  sampler c(p);
  std::vector<std::int32_t> dc;
  for (int i = 0; i < 200; ++i) dc.push_back(c.sample(logits, {}));
  CHECK(da != dc);

  // Frequencies over 20000 draws within 0.015 of the softmax probabilities
  // (the standard error is at most 0.0036).
  const auto probs = softmax(logits);
  std::map<std::int32_t, int> counts;
  sampler d(p);
  const int n = 20000;
  for (int i = 0; i < n; ++i) ++counts[d.sample(logits, {})];
  for (std::size_t i = 0; i < probs.size(); ++i) {
    CAPTURE(i);
    CHECK(std::abs(counts[static_cast<std::int32_t>(i)] / double(n) - probs[i]) < 0.015);
  }
}

TEST_CASE("score_token: logprob, rank, greedy flag and top-n against plain computation") {
  const auto probs = softmax(logits);
  const auto s = score_token(logits, 5, 3);
  CHECK(s.logprob == doctest::Approx(std::log(probs[5])).epsilon(1e-6));
  CHECK(s.rank == 3);
  CHECK_FALSE(s.is_argmax);
  REQUIRE(s.top.size() == 3);
  CHECK(s.top[0].first == 1);
  CHECK(s.top[1].first == 3);
  CHECK(s.top[2].first == 5);
  const auto t = score_token(logits, 3, 0);
  CHECK(t.rank == 1);
  CHECK_FALSE(t.is_argmax);  // id 1 ties and comes first
  CHECK(score_token(logits, 1, 0).is_argmax);
}
