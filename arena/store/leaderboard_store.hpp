// Leaderboard snapshots in PostgreSQL: the votes a recompute reads (those
// counted as of a vote event, with their battles' columns), whether a recompute is due, the advisory lock
// that lets one process of many recompute, and the snapshot rows. Plain
// structs in and out; libpqxx stays inside store/.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "arena/store/arena_store.hpp"

namespace huashan::arena::store {

// One counted vote with what the rankings need from its battle.
struct ranked_vote {
  std::string model_a;
  std::string model_b;
  std::string winner;    // model_a | model_b | tie | tie (bothbad)
  std::string category;  // '' when the battle had none
  std::string language;
  style_vector style_a{};  // zeros when the battle recorded none
  style_vector style_b{};
  std::optional<double> sampling_probability;
  double voted_at = 0;  // seconds since the Unix epoch
};

// What the public leaderboard may say about a model that has votes.
struct ranked_model {
  std::string name;
  std::string display_name;
  std::string organization;
};

struct vote_data {
  std::int64_t last_vote_event = 0;  // the E the votes were read as of
  std::vector<ranked_vote> votes;    // oldest first
  std::vector<ranked_model> models;  // every model in `votes`, by name
};

// The same votes as columns of small integers, for recomputing every board
// from one read: a model is its index in `models`, a tag its index + 1 in
// `categories` / `languages` (0: none).
struct vote_columns {
  static constexpr std::int64_t no_event = INT64_MAX;  // votes from before sql/0004: read last
  std::int64_t last_vote_event = 0;
  std::vector<std::int64_t> event;       // each vote's vote_event, ascending (no_event last); empty from read_counted_outcomes
  std::vector<ranked_model> models;      // every model with a counted vote, by name
  std::vector<std::string> categories;   // the tags present, sorted
  std::vector<std::string> languages;    // the languages present, sorted
  std::vector<std::uint32_t> model_a, model_b;
  std::vector<std::uint8_t> winner;      // 0 model_a, 1 model_b, 2 tie, 3 tie (bothbad)
  std::vector<std::uint16_t> category, language;
  std::vector<style_vector> style_a, style_b;  // zeros when the battle recorded none
  std::vector<double> sampling_probability;    // NaN when the battle recorded none
  std::size_t size() const { return winner.size(); }
};

// How the counted votes changed from one vote event to a later one.
struct vote_changes {
  std::int64_t after = 0;            // the event the changes start after
  std::int64_t last_vote_event = 0;  // the settled event they run to
  // Votes counted as of last_vote_event that were not as of `after`, in the
  // order read_vote_columns gives; their models and tags only.
  vote_columns added;
  std::vector<std::int64_t> removed;  // events of votes counted as of `after` that a flag took out since, ascending
  std::size_t removed_without_event = 0;  // the same for votes from before sql/0004 (no event to find them by)
  std::vector<ranked_model> models;       // every model, by name, as it reads now
};

// What storing some variants does to the served variants not among them.
enum class other_variants {
  kept,     // they stay served (a recompute that stores the variants that changed)
  retired,  // they leave, but the overall plain board (a recompute of every variant)
};

struct new_snapshot {
  std::string category;  // '' = all
  std::string language;  // '' = all
  bool style_control = false;
  std::int64_t vote_count = 0;
  std::int64_t last_vote_event = 0;
  std::string computed_by;      // host:pid
  std::int64_t seed = 0;
  std::string parameters_json;  // a JSON object
  std::string body_json;        // a JSON object
};

struct snapshot_record {
  std::int64_t id = 0;
  std::string category;
  std::string language;
  bool style_control = false;
  std::string computed_at;  // ISO 8601, UTC, microseconds
  std::int64_t vote_count = 0;
  std::int64_t last_vote_event = 0;
  std::string computed_by;
  std::int64_t seed = 0;
  std::string parameters_json;
  std::string body_json;      // as stored
  std::string board_json;     // the body without "matrices"
  std::string matrices_json;  // the body's "matrices" object ({} when absent)
};

// One model's rating in one stored snapshot (rating history plots).
struct rating_point {
  std::int64_t snapshot_id = 0;
  std::string computed_at;  // ISO 8601, UTC
  std::string model;
  double rating = 0;
  double ci_lo = 0;
  double ci_hi = 0;
};

// A session-level advisory lock held on its own connection; released when
// this object ends (or the connection drops, e.g. the process dies).
class advisory_lock {
 public:
  struct impl;
  explicit advisory_lock(std::unique_ptr<impl> held);
  ~advisory_lock();
  advisory_lock(advisory_lock&&) noexcept;
  advisory_lock& operator=(advisory_lock&&) = delete;

