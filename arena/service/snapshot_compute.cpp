#include "arena/service/snapshot_compute.hpp"

#include <algorithm>

#include "arena/service/leaderboard_json.hpp"
#include "ranking/battle_writer.hpp"

namespace huashan::arena {
namespace {

ranking::style_counts style_of(const store::ranked_vote& v) {
  ranking::style_counts s;
  for (std::size_t k = 0; k < ranking::n_style_features; ++k) {
    s.a[k] = static_cast<std::uint32_t>(std::max(0, v.style_a[k]));
    s.b[k] = static_cast<std::uint32_t>(std::max(0, v.style_b[k]));
  }
  return s;
}

}  // namespace

ranking::battle_table battle_table_of(const std::vector<store::ranked_vote>& votes, const std::string& category,
                                      const std::string& language) {
  ranking::battle_table t;
  t.category_begin.push_back(0);
  for (std::size_t k = 0; k < votes.size(); ++k) {
    const auto& v = votes[k];
    if ((!category.empty() && v.category != category) || (!language.empty() && v.language != language)) continue;
    const auto w = ranking::parse_outcome(v.winner);
    if (!w) continue;  // the votes table's CHECK makes this unreachable
    t.add(v.model_a, v.model_b, *w, static_cast<std::uint32_t>(k + 1));
    t.tstamp.push_back(v.voted_at);
    t.language.push_back(static_cast<std::uint16_t>(t.languages.intern(v.language)));
    if (!v.category.empty()) t.category_ids.push_back(static_cast<std::uint16_t>(t.categories.intern(v.category)));
    t.category_begin.push_back(static_cast<std::uint32_t>(t.category_ids.size()));
    t.style.push_back(style_of(v));
    t.sampling_probability.push_back(v.sampling_probability.value_or(1.0));
  }
  if (t.size() == 0) t.category_begin.clear();  // an empty table has no optional columns
  return t;
}

computed_snapshot compute_snapshot(const store::vote_data& data, const std::string& category,
                                   const std::string& language, const ranking::leaderboard_options& options) {
  const auto table = battle_table_of(data.votes, category, language);
  computed_snapshot s;
  s.vote_count = static_cast<std::int64_t>(table.size());
  s.parameters_json = leaderboard_parameters_json(options, category, language);
  s.body_json = table.size() == 0 ? empty_leaderboard_body_json()
                                  : leaderboard_body_json(ranking::compute_leaderboard(table, options), data.models);
  return s;
}

std::string battles_csv(const store::vote_data& data) {
  auto table = battle_table_of(data.votes, "", "");
  if (table.size() == 0) {
    // No votes: still the full header, so a reader sees the columns.
    return "model_a,model_b,winner,tstamp,language,category,sampling_probability,"
           "len_a,len_b,header_a,header_b,list_a,list_b,bold_a,bold_b\n";
  }
  return ranking::write_battles_csv(table);
}

std::string export_battles_csv(const store::leaderboard_store& store) {
  return battles_csv(store.read_votes(store.newest_overall_vote_event()));
}

}  // namespace huashan::arena
