// A fixed pool of worker threads for the engine's data-parallel loops. The
// calling thread takes part in the work; workers spin briefly for the next job
// (decode issues one small job per matmul, hundreds per token) and then block.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace huashan::engine {

class thread_pool {
 public:
  // n_threads <= 0: one per hardware thread. The caller counts as one thread,
  // so n_threads - 1 workers are started.
  explicit thread_pool(int n_threads = 0);
  ~thread_pool();
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;

  int size() const { return n_threads_; }

  // Calls fn(thread_index, n_threads) once on every thread of the pool and
  // returns when all are done. The first exception thrown is rethrown here.
  // Not re-entrant: fn must not call back into the same pool.
  void run(const std::function<void(int thread_index, int n_threads)>& fn);

  // Splits [0, n) into contiguous chunks of at least `grain` items and calls
  // fn(begin, end) for each, spread over the pool; returns when all are done.
  // The first exception is rethrown. Not re-entrant, and one caller thread at
  // a time: the pool runs one job at once.
  void parallel_for(std::int64_t n, const std::function<void(std::int64_t begin, std::int64_t end)>& fn,
                    std::int64_t grain = 1);

 private:
  // Publishes fn as the next job and takes part in it. optional: workers that
  // arrive after the caller has finished its own share skip the job (work is
  // claimed from a shared counter, so nothing is lost); otherwise every worker
  // must run it once.
  void dispatch(const std::function<void(int, int)>& fn, bool optional);
  void worker_loop(int index);

  // state_ = generation (high 32 bits) | closed (bit 31) | workers entered (low 31 bits).
  static constexpr std::uint64_t closed_bit = 1ull << 31;
  static constexpr std::uint64_t entered_mask = closed_bit - 1;

  int n_threads_ = 1;
  std::vector<std::thread> workers_;
  const std::function<void(int, int)>* job_ = nullptr;
  std::uint64_t generation_ = 0;          // the caller's count of jobs published
  std::atomic<std::uint64_t> state_{0};
  std::atomic<int> finished_{0};          // workers done with the current job
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::mutex error_mutex_;
  std::exception_ptr error_;
};

}  // namespace huashan::engine
