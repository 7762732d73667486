#include "cli/leaderboard_process.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "common/log.hpp"

extern char** environ;

namespace huashan::cli {

arena::leaderboard_settings leaderboard_settings_of(const leaderboard_options& options) {
  arena::leaderboard_settings s;
  s.interval = std::chrono::milliseconds(static_cast<long long>(options.interval_s * 1000));
  s.bootstrap_rounds = options.bootstrap;
  s.style_bootstrap = options.style_intervals == "bootstrap";
  s.seed = options.seed;
  s.inverse_propensity = options.ipw;
  return s;
}

struct leaderboard_process::impl {
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::mutex mutex;
  std::condition_variable changed;
  pid_t child = -1;
  bool stopping = false;
  bool done = false;
  std::thread supervisor;

  // posix_spawn, not fork: this process has threads, and only async-signal-safe
  // calls may run between fork and exec.
  pid_t spawn() {
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    // Only stdin, stdout and stderr go along: an inherited listening socket
    // would keep serve's port taken after serve is gone.
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, "/proc/self/exe", &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      log::warn("leaderboards: could not start the recompute process: {}", std::strerror(rc));
      return -1;
    }
    return pid;
  }

  void run() {
    auto pause = std::chrono::seconds(1);
    std::unique_lock lock(mutex);
    while (!stopping) {
      const pid_t pid = spawn();
      child = pid;
      lock.unlock();
      int status = 0;
      if (pid > 0) {
        log::debug("leaderboards: recompute process {} started", pid);
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
      }
      lock.lock();
      child = -1;
      if (stopping) break;
      if (pid > 0)
        log::warn("leaderboards: the recompute process {} {} {}; starting it again in {} s", pid,
                  WIFSIGNALED(status) ? "was killed by signal" : "exited with",
                  WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), pause.count());
      changed.wait_for(lock, pause, [this] { return stopping; });
      pause = std::min(pause * 2, std::chrono::seconds(30));
    }
    done = true;
    changed.notify_all();
  }
};

leaderboard_process::leaderboard_process(std::string database_url, const leaderboard_options& options,
                                         std::string log_level)
    : impl_(std::make_unique<impl>()) {
  auto& a = impl_->args;
  a = {"huashan", "--log-level", log_level, "leaderboards", "--exit-with-parent",
       "--leaderboard-interval", fmt::format("{}", options.interval_s),
       "--leaderboard-bootstrap", std::to_string(options.bootstrap),
       "--leaderboard-style-intervals", options.style_intervals,
       "--leaderboard-seed", std::to_string(options.seed)};
  if (options.ipw) a.emplace_back("--leaderboard-ipw");
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry(*e);
    // The URL given to serve wins over whatever the environment says.
    if (entry.rfind("DATABASE_URL=", 0) == 0 || entry.rfind("HUASHAN_DATABASE_URL=", 0) == 0 ||
        entry.rfind("HUASHAN_PARENT_PID=", 0) == 0)
      continue;
    impl_->env.emplace_back(entry);
  }
  impl_->env.push_back("DATABASE_URL=" + database_url);
  impl_->env.push_back(fmt::format("HUASHAN_PARENT_PID={}", ::getpid()));
  impl_->supervisor = std::thread([this] { impl_->run(); });
}

leaderboard_process::~leaderboard_process() { stop(); }

void leaderboard_process::stop() {
  std::unique_lock lock(impl_->mutex);
  if (!impl_->supervisor.joinable()) return;
  impl_->stopping = true;
  impl_->changed.notify_all();
  if (impl_->child > 0) ::kill(impl_->child, SIGTERM);
  if (!impl_->changed.wait_for(lock, std::chrono::seconds(10), [this] { return impl_->done; }) && impl_->child > 0)
    ::kill(impl_->child, SIGKILL);
  lock.unlock();
  impl_->supervisor.join();
}

}  // namespace huashan::cli
