// The leaderboards' JSON and CSV (Boost.JSON inside the .cpp only): the body
// and parameters stored with each snapshot, the texts served for it (built
// once when a snapshot is loaded, so requests only copy bytes), and the typed
// board the active sampler reads back from the overall body.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "arena/domain/pair_sampler.hpp"
#include "arena/store/leaderboard_store.hpp"
#include "ranking/leaderboard.hpp"

namespace huashan::arena {

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

// What a snapshot's parameters say: the options (threads 0, matrices on, as
// the recompute runs) and the variant.
struct snapshot_parameters {
  ranking::leaderboard_options options;
  std::string category;  // '' = all
  std::string language;
};
// The inverse of leaderboard_parameters_json: parsing its text gives options
// that write the same text. input_error naming the member for JSON it does
// not understand (a missing or unknown member, a value of another type or
// spelling, a method that disagrees with style_control).
snapshot_parameters snapshot_parameters_from_json(const std::string& parameters_json);

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

// A snapshot as the pages show it.
struct board_row {
  std::int64_t rank = 0;
  std::int64_t rank_ub = 0;
  std::string model;
  std::string display_name;
  std::string organization;
  double rating = 0;  // NaN where the body has null
  double ci_lo = 0;
  double ci_hi = 0;
  std::int64_t votes = 0;
};
struct board_view {
  std::vector<board_row> rows;  // by rank
  std::int64_t battles = 0;
  std::string interval_method;
  std::vector<std::string> warnings;
  // matrices: row/column order `models`; NaN where two models never met
  std::vector<std::string> models;
  std::vector<std::vector<double>> battle_counts;
  std::vector<std::vector<double>> win_fraction;
  std::vector<std::vector<double>> predicted;
};
// Reads a stored body (rows and matrices). input_error for a body that is not
// a JSON object or whose rows lack their fields.
board_view board_view_from_body(const std::string& body_json);

// What the active sampler needs from a stored body: each row's rating and
// interval as a strength (strength_from_rating) and battles per unordered
// pair from its matrices. Empty for a body without rows. input_error when the
// body is not a JSON object.
sampler_leaderboard sampler_leaderboard_from_body(const std::string& body_json);

}  // namespace huashan::arena
