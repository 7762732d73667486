// The one path from counted votes to a stored board, shared by the live
// recompute (leaderboard_service), `huashan db recompute-snapshot` and the
// battles export: a board recomputed from the votes it saw, with the
// parameters it records, gives the same bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "arena/store/leaderboard_store.hpp"
#include "ranking/battle.hpp"
#include "ranking/leaderboard.hpp"

namespace huashan::arena {

// The battles of the votes in a variant ('' = all categories / languages),
// oldest first, with every column the boards use: tstamp, language, category
// (one tag, none when the battle had none), sampling_probability (1 where a
// battle recorded none: what the board weighs it by) and the style counts.
// Never fails.
ranking::battle_table battle_table_of(const std::vector<store::ranked_vote>& votes, const std::string& category,
                                      const std::string& language);

// The same from the columns the live recompute reads: models in name order
// (those playing in the variant), battles in read order, outcomes, style
// counts and sampling probabilities (1 where none). No string is hashed per
// vote, so building a variant of millions of votes takes milliseconds.
ranking::battle_table battle_table_of(const store::vote_columns& votes, const std::string& category,
                                      const std::string& language);

struct computed_snapshot {
  std::int64_t vote_count = 0;  // battles in the variant
  std::string parameters_json;  // leaderboard_parameters_json
  std::string body_json;        // leaderboard_body_json (empty_leaderboard_body_json without votes)
};
// One variant's board from `data` with `options` (style control, ties, ...).
// Throws what ranking::compute_leaderboard throws.
computed_snapshot compute_snapshot(const store::vote_data& data, const std::string& category,
                                   const std::string& language, const ranking::leaderboard_options& options);

// One variant's board from its battles (battle_table_of) with `options`;
// `models` give display names and organizations. Throws what
// ranking::compute_leaderboard throws.
computed_snapshot compute_snapshot(const ranking::battle_table& battles, const std::vector<store::ranked_model>& models,
                                   const std::string& category, const std::string& language,
                                   const ranking::leaderboard_options& options);
// From the columns (the live recompute and `huashan db recompute-snapshot`).
computed_snapshot compute_snapshot(const store::vote_columns& data, const std::string& category,
                                   const std::string& language, const ranking::leaderboard_options& options);

// Every vote in `data` as CSV in LMArena's columns (ranking::write_battles_csv):
// model_a,model_b,winner,tstamp,language,category,sampling_probability and the
// eight style columns; `huashan rank` reads it back. Never fails.
std::string battles_csv(const store::vote_data& data);

// The export the routes and the CLI serve: the votes counted as of the newest
// overall snapshot's last_vote_event (all counted votes before any snapshot),
// so the file rebuilds the board being served. database_error.
std::string export_battles_csv(const store::leaderboard_store& store);

}  // namespace huashan::arena
