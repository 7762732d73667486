// /models/{name}: who a model is, its overall rating and the rating's
// history, its eval results, and the fingerprint of its weights.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "arena/domain/model.hpp"
#include "arena/http/ui_text.hpp"
#include "arena/service/leaderboard_json.hpp"
#include "arena/service/eval_service.hpp"
#include "arena/service/leaderboard_service.hpp"

namespace huashan::arena::http {

struct model_page_data {
  ui_language language = ui_language::en;
  model_record model;
  std::optional<board_row> rating;  // the overall board's row; nullopt without votes
  std::optional<std::int64_t> snapshot_id;
  std::vector<store::rating_point> history;  // the model's overall ratings, oldest first
  std::vector<store::eval_table_row> evals;  // rows of its runs (by name or fingerprint)
  std::optional<store::fingerprint_value> fingerprint;
};

std::string model_main(const ui_catalog& text, const model_page_data& data);

}  // namespace huashan::arena::http
