// The live leaderboards' recompute in a process of its own: `huashan serve`
// starts `huashan leaderboards` as a child (--leaderboard-recompute process,
// the default), so a recompute of millions of votes never shares the serving
// process's memory, allocator or page tables; measured, a recompute inside the
// serving process doubles its p99 (docs/perf.md, "Boards").
#pragma once

#include <memory>
#include <string>

#include "arena/service/leaderboard_service.hpp"
#include "cli/commands.hpp"

namespace huashan::cli {

arena::leaderboard_settings leaderboard_settings_of(const leaderboard_options& options);

// Runs `<this executable> --log-level L leaderboards --exit-with-parent ...`
// with the database URL in its environment (not on its command line, where
// `ps` would show a password) and starts it again, after a pause that grows
// to 30 s, whenever it exits. The child writes to this process's stderr.
class leaderboard_process {
 public:
  leaderboard_process(std::string database_url, const leaderboard_options& options, std::string log_level);
  ~leaderboard_process();  // stop()
  leaderboard_process(const leaderboard_process&) = delete;
  leaderboard_process& operator=(const leaderboard_process&) = delete;
  // SIGTERM to the child, SIGKILL after 10 s; no restart after this.
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace huashan::cli
