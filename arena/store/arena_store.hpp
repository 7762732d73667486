// The arena's records in PostgreSQL: models, battles with their turns, votes,
// and the pair/outcome counts that leaderboards are computed from. The
// domain's types and plain structs in and out; libpqxx stays inside store/.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "arena/domain/answer_features.hpp"
#include "arena/domain/model.hpp"
#include "arena/domain/vote.hpp"

namespace huashan::arena::store {

struct new_battle {
  std::int64_t model_a_id = 0;  // shown as side A
  std::int64_t model_b_id = 0;  // shown as side B
  std::optional<std::string> category;
  std::optional<std::string> language;
  std::optional<std::string> session_id;
  std::optional<double> sampling_probability;  // P(this ordered pair) under the sampler
};

struct battle_turn {
  std::string battle_id;
  int turn = 1;
  std::string prompt;
  std::string answer_a;
  std::string answer_b;
  int tokens_a = 0;
  int tokens_b = 0;
  int latency_ms_a = 0;
  int latency_ms_b = 0;
};

struct vote_request {
  std::string battle_id;
  vote_choice choice = vote_choice::tie;
  std::optional<std::string> voter_id;
  std::optional<std::string> client_address;  // textual IP
  // Checks made against the stored battle, for a battle this process does not
  // hold in memory (another arena process ran it, or this one restarted): the
  // battle must belong to `require_session` (else not_found_error, as for an
  // unknown id) and its last answer must have been stored at least
  // `require_answered_before` ago by the database's clock (else the
  // conflict_error of require_votable, the rule the battle service applies).
  std::optional<std::string> require_session;
  std::optional<std::chrono::milliseconds> require_answered_before;
};

struct vote_result {
  bool recorded_now = false;  // false: the battle already had a vote; `winner` is that first vote
  std::string winner;         // winner_name(): model_a | model_b | tie | tie (bothbad)
  model_record model_a;
  model_record model_b;
};

struct pair_outcome_row {
  std::string model_a;
  std::string model_b;
  std::string category;
  std::string language;
  std::string winner;
  std::int64_t votes = 0;
};

struct store_options {
  std::string url;
  std::size_t pool_size = 8;
  std::chrono::milliseconds acquire_timeout{5000};
};

class arena_store {
 public:
  explicit arena_store(store_options options);
  ~arena_store();
  arena_store(const arena_store&) = delete;
  arena_store& operator=(const arena_store&) = delete;

  // What an upsert does with `enabled` of a model already stored: `set` writes
  // the given flag (an admin's edit); `keep_stored` keeps the stored flag
  // unless the given one is false (the registry file at startup: an admin's
  // disable survives a restart, and `enabled: false` in the file still wins).
  enum class enabled_rule { set, keep_stored };
  // Inserts or updates each model by name (display name, organization, license,
  // backend, config, enabled); models not listed are left alone. Returns the
  // stored records with ids. Throws input_error naming a bad name or backend.
  std::vector<model_record> upsert_models(const std::vector<model_record>& models,
                                          enabled_rule rule = enabled_rule::set);
  // Inserts one new model and returns it with its id. The table's unique name
  // decides: conflict_error naming the model when one of that name exists
  // (even one stored a moment ago by another process). input_error for a bad
  // name or backend, database_error otherwise.
  model_record insert_model(const model_record& model);
  // Applies `changes` to the stored model `name` in one statement and returns
  // it; not_found_error naming it when there is none.
  model_record update_model(const std::string& name, const model_changes& changes);
  // All models, or only enabled ones, ordered by name.
  std::vector<model_record> list_models(bool enabled_only) const;
  // Enables or disables a model; throws not_found_error naming it.
  void set_model_enabled(const std::string& name, bool enabled);

  // Stores a new battle and returns its id (a UUID). Throws input_error when the
  // models are equal or unknown.
  std::string create_battle(const new_battle& battle);
  // Stores one turn's prompt and answers and marks the battle answered; adds the
  // answers' style features to the battle's. Throws not_found_error.
  void record_turn(const battle_turn& turn, const style_vector& style_a, const style_vector& style_b);
  // Keeps a battle out of the rankings (e.g. an answer named its own model)
  // from battles.flagged_event on: the vote event that takes its counted vote
  // back, or the current one when it has no vote yet.
  void flag_battle(const std::string& battle_id, const std::string& reason);
  // When the last answer of the battle was stored; nullopt before any answer.
  // Throws not_found_error.
  std::optional<std::chrono::system_clock::time_point> answered_at(const std::string& battle_id) const;

  // Records the battle's vote and updates the pair/outcome counts in the same
  // transaction; returns only after COMMIT. The vote stores the vote event its
  // count draws (votes.vote_event; the current one on a flagged battle, which
  // counts nowhere). A repeated vote changes nothing and returns the first one. Throws not_found_error for an unknown battle id,
  // and not_found_error / conflict_error when a require_* check fails.
  vote_result record_vote(const vote_request& vote);

  // The sufficient statistics: committed, unflagged votes per ordered pair,
  // category, language and winner.
  std::vector<pair_outcome_row> pair_outcome_counts() const;
  // Counts rebuilt from the raw votes (the same rows as pair_outcome_counts()
  // when the database is consistent): for audits and repairs.
  std::vector<pair_outcome_row> pair_outcome_counts_from_votes() const;
  // Increases with every committed vote: a recompute is due when it moved.
  std::int64_t vote_events() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace huashan::arena::store
