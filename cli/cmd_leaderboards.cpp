// `huashan leaderboards`: the live leaderboards' recompute alone (see
// leaderboard_process.hpp for why serve runs it as a child process).
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "arena/service/leaderboard_service.hpp"
#include "cli/commands.hpp"
#include "cli/leaderboard_process.hpp"
#include "common/log.hpp"

namespace huashan::cli {

int run_leaderboards(const global_options& global, const leaderboard_options& options, bool exit_with_parent) {
  // SIGINT and SIGTERM are taken by sigwait below; threads inherit the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  if (exit_with_parent) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    // The parent may have ended before the line above: then this process has another one.
    const char* parent = std::getenv("HUASHAN_PARENT_PID");
    if (parent != nullptr && std::to_string(::getppid()) != parent) return 0;
  }
  const auto url = require_database_url(global);
  auto settings = leaderboard_settings_of(options);
  settings.idle_priority = true;
  arena::leaderboard_service boards(url, settings, nullptr);
  boards.start();
  log::info("leaderboards: recomputing when votes move (checked every {} s), pid {}", options.interval_s, ::getpid());
  int received = 0;
  sigwait(&stop_signals, &received);
  boards.stop();
  return 0;
}

}  // namespace huashan::cli
