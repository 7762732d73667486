#include "arena/domain/rate_limiter.hpp"

#include <algorithm>

namespace huashan::arena {

rate_limiter::bucket& rate_limiter::refill(const std::string& key, clock::time_point now) {
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= limit_.max_keys && !lru_.empty()) {
      buckets_.erase(lru_.back());
      lru_.pop_back();
    }
    lru_.push_front(key);
    it = buckets_.emplace(key, bucket{limit_.burst, now, lru_.begin()}).first;
    return it->second;
  }
  bucket& b = it->second;
  const double minutes = std::chrono::duration<double>(now - b.updated).count() / 60.0;
  if (minutes > 0) {
    b.tokens = std::min(limit_.burst, b.tokens + minutes * limit_.per_minute);
    b.updated = now;
  }
  lru_.splice(lru_.begin(), lru_, b.lru);
  return b;
}

bool rate_limiter::allow(const std::string& key, clock::time_point now) {
  const std::lock_guard lock(mutex_);
  bucket& b = refill(key, now);
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

double rate_limiter::retry_after_seconds(const std::string& key, clock::time_point now) {
  const std::lock_guard lock(mutex_);
  const bucket& b = refill(key, now);
  if (b.tokens >= 1.0 || limit_.per_minute <= 0) return 0.0;
  return (1.0 - b.tokens) / limit_.per_minute * 60.0;
}

}  // namespace huashan::arena
