// Live leaderboards against a real PostgreSQL: one snapshot per variant
// (overall, each category, each language; with and without style control),
// flagged battles left out, nothing recomputed without new votes, only the
// holder of the advisory lock recomputes, and two services on one database
// serve the same snapshot ids.
#include <doctest/doctest.h>
#include <pqxx/pqxx>

#include "arena/service/leaderboard_service.hpp"
#include "arena/store/arena_store.hpp"
#include "arena/store/leaderboard_store.hpp"
#include "arena/store/migrations.hpp"
#include "three_models.hpp"

using namespace huashan;
using namespace huashan::arena;

namespace {

struct board_fixture : testing::three_models {
  // A voted battle between models a and b (a shown as side A).
  std::string vote(std::size_t a, std::size_t b, vote_choice choice, std::optional<std::string> category,
                   std::optional<std::string> language, double probability = 0.5) {
    const auto id =
        store->create_battle({models[a].id, models[b].id, category, language, std::nullopt, probability});
    store->record_turn({id, 1, "q", "answer a", "answer b", 10, 20, 5, 5}, {10, 1, 0, 0}, {20, 0, 2, 1});
    store->record_vote({id, choice, std::nullopt, std::nullopt});
    return id;
  }

  long long scalar(const std::string& sql) const {
    pqxx::connection conn(url);
    pqxx::nontransaction tx(conn);
    return tx.exec1(sql)[0].as<long long>();
  }

  static leaderboard_settings settings(const std::string& who) {
    leaderboard_settings s;
    s.bootstrap_rounds = 10;
    s.threads = 1;
    s.computed_by = who;
    return s;
  }
};

}  // namespace

TEST_CASE("one snapshot per variant; flagged battles left out; no votes moved, no snapshot") {
  board_fixture f;
  leaderboard_service boards(f.url, board_fixture::settings("one"), nullptr);
  CHECK(boards.tick().recomputed == 0);  // no votes yet
  CHECK(!boards.has_snapshots());

  f.vote(0, 1, vote_choice::a, "coding", "English");
  f.vote(1, 2, vote_choice::b, "coding", "Chinese");
  f.vote(2, 0, vote_choice::tie, std::nullopt, "English");
  f.vote(0, 2, vote_choice::a, "math", std::nullopt);
  const auto flagged = f.vote(1, 0, vote_choice::a, "math", "English");
  f.store->flag_battle(flagged, "names its model");

  const auto first = boards.tick();
  // Variants: overall, coding, math, English, Chinese; each twice.
  CHECK(first.recomputed == 10);
  CHECK(first.reloaded);
  CHECK(f.scalar("SELECT count(*) FROM leaderboard_snapshots") == 10);
  CHECK(f.scalar("SELECT vote_count FROM leaderboard_snapshots WHERE category = '' AND language = '' "
                 "AND NOT style_control") == 4);  // the flagged vote is not counted
  CHECK(f.scalar("SELECT vote_count FROM leaderboard_snapshots WHERE category = 'math' AND NOT style_control") == 1);
  CHECK(f.scalar("SELECT vote_count FROM leaderboard_snapshots WHERE language = 'English' AND NOT style_control") ==
        2);
  CHECK(f.scalar("SELECT count(DISTINCT seed) FROM leaderboard_snapshots") == 1);
  // Plain boards bootstrap; style-controlled ones take sandwich intervals (the default).
  CHECK(f.scalar("SELECT count(*) FROM leaderboard_snapshots WHERE parameters->>'bootstrap_rounds' = '10' "
                 "AND computed_by = 'one' AND NOT style_control") == 5);
  CHECK(f.scalar("SELECT count(*) FROM leaderboard_snapshots WHERE parameters->>'bootstrap_rounds' = '0' "
                 "AND computed_by = 'one' AND style_control") == 5);
  // The overall plain board is stored first, on its own.
  CHECK(f.scalar("SELECT count(DISTINCT computed_at) FROM leaderboard_snapshots") == 2);
  CHECK(f.scalar("SELECT min(id) FROM leaderboard_snapshots") ==
        f.scalar("SELECT id FROM leaderboard_snapshots WHERE category = '' AND language = '' AND NOT style_control"));

  const auto overall = boards.latest("", "", false);
  REQUIRE(overall);
  CHECK(overall->record.vote_count == 4);
  CHECK(overall->json.find("\"model\": \"gamma-1b\"") != std::string::npos);
  REQUIRE(boards.latest("coding", "", true));
  CHECK(boards.latest("coding", "", true)->json.find("style_coefficients") != std::string::npos);
  CHECK(!boards.latest("poetry", "", false));
  CHECK(!boards.latest("coding", "English", false));  // per category or per language, not both

  // Nothing new: nothing written.
  const auto idle = boards.tick();
  CHECK(idle.recomputed == 0);
  CHECK(!idle.reloaded);
  CHECK(f.scalar("SELECT count(*) FROM leaderboard_snapshots") == 10);

  // A flag after the recompute moves the counts: the next tick recomputes without it.
  f.store->flag_battle(f.vote(0, 1, vote_choice::b, std::nullopt, std::nullopt), "names its maker");
  CHECK(boards.tick().recomputed == 10);
  CHECK(boards.latest("", "", false)->record.vote_count == 4);
}

