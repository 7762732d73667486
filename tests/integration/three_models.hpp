// A fresh, migrated database with an arena store and three models
// (alpha-7b, beta-8b, gamma-1b), the start of the leaderboard tests, and a
// tally of vote columns by pair and winner for comparing two reads.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "arena/store/arena_store.hpp"
#include "arena/store/leaderboard_store.hpp"
#include "arena/store/migrations.hpp"
#include "db_fixture.hpp"

namespace huashan::testing {

struct three_models {
  std::string url = fresh_database();
  std::unique_ptr<arena::store::arena_store> store;
  std::vector<arena::model_record> models;

  three_models() {
    arena::store::migrate(url, arena::store::embedded_migrations());
    store = std::make_unique<arena::store::arena_store>(arena::store::store_options{url, 4});
    models = store->upsert_models({{0, "alpha-7b", "Alpha 7B", "Alpha Labs", "mit", "local", "{}", true},
                                   {0, "beta-8b", "Beta 8B", "Beta Inc", "mit", "local", "{}", true},
                                   {0, "gamma-1b", "Gamma 1B", "Gamma", "mit", "local", "{}", true}});
  }
};

// Votes per (model a, model b, winner), by model name.
inline std::map<std::tuple<std::string, std::string, int>, int> outcome_tally(const arena::store::vote_columns& c) {
  std::map<std::tuple<std::string, std::string, int>, int> out;
  for (std::size_t k = 0; k < c.size(); ++k) ++out[{c.models[c.model_a[k]].name, c.models[c.model_b[k]].name, c.winner[k]}];
  return out;
}

}  // namespace huashan::testing
