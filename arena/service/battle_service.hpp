// Battles, end to end and without HTTP: pick a pair with the sampler, store the
// battle, ask both models at once on background threads, let a client follow
// both answers as they stream (sides labelled only A and B), store answers and
// style features, flag answers that name their own model or maker, and take
// the vote under the arena's limits. No model identity leaves this class
// before the battle's vote; after it, the vote result carries both.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "arena/domain/model.hpp"
#include "arena/domain/pair_sampler.hpp"
#include "arena/domain/rate_limiter.hpp"
#include "arena/domain/vote.hpp"
#include "arena/service/metrics.hpp"
#include "arena/store/arena_store.hpp"
#include "common/error.hpp"
#include "harness/model_backend.hpp"

namespace huashan::arena {

struct arena_model {
  model_record record;                              // as stored (id, names, organization)
  std::shared_ptr<harness::model_backend> backend;  // shared by every battle
  double weight = 1.0;
  std::vector<std::string> identity_words;
  bool random_weights = false;
};

struct battle_settings {
  std::size_t max_prompt_bytes = 8000;
  int max_turns = 8;
  std::chrono::milliseconds min_time_before_vote{2000};  // after both answers are complete
  rate_limit votes_per_session{20, 10};
  rate_limit votes_per_address{60, 30};
  rate_limit battles_per_session{10, 5};
  rate_limit battles_per_address{30, 15};
  harness::generation_options generation{512, 0.7, 1.0, std::nullopt, {}};
  std::size_t max_live_battles = 10000;          // in memory for streaming; the oldest are dropped
  std::chrono::minutes live_battle_ttl{60};
  int generation_threads = 16;                   // model calls in flight at once (two per battle turn)
  sampler_options sampling;
  // Seeds the pair draws so a run is reproducible (`huashan serve
  // --sampler-seed`); nullopt: seeded from std::random_device.
  std::optional<std::uint64_t> sampler_seed;
};

// One event of a battle's stream.
struct battle_event {
  enum class kind { text, side_done, side_failed, turn_done };
  kind type = kind::text;
  char side = 'a';          // 'a' or 'b' (none for turn_done)
  std::string text;         // text: the new piece; side_done: the finish reason; side_failed: a generic message
  int turn = 1;
};

struct vote_outcome {
  bool recorded_now = false;
  std::string winner;  // model_a | model_b | tie | tie (bothbad)
  model_record model_a;
  model_record model_b;
};

class battle_service {
 public:
  // `models` are the enabled models the sampler draws from (ids from the store).
  battle_service(store::arena_store& store, std::vector<arena_model> models, battle_settings settings,
                 arena_metrics* metrics);
  ~battle_service();  // waits for running generations
  battle_service(const battle_service&) = delete;
  battle_service& operator=(const battle_service&) = delete;

  // Starts a battle for `session_id`: returns its id at once; both answers are
  // generated in the background. The battle is stored with its prompt's
  // language (prompt_language: zh, en or other). input_error for an empty or oversized prompt,
  // rate_limited_error past the limits, input_error with fewer than two models.
  std::string start_battle(const std::string& prompt, const std::optional<std::string>& category,
                           const std::string& session_id, const std::string& address);
  // Adds a turn (the same two models, the whole conversation as context).
  // not_found_error for another session's or an unknown battle, conflict_error
  // while the previous turn is still answering or after the vote.
  int add_turn(const std::string& battle_id, const std::string& prompt, const std::string& session_id,
               const std::string& address);
  // Sends the current turn's events to `sink` (replaying what came before)
  // until the turn is done or `sink` returns false. not_found_error as above.
  void follow(const std::string& battle_id, const std::string& session_id,
              const std::function<bool(const battle_event&)>& sink);
  // Records the vote once. not_found_error, conflict_error while answering or
  // before min_time_before_vote, rate_limited_error past the limits. A battle
  // this process does not hold in memory (another arena process ran it, or the
  // server restarted) is checked against the database: its session and the
  // time since its last stored answer.
  vote_outcome vote(const std::string& battle_id, vote_choice choice, const std::string& session_id,
                    const std::string& address);
  // Starts the new-model boost from the votes already in the database.
  // database_error when it cannot read them.
  void load_vote_counts();
  // The latest overall leaderboard, for the active policy (knowledge_for:
  // models it does not list are unknown). Thread-safe.
  void set_leaderboard(const sampler_leaderboard& board);
  // The models offered now (for the public list; no battle identity in it).
  std::vector<arena_model> models() const;
  // Offers one more model from the next battle on (an admin adding an
  // endpoint). conflict_error when the name is already offered.
  void add_model(arena_model model);
  // Takes a model out of (or back into) the draw from the next battle on;
  // battles already running keep their models. False for an unknown name.
  bool set_model_enabled(const std::string& name, bool enabled);
  // Brings the offered models in step with the `models` table (another arena
  // process's admin changes): enabled flags and names of known models, and
  // enabled models not offered yet made by `make` (nullopt: skip, e.g. a local
  // file this process did not load). Returns how many were added.
  std::size_t sync_models(const std::vector<model_record>& stored,
                          const std::function<std::optional<arena_model>(const model_record&)>& make);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace huashan::arena
