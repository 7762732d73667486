#include <doctest/doctest.h>

#include "arena/domain/rate_limiter.hpp"

using namespace huashan::arena;
using namespace std::chrono;

TEST_CASE("a bucket allows its burst, then refills at its rate") {
  rate_limiter limiter({60, 3, 100});  // one a second, burst 3
  const auto t0 = rate_limiter::clock::now();
  CHECK(limiter.allow("s1", t0));
  CHECK(limiter.allow("s1", t0));
  CHECK(limiter.allow("s1", t0));
  CHECK_FALSE(limiter.allow("s1", t0));
  CHECK(limiter.retry_after_seconds("s1", t0) == doctest::Approx(1.0));
  CHECK(limiter.allow("other", t0));  // keys are independent
  CHECK_FALSE(limiter.allow("s1", t0 + milliseconds(500)));
  CHECK(limiter.allow("s1", t0 + milliseconds(1600)));
  CHECK_FALSE(limiter.allow("s1", t0 + milliseconds(1700)));
}

TEST_CASE("the least recently used key is evicted past max_keys") {
  rate_limiter limiter({1, 1, 2});
  const auto t0 = rate_limiter::clock::now();
  CHECK(limiter.allow("a", t0));
  CHECK(limiter.allow("b", t0));
  CHECK(limiter.allow("c", t0));  // evicts "a"
  CHECK(limiter.allow("a", t0));  // a fresh bucket again
  CHECK_FALSE(limiter.allow("c", t0));
}