 private:
  std::unique_ptr<impl> impl_;
};

class leaderboard_store {
 public:
  // Connects lazily (a pool of `pool_size`); `url` as for arena_store.
  explicit leaderboard_store(std::string url, std::size_t pool_size = 2);
  ~leaderboard_store();
  leaderboard_store(const leaderboard_store&) = delete;
  leaderboard_store& operator=(const leaderboard_store&) = delete;

  // Whether the votes moved since the newest overall snapshot: vote_events
  // advanced past its last_vote_event, or the counted votes (the sum of
  // pair_outcome_counts, O(pairs)) differ from its vote_count (a vote whose
  // transaction drew its event before that snapshot but committed after).
  // Without snapshots: whether any vote event happened. database_error.
  bool recompute_due() const;
  // pg_try_advisory_lock(key) on a fresh connection: the lock, or nullopt
  // when another session holds it. database_error when unreachable.
  std::optional<advisory_lock> try_lock(std::int64_t key) const;
  // The votes a board counts as of vote event E, with their battles, read in
  // one repeatable-read snapshot: votes with vote_event <= E (NULL: rows from
  // before sql/0004, always in) on battles not flagged as of E (unflagged, or
  // flagged_event > E). Without `as_of`, E is the newest vote event, settled
  // first (every transaction that drew an event up to E has finished), so a
  // live board at E and a recompute of its snapshot read the same rows.
  // database_error.
  vote_data read_votes(std::optional<std::int64_t> as_of = std::nullopt) const;
  // The same votes, in the same order, as columns: one scan of votes (which
  // carry their battle's columns, sql/0006) streamed as COPY text, so memory
  // stays at the columns' size. database_error.
  vote_columns read_vote_columns(std::optional<std::int64_t> as_of = std::nullopt) const;
  // What changed since vote event `after` (a read_vote_columns' or an earlier
  // call's last_vote_event) up to the newest event, settled as above: the
  // votes added and those flagged since, each found by index, so the read
  // costs what changed, not what is stored. database_error.
  vote_changes read_vote_changes(std::int64_t after) const;
  // The counted votes' models and winners from pair_outcome_counts (the
  // totals every vote and flag keeps up to date), as of the vote event
  // settled just before the snapshot: one row per vote, grouped by pair and winner, no tags, styles, sampling
  // probabilities or events. All a plain board needs, read in a fraction of
  // the votes' scan. database_error.
  vote_columns read_counted_outcomes() const;
  // The last_vote_event of the newest overall snapshot; nullopt without one.
  std::optional<std::int64_t> newest_overall_vote_event() const;
  // `json` as PostgreSQL stores and prints it as jsonb (key order, numbers):
  // the text a stored body of the same value reads back as. database_error
  // (also for text that is not JSON).
  std::string as_stored_json(const std::string& json) const;
  // Stores the snapshots of one recompute in one transaction (so they share
  // computed_at) and makes each its variant's served board; `others` says
  // what becomes of the served variants not among them. Returns the ids in
  // order. database_error.
  std::vector<std::int64_t> insert_snapshots(const std::vector<new_snapshot>& snapshots,
                                             other_variants others = other_variants::kept);
  // The id of the newest snapshot, 0 when there is none: cheap change detection.
  std::int64_t newest_snapshot_id() const;
  // Each variant's served board (the newest stored for it, while the variant
  // has votes), oldest id first; those whose id is in `loaded` carry only
  // their id and variant (the caller holds them already: the bodies of 28
  // boards with their matrices are megabytes). database_error.
  std::vector<snapshot_record> latest_snapshots(const std::set<std::int64_t>& loaded = {}) const;
  // The rows of the newest `limit` snapshots of one variant, oldest snapshot
  // first, models by name within one (only `model`'s rows when given).
  // database_error.
  std::vector<rating_point> rating_history(const std::string& category, const std::string& language,
                                           bool style_control, std::size_t limit,
                                           const std::optional<std::string>& model) const;
  // One stored snapshot; nullopt when there is no such id. database_error.
  std::optional<snapshot_record> snapshot(std::int64_t id) const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace huashan::arena::store
