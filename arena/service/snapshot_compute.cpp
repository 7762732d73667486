#include "arena/service/snapshot_compute.hpp"

#include <algorithm>
#include <cmath>

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

ranking::battle_table battle_table_of(const store::vote_columns& votes, const std::string& category,
                                      const std::string& language) {
  const auto tag = [](const std::vector<std::string>& names, const std::string& name) -> int {
    if (name.empty()) return -1;  // all
    const auto it = std::lower_bound(names.begin(), names.end(), name);
    return it != names.end() && *it == name ? static_cast<int>(it - names.begin()) + 1 : -2;  // -2: none match
  };
  const int want_category = tag(votes.categories, category), want_language = tag(votes.languages, language);
  ranking::battle_table t;
  if (want_category == -2 || want_language == -2) return t;
  std::vector<bool> in(votes.size());
  std::vector<bool> playing(votes.models.size());
  std::size_t n = 0;
  for (std::size_t k = 0; k < votes.size(); ++k) {
    in[k] = (want_category < 0 || votes.category[k] == want_category) &&
            (want_language < 0 || votes.language[k] == want_language);
    if (!in[k]) continue;
    ++n;
    playing[votes.model_a[k]] = playing[votes.model_b[k]] = true;
  }
  if (n == 0) return t;
  // The variant's models in name order (votes.models is sorted by name).
  std::vector<std::uint32_t> index(votes.models.size());
  for (std::size_t m = 0; m < votes.models.size(); ++m)
    if (playing[m]) index[m] = t.models.intern(votes.models[m].name);
  static constexpr ranking::outcome outcomes[] = {ranking::outcome::model_a, ranking::outcome::model_b,
                                                  ranking::outcome::tie, ranking::outcome::tie_bothbad};
  t.model_a.reserve(n);
  t.model_b.reserve(n);
  t.winner.reserve(n);
  t.line.reserve(n);
  t.style.reserve(n);
  t.sampling_probability.reserve(n);
  for (std::size_t k = 0; k < votes.size(); ++k) {
    if (!in[k]) continue;
    t.model_a.push_back(index[votes.model_a[k]]);
    t.model_b.push_back(index[votes.model_b[k]]);
    t.winner.push_back(outcomes[votes.winner[k] & 3u]);
    t.line.push_back(static_cast<std::uint32_t>(k + 1));
    ranking::style_counts s;
    for (std::size_t f = 0; f < ranking::n_style_features; ++f) {
      s.a[f] = static_cast<std::uint32_t>(std::max(0, votes.style_a[k][f]));
      s.b[f] = static_cast<std::uint32_t>(std::max(0, votes.style_b[k][f]));
    }
    t.style.push_back(s);
    const double p = votes.sampling_probability[k];
    t.sampling_probability.push_back(std::isnan(p) ? 1.0 : p);
  }
  return t;
}

computed_snapshot compute_snapshot(const ranking::battle_table& battles, const std::vector<store::ranked_model>& models,
                                   const std::string& category, const std::string& language,
                                   const ranking::leaderboard_options& options) {
  computed_snapshot s;
  s.vote_count = static_cast<std::int64_t>(battles.size());
  s.parameters_json = leaderboard_parameters_json(options, category, language);
  s.body_json = battles.size() == 0 ? empty_leaderboard_body_json()
                                    : leaderboard_body_json(ranking::compute_leaderboard(battles, options), models);
  return s;
}

computed_snapshot compute_snapshot(const store::vote_columns& data, const std::string& category,
                                   const std::string& language, const ranking::leaderboard_options& options) {
  return compute_snapshot(battle_table_of(data, category, language), data.models, category, language, options);
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
