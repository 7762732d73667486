// The leaderboards' JSON and CSV (Boost.JSON inside the .cpp only): the body
// stored with each snapshot, the texts served for it (built once when a
// snapshot is loaded, so requests only copy bytes), and what the active
// sampler reads back from the overall board.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "arena/store/leaderboard_store.hpp"
#include "ranking/leaderboard.hpp"

namespace huashan::arena::http {

// A snapshot's body: rows (rank, model, display_name, organization, rating,
// ci_lo, ci_hi, rank_ub, votes), battles, interval method, warnings, style
// coefficients with style control, and matrices (models, battles,
// win_fraction, predicted; null where two models never met). `models` gives
// display names and makers (all models in the rows have revealed votes).
std::string leaderboard_body_json(const ranking::leaderboard& board, const std::vector<store::ranked_model>& models);
// An empty board (no counted votes in this variant).
std::string empty_leaderboard_body_json();
// The snapshot's parameters: what, with the votes, rebuilds it exactly.
std::string leaderboard_parameters_json(const ranking::leaderboard_options& options, const std::string& category,
                                        const std::string& language);

// GET /api/leaderboard: snapshot_id, category, language (null for all),
// style_control, computed_at, computed_by, vote_count, last_vote_event,
// parameters, then the body without its matrices. The stored parts are
// copied as PostgreSQL prints them (plain decimals; Boost.JSON would write
// 1.13E3). input_error for parts that are not JSON objects.
std::string snapshot_response_json(const store::snapshot_record& snapshot);
// GET /api/leaderboard.csv: rank,model,rating,ci_lo,ci_hi,rank_ub,votes.
std::string snapshot_csv(const store::snapshot_record& snapshot);
// GET /api/matrices: snapshot_id, category, language and the body's matrices.
std::string snapshot_matrices_json(const store::snapshot_record& snapshot);

// What the active sampler needs from a body: per model (log10 strength,
// variance from the 95% interval) and battles per unordered pair (names in
// ascending order). Empty for a body without rows.
struct board_knowledge {
  std::map<std::string, std::pair<double, double>> rating;
  std::map<std::pair<std::string, std::string>, double> pair_battles;
};
board_knowledge knowledge_from_body(const std::string& body_json);

}  // namespace huashan::arena::http
