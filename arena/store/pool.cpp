#include "arena/store/pool.hpp"

#include <fmt/format.h>

#include "arena/store/pg.hpp"
#include "common/error.hpp"

namespace huashan::arena::store {

connection_pool::connection_pool(std::string url, std::size_t size, std::chrono::milliseconds acquire_timeout)
    : url_(std::move(url)), size_(size == 0 ? 1 : size), acquire_timeout_(acquire_timeout) {}

connection_pool::lease::~lease() {
  if (conn_) pool_->give_back(std::move(conn_));
}

connection_pool::lease connection_pool::acquire() {
  std::unique_lock lock(mutex_);
  const bool ready = available_.wait_for(lock, acquire_timeout_, [this] { return !idle_.empty() || open_ < size_; });
  if (!ready)
    throw database_error(fmt::format("no database connection free within {} ms (pool of {})",
                                     acquire_timeout_.count(), size_));
  if (!idle_.empty()) {
    auto conn = std::move(idle_.back());
    idle_.pop_back();
    lock.unlock();
    if (conn->is_open()) return lease(*this, std::move(conn));
    // The server dropped it (restart, idle timeout): replace it below.
    lock.lock();
    --open_;
  }
  ++open_;
  lock.unlock();
  try {
    return lease(*this, open_connection(url_));
  } catch (...) {
    const std::lock_guard relock(mutex_);
    --open_;
    available_.notify_one();
    throw;
  }
}

void connection_pool::give_back(std::unique_ptr<pqxx::connection> conn) {
  const std::lock_guard lock(mutex_);
  if (conn && conn->is_open()) {
    idle_.push_back(std::move(conn));
  } else {
    --open_;
  }
  available_.notify_one();
}

}  // namespace huashan::arena::store
