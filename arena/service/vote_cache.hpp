// The counted votes kept between recomputes, as the columns a full read gives
// (store::leaderboard_store::read_vote_columns), brought forward by what
// changed since (read_vote_changes): a recompute after a few votes reads
// those votes, not millions, and learns which variants they touch. Applying
// changes gives exactly the columns a full read as of the same event would;
// where it cannot (a model or tag that is new or gone, a model whose display
// name or organization changed, a flag on a vote from before vote events), it
// says so and the caller reads everything again. No I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "arena/store/leaderboard_store.hpp"

namespace huashan::arena {

// What a change touched: its votes' categories and languages (names).
struct touched_variants {
  bool any = false;  // a vote was added or taken out
  std::set<std::string> categories;
  std::set<std::string> languages;
};

class vote_cache {
 public:
  bool empty() const { return !loaded_; }
  const store::vote_columns& votes() const { return votes_; }
  std::int64_t last_vote_event() const { return votes_.last_vote_event; }

  // Keeps a full read.
  void reset(store::vote_columns votes);
  // Forgets everything (the next recompute reads every vote).
  void clear();
  // Brings the votes forward to changes.last_vote_event; nullopt when the
  // changes cannot be applied in place (see above; `changes.after` not this
  // cache's event counts too), and then the cache is empty.
  std::optional<touched_variants> apply(const store::vote_changes& changes);

 private:
  std::optional<touched_variants> apply_or_fail(const store::vote_changes& changes);

  store::vote_columns votes_;
  bool loaded_ = false;
};

}  // namespace huashan::arena
