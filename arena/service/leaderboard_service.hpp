// Live leaderboards: a background thread that, every `interval`, recomputes
// the boards when votes moved (only the process holding the PostgreSQL
// advisory lock does; many can share one database) and reloads the newest
// snapshots into memory when the table changed (every process does, so all
// serve the same snapshot ids). Requests read memory; they never compute.
//
// The first recompute stores one snapshot per variant: overall, each category
// and each language present in the counted votes, each with and without style
// control. Flagged battles are left out. The votes are read once, as columns,
// and kept in memory (vote_cache.hpp); each variant's battles are picked from
// them by integer compares. Later recomputes read only the votes added and
// flagged since, and store the overall plain board and the variants those
// votes belong to; the rest keep serving boards the same votes would give
// again. The overall plain board is stored (and served) first, before the
// other variants are computed. The thread runs at a lower CPU priority (nice 10), as do the
// bootstrap threads it starts, so requests keep their latency while it works.
// Duration goes to the metrics histogram.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "arena/domain/pair_sampler.hpp"
#include "arena/service/metrics.hpp"
#include "arena/store/leaderboard_store.hpp"

namespace huashan::arena {

struct leaderboard_settings {
  std::chrono::milliseconds interval{10000};  // between checks
  std::uint32_t bootstrap_rounds = 200;
  // Style-controlled boards: sandwich intervals (false), or the same
  // bootstrap as the plain boards (true; a refit per round over every vote).
  bool style_bootstrap = false;
  std::uint64_t seed = 42;                    // recorded in every snapshot
  bool inverse_propensity = false;            // weight battles by 1 / sampling probability
  unsigned threads = 0;                       // fit and bootstrap threads; 0 = all cores
  // false: this process only serves the boards others compute (it never
  // takes the lock), e.g. so that no recompute shares its memory and cores.
  bool recompute = true;
  // The recompute's threads under SCHED_IDLE (they run only on a core nothing
  // else wants) instead of nice 10: for a process that does nothing else
  // (`huashan leaderboards`). Under a load that keeps every core busy the
  // boards then wait for a quieter moment.
  bool idle_priority = false;
  std::int64_t lock_key = 0x4855415348414e;   // pg advisory lock key ("HUASHAN")
  std::string computed_by;                    // written to snapshots; default host:pid
};

// A snapshot ready to serve: the record and its texts, built once on load
// (leaderboard_json.hpp), so requests only copy bytes.
struct served_snapshot {
  store::snapshot_record record;
  std::string json;      // GET /api/leaderboard
  std::string csv;       // GET /api/leaderboard.csv
  std::string matrices;  // GET /api/matrices
};

class leaderboard_service {
 public:
  leaderboard_service(std::string database_url, leaderboard_settings settings, arena_metrics* metrics);
  ~leaderboard_service();  // stops the thread
  leaderboard_service(const leaderboard_service&) = delete;
  leaderboard_service& operator=(const leaderboard_service&) = delete;

  // Starts the background thread (a first tick at once). Idempotent.
  void start();
  // Stops it and waits for a running tick to end.
  void stop();

  struct tick_result {
    std::size_t recomputed = 0;  // variants this process stored (0: not due, or another process holds the lock)
    bool reloaded = false;       // newer snapshots were loaded
  };
  // One check: recompute when due and the lock is free, then reload when the
  // table changed. Thrown database errors propagate (the thread logs them).
  tick_result tick();

  // The newest snapshot of a variant ('' = all); nullptr when none.
  std::shared_ptr<const served_snapshot> latest(const std::string& category, const std::string& language,
                                                bool style_control) const;
  // Whether any snapshot is loaded (false before the first counted vote).
  bool has_snapshots() const;
  // The variants the newest recompute stored, for the pages' selectors.
  struct variant {
    std::string category;  // '' = all
    std::string language;  // '' = all
    bool style_control = false;
  };
  std::vector<variant> variants() const;
  // Each model's rating in the newest `limit` snapshots of a variant, oldest
  // first (only `model`'s when given); read from the database once per new
  // snapshot of the variant, then from memory. database_error.
  std::vector<store::rating_point> rating_history(const variant& which, std::size_t limit,
                                                  const std::optional<std::string>& model = std::nullopt) const;
  // A stored snapshot by id (from memory when it is a latest one, else read
  // from the database); nullptr when there is none. database_error.
  std::shared_ptr<const served_snapshot> by_id(std::int64_t id) const;
  // GET /api/battles.csv: the votes the newest overall snapshot counted, as
  // CSV in LMArena's columns (export_battles_csv); read from the database on
  // each call. database_error.
  std::string battles_csv() const;
  // Called after each reload with the overall board (plain Bradley-Terry, all
  // categories and languages) as the active sampler reads it.
  void on_overall_reload(std::function<void(const sampler_leaderboard& board)> callback);
  // Called at the end of every background tick (not by tick() itself), for
  // other work that rides on the same interval, e.g. picking up another
  // process's model changes. Exceptions are logged, not propagated.
  void on_background_tick(std::function<void()> callback);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace huashan::arena