TEST_CASE("only the holder of the advisory lock recomputes; every service serves the same snapshot") {
  board_fixture f;
  leaderboard_service first(f.url, board_fixture::settings("first"), nullptr);
  leaderboard_service second(f.url, board_fixture::settings("second"), nullptr);
  f.vote(0, 1, vote_choice::a, std::nullopt, std::nullopt);

  {
    // Another session holds the lock: neither recomputes.
    store::leaderboard_store other(f.url);
    const auto lock = other.try_lock(leaderboard_settings{}.lock_key);
    REQUIRE(lock);
    CHECK(!other.try_lock(leaderboard_settings{}.lock_key));  // not re-entrant across sessions
    CHECK(first.tick().recomputed == 0);
    CHECK(second.tick().recomputed == 0);
    CHECK(f.scalar("SELECT count(*) FROM leaderboard_snapshots") == 0);
  }
  CHECK(first.tick().recomputed == 2);
  const auto loaded = second.tick();
  CHECK(loaded.recomputed == 0);  // the first already did: the check under the lock sees it
  CHECK(loaded.reloaded);
  REQUIRE(first.latest("", "", false));
  REQUIRE(second.latest("", "", false));
  CHECK(first.latest("", "", false)->record.id == second.latest("", "", false)->record.id);
  CHECK(first.latest("", "", false)->json == second.latest("", "", false)->json);
  CHECK(f.scalar("SELECT count(DISTINCT computed_by) FROM leaderboard_snapshots") == 1);

  // A stored snapshot by id, also one no longer the latest.
  const auto old_id = first.latest("", "", false)->record.id;
  f.vote(1, 0, vote_choice::a, std::nullopt, std::nullopt);
  CHECK(second.tick().recomputed == 2);
  CHECK(first.tick().reloaded);
  CHECK(first.latest("", "", false)->record.id != old_id);
  const auto old = first.by_id(old_id);
  REQUIRE(old);
  CHECK(old->record.vote_count == 1);
  CHECK(!first.by_id(old_id + 1000));
}

TEST_CASE("rating history: each snapshot's rows of one variant, oldest first, re-read only after a new snapshot") {
  board_fixture f;
  leaderboard_service boards(f.url, board_fixture::settings("one"), nullptr);
  f.vote(0, 1, vote_choice::a, "coding", std::nullopt);
  REQUIRE(boards.tick().recomputed > 0);
  const leaderboard_service::variant overall{"", "", false};
  const auto first = boards.rating_history(overall, 60);
  REQUIRE(first.size() == 2);  // two models rated in one snapshot
  CHECK(first[0].snapshot_id == first[1].snapshot_id);
  CHECK(first[0].model < first[1].model);

  f.vote(1, 2, vote_choice::b, std::nullopt, std::nullopt);
  REQUIRE(boards.tick().recomputed > 0);
  const auto second = boards.rating_history(overall, 60);
  REQUIRE(second.size() == 5);  // 2 rows, then 3
  CHECK(second.front().snapshot_id < second.back().snapshot_id);
  const auto newest = boards.latest("", "", false);
  REQUIRE(newest);
  CHECK(second.back().snapshot_id == newest->record.id);
  CHECK(second.back().computed_at.size() == 20);  // 2026-12-06T10:00:00Z

  // One model's history, and the limit counts snapshots, newest kept.
  const auto alpha = boards.rating_history(overall, 60, f.models[0].name);
  CHECK(alpha.size() == 2);
  for (const auto& p : alpha) CHECK(p.model == f.models[0].name);
  const auto last_only = boards.rating_history(overall, 1);
  CHECK(last_only.size() == 3);
  // The category's own snapshots (each recompute writes one), which rate only its two models.
  const auto coding = boards.rating_history({"coding", "", false}, 60);
  CHECK(coding.size() == 4);
  for (const auto& p : coding) CHECK(p.model != f.models[2].name);

  // Served from memory until a newer snapshot: rows deleted behind its back do not show.
  pqxx::connection conn(f.url);
  pqxx::nontransaction tx(conn);
  tx.exec0("DELETE FROM leaderboard_snapshots WHERE category = '' AND language = '' AND NOT style_control AND id < " +
           std::to_string(newest->record.id));
  CHECK(boards.rating_history(overall, 60).size() == 5);
}
