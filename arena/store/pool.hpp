// Private to arena/store: a fixed-size pool of PostgreSQL connections. Callers
// lease a connection for one unit of work; a broken connection is replaced on
// the next lease. Never include outside store/.
#pragma once

#include <pqxx/pqxx>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace huashan::arena::store {

class connection_pool {
 public:
  // Opens nothing yet: connections are made on first lease (so a pool can be
  // built before the database is up). `size` >= 1.
  connection_pool(std::string url, std::size_t size, std::chrono::milliseconds acquire_timeout);

  class lease {
   public:
    lease(connection_pool& pool, std::unique_ptr<pqxx::connection> conn) : pool_(&pool), conn_(std::move(conn)) {}
    lease(lease&&) noexcept = default;
    lease& operator=(lease&&) = delete;
    ~lease();
    pqxx::connection& operator*() { return *conn_; }
    pqxx::connection* operator->() { return conn_.get(); }

   private:
    connection_pool* pool_;
    std::unique_ptr<pqxx::connection> conn_;
  };

  // A connection for the caller's exclusive use until the lease ends. Throws
  // database_error when none frees up within the acquire timeout or the
  // database cannot be reached.
  lease acquire();
  const std::string& url() const { return url_; }

 private:
  void give_back(std::unique_ptr<pqxx::connection> conn);

  std::string url_;
  std::size_t size_;
  std::chrono::milliseconds acquire_timeout_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  std::size_t open_ = 0;  // leased + idle
};

}  // namespace huashan::arena::store
