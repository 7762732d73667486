// Dispatch: the caller publishes a job by storing a new generation in state_;
// workers spin on it for a short while (a decode step issues hundreds of small
// jobs, and a futex wake-up costs more than the job) and then sleep on the
// condition variable. A worker joins a job by incrementing the entered count
// in state_ with a compare-exchange that also checks the generation and the
// closed bit, so a late worker can never join a job that has moved on. For
// parallel_for the caller closes the job once its own share is done and waits
// only for the workers that joined: a descheduled worker (a busy machine) then
// costs nothing instead of a scheduler time slice.
#include "harness/engine/thread_pool.hpp"

#include <algorithm>
#include <utility>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HUASHAN_CPU_RELAX() _mm_pause()
#else
#define HUASHAN_CPU_RELAX() ((void)0)
#endif

namespace huashan::engine {

namespace {
// Pause iterations a worker spins before sleeping (~0.1-1 ms depending on the CPU).
constexpr int spin_iterations = 1 << 14;
}  // namespace

thread_pool::thread_pool(int n_threads) {
  if (n_threads <= 0) {
    const unsigned hw = std::thread::hardware_concurrency();
    n_threads = hw == 0 ? 1 : static_cast<int>(hw);
  }
  n_threads_ = n_threads;
  workers_.reserve(static_cast<std::size_t>(n_threads_ - 1));
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

thread_pool::~thread_pool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_.store(true, std::memory_order_release);
    state_.store((generation_ + 1) << 32, std::memory_order_release);
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void thread_pool::worker_loop(int index) {
  std::uint64_t seen = 0;
  for (;;) {
    std::uint64_t s = state_.load(std::memory_order_acquire);
    for (int spin = 0; (s >> 32) == seen && spin < spin_iterations; ++spin) {
      HUASHAN_CPU_RELAX();
      s = state_.load(std::memory_order_acquire);
    }
    if ((s >> 32) == seen) {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return (state_.load(std::memory_order_acquire) >> 32) != seen; });
      s = state_.load(std::memory_order_acquire);
    }
    if (stop_.load(std::memory_order_acquire)) return;
    const std::uint64_t gen = s >> 32;
    seen = gen;
    // Join generation `gen` unless it has been closed or replaced.
    bool joined = false;
    while ((s >> 32) == gen && (s & closed_bit) == 0) {
      if (state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel, std::memory_order_acquire)) {
        joined = true;
        break;
      }
    }
    if (!joined) continue;
    try {
      (*job_)(index, n_threads_);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex_);
      if (!error_) error_ = std::current_exception();
    }
    finished_.fetch_add(1, std::memory_order_acq_rel);
  }
}

void thread_pool::dispatch(const std::function<void(int, int)>& fn, bool optional) {
  job_ = &fn;
  error_ = nullptr;
  finished_.store(0, std::memory_order_relaxed);
  ++generation_;
  {
    // Under the mutex so a worker about to sleep cannot miss the new generation.
    std::lock_guard<std::mutex> lock(mutex_);
    state_.store(generation_ << 32, std::memory_order_release);
  }
  wake_.notify_all();
  std::exception_ptr own;
  try {
    fn(0, n_threads_);
  } catch (...) {
    own = std::current_exception();
  }
  int joined = n_threads_ - 1;
  if (optional) joined = static_cast<int>(state_.fetch_or(closed_bit, std::memory_order_acq_rel) & entered_mask);
  for (int spin = 0; finished_.load(std::memory_order_acquire) != joined; ++spin) {
    if (spin < spin_iterations) {
      HUASHAN_CPU_RELAX();
    } else {
      std::this_thread::yield();
    }
  }
  job_ = nullptr;
  if (own) std::rethrow_exception(own);
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
}

void thread_pool::run(const std::function<void(int, int)>& fn) {
  if (n_threads_ == 1) {
    fn(0, 1);
    return;
  }
  dispatch(fn, false);
}

void thread_pool::parallel_for(std::int64_t n, const std::function<void(std::int64_t, std::int64_t)>& fn,
                               std::int64_t grain) {
  if (n <= 0) return;
  grain = std::max<std::int64_t>(grain, 1);
  // About four chunks per thread, claimed dynamically, so a thread slowed by
  // other load does not hold up the rest.
  const std::int64_t target = static_cast<std::int64_t>(n_threads_) * 4;
  const std::int64_t chunk = std::max(grain, (n + target - 1) / target);
  if (n_threads_ == 1 || chunk >= n) {
    fn(0, n);
    return;
  }
  std::atomic<std::int64_t> next{0};
  dispatch(
      [&](int, int) {
        for (;;) {
          const std::int64_t begin = next.fetch_add(chunk, std::memory_order_relaxed);
          if (begin >= n) return;
          fn(begin, std::min(n, begin + chunk));
        }
      },
      true);
}

}  // namespace huashan::engine
