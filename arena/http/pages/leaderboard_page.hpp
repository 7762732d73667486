// The leaderboard page's <main>: selectors (a GET form), snapshot line,
// the table, downloads and the five plots. Pure: data in, markup out.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "arena/domain/model.hpp"
#include "arena/http/ui_text.hpp"
#include "arena/service/leaderboard_json.hpp"
#include "arena/service/leaderboard_service.hpp"

namespace huashan::arena::http {

struct leaderboard_page_data {
  ui_language language = ui_language::en;
  // The variant asked for ('' = all).
  std::string category;
  std::string prompt_language;
  bool style_control = false;
  std::int64_t min_votes = 0;
  std::vector<leaderboard_service::variant> variants;  // what the selectors offer
  // The variant's newest snapshot; nullopt when there is none.
  std::optional<store::snapshot_record> snapshot;
  board_view board;
  std::map<std::string, model_record> models;   // by name: licence and links
  std::vector<store::rating_point> history;     // the variant's snapshots, oldest first
};

std::string leaderboard_main(const ui_catalog& text, const leaderboard_page_data& data);

// The label of a category or prompt language the pages know ('' = all), or
// the value itself.
std::string category_label(const ui_catalog& text, ui_language language, const std::string& category);
std::string prompt_language_label(const ui_catalog& text, ui_language language, const std::string& code);

}  // namespace huashan::arena::http
