// Token-bucket rate limits keyed by a string (a session id, an address):
// `burst` requests at once, refilled at `per_minute` a minute. Thread-safe;
// memory is bounded by evicting the least recently used keys past `max_keys`.
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

namespace huashan::arena {

struct rate_limit {
  double per_minute = 30;
  double burst = 10;
  std::size_t max_keys = 100000;
};

class rate_limiter {
 public:
  using clock = std::chrono::steady_clock;
  explicit rate_limiter(rate_limit limit) : limit_(limit) {}

  // Takes one token for `key` at `now`; false when the bucket is empty.
  bool allow(const std::string& key, clock::time_point now = clock::now());
  // Seconds until `key` has a token again (0 when it has one now).
  double retry_after_seconds(const std::string& key, clock::time_point now = clock::now());

 private:
  struct bucket {
    double tokens = 0;
    clock::time_point updated;
    std::list<std::string>::iterator lru;
  };
  bucket& refill(const std::string& key, clock::time_point now);

  rate_limit limit_;
  std::mutex mutex_;
  std::unordered_map<std::string, bucket> buckets_;
  std::list<std::string> lru_;  // most recent first
};

}  // namespace huashan::arena
