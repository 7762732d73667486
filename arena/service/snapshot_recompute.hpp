// `huashan db recompute-snapshot N`: rebuilds a stored snapshot from the votes
// counted as of its last_vote_event (store::leaderboard_store::read_votes)
// with the parameters it records, through compute_snapshot (the live
// recompute's path), and compares the result with the stored body byte for
// byte (both as PostgreSQL prints jsonb).
#pragma once

#include <cstdint>
#include <string>

#include "arena/store/leaderboard_store.hpp"

namespace huashan::arena {

struct snapshot_check {
  std::int64_t id = 0;
  std::int64_t last_vote_event = 0;
  std::int64_t stored_votes = 0;      // the snapshot's vote_count
  std::int64_t recomputed_votes = 0;  // battles counted as of last_vote_event
  bool identical = false;             // bodies (and parameters) byte-identical
  std::string difference;             // when not: where and what, e.g. "body byte 120: stored '…', recomputed '…'"
};

// Recomputes snapshot `id` with `threads` fit threads (0 = all cores; the
// result does not depend on it). not_found_error for an unknown id;
// input_error for stored parameters it does not understand or that disagree
// with the row's variant; database_error.
snapshot_check recompute_snapshot(const store::leaderboard_store& store, std::int64_t id, unsigned threads = 0);

}  // namespace huashan::arena
