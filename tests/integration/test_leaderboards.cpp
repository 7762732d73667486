// Live leaderboards against a real PostgreSQL: one snapshot per variant
// (overall, each category, each language; with and without style control),
// flagged battles left out, nothing recomputed without new votes, only the
// holder of the advisory lock recomputes, and two services on one database
// serve the same snapshot ids. Later recomputes read only what changed and
// store only the boards it changes, and serve what a full recompute would.
#include <doctest/doctest.h>
#include <pqxx/pqxx>

#include <chrono>
#include <cmath>
#include <future>
#include <map>
#include <set>
#include <thread>
#include <tuple>

#include "arena/service/leaderboard_json.hpp"
#include "arena/service/leaderboard_service.hpp"
#include "arena/service/snapshot_compute.hpp"
#include "arena/service/vote_cache.hpp"
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

  // A vote flagged before any recompute saw it moves the events but no board:
  // the next tick stores the overall plain board (which marks the votes seen) alone.
  f.store->flag_battle(f.vote(0, 1, vote_choice::b, std::nullopt, std::nullopt), "names its maker");
  CHECK(boards.tick().recomputed == 1);
  CHECK(boards.latest("", "", false)->record.vote_count == 4);
  CHECK(f.scalar("SELECT count(*) FROM leaderboard_snapshots") == 11);
  CHECK(boards.tick().recomputed == 0);
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
  // The category's own snapshots, which rate only its two models: two, as the
  // second vote brought a model with no votes before, which recomputes every board.
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

namespace {

void check_same_columns(const store::vote_columns& kept, const store::vote_columns& read) {
  CHECK(kept.last_vote_event == read.last_vote_event);
  REQUIRE(kept.models.size() == read.models.size());
  for (std::size_t k = 0; k < read.models.size(); ++k) {
    CHECK(kept.models[k].name == read.models[k].name);
    CHECK(kept.models[k].display_name == read.models[k].display_name);
  }
  CHECK(kept.categories == read.categories);
  CHECK(kept.languages == read.languages);
  CHECK(kept.event == read.event);
  CHECK(kept.model_a == read.model_a);
  CHECK(kept.model_b == read.model_b);
  CHECK(kept.winner == read.winner);
  CHECK(kept.category == read.category);
  CHECK(kept.language == read.language);
  CHECK(kept.style_a == read.style_a);
  CHECK(kept.style_b == read.style_b);
  REQUIRE(kept.sampling_probability.size() == read.sampling_probability.size());
  for (std::size_t k = 0; k < read.size(); ++k)
    CHECK((std::isnan(kept.sampling_probability[k]) ? std::isnan(read.sampling_probability[k])
                                                    : kept.sampling_probability[k] == read.sampling_probability[k]));
}

// Every served board equals the board computed now from every counted vote
// with the parameters it records.
void check_served_as_full(const leaderboard_service& boards, const std::string& url) {
  const store::leaderboard_store reader(url);
  const auto votes = reader.read_vote_columns();
  std::size_t checked = 0;
  for (const auto& v : boards.variants()) {
    const auto served = boards.latest(v.category, v.language, v.style_control);
    REQUIRE(served);
    CAPTURE(v.category);
    CAPTURE(v.language);
    CAPTURE(v.style_control);
    const auto params = snapshot_parameters_from_json(served->record.parameters_json);
    const auto now = compute_snapshot(votes, v.category, v.language, params.options);
    CHECK(served->record.vote_count == now.vote_count);
    CHECK(served->record.body_json == reader.as_stored_json(now.body_json));
    ++checked;
  }
  // The variants present in the votes, each twice, are all served.
  CHECK(checked == 2 * (1 + votes.categories.size() + votes.languages.size()));
}

}  // namespace

TEST_CASE("the kept votes brought forward by each change equal a full read as of the same event") {
  board_fixture f;
  // A vote from before vote events (no event): always counted, read last.
  const auto legacy = f.store->create_battle({f.models[2].id, f.models[1].id, std::string("math"), std::nullopt,
                                              std::nullopt, std::nullopt});
  f.store->record_turn({legacy, 1, "q", "a", "b", 1, 1, 1, 1}, {5, 1, 0, 0}, {7, 0, 1, 0});
  f.vote(0, 1, vote_choice::a, "coding", "English");
  f.vote(1, 2, vote_choice::b, "math", "Chinese");
  const auto in_math = f.vote(2, 0, vote_choice::tie, "math", "English");
  f.vote(0, 2, vote_choice::bothbad, std::nullopt, "English", 0.25);
  {
    pqxx::connection conn(f.url);
    pqxx::nontransaction tx(conn);
    tx.exec0("INSERT INTO votes (battle_id, winner) VALUES ('" + legacy + "', 'model_a')");
    tx.exec0("UPDATE votes SET vote_event = NULL WHERE battle_id = '" + legacy + "'");
  }
  const store::leaderboard_store reader(f.url);
  vote_cache cache;
  cache.reset(reader.read_vote_columns());
  REQUIRE(cache.votes().event.back() == store::vote_columns::no_event);

  // New votes in known models and tags, and a flag on a kept vote.
  f.vote(1, 0, vote_choice::b, "coding", "Chinese");
  f.vote(2, 1, vote_choice::a, std::nullopt, std::nullopt);
  f.store->flag_battle(in_math, "names its model");
  auto touched = cache.apply(reader.read_vote_changes(cache.last_vote_event()));
  REQUIRE(touched);
  CHECK(touched->any);
  CHECK(touched->categories == std::set<std::string>{"coding", "math"});
  CHECK(touched->languages == std::set<std::string>{"Chinese", "English"});
  check_same_columns(cache.votes(), reader.read_vote_columns());
  CHECK(cache.votes().event.back() == store::vote_columns::no_event);  // still last

  // Nothing new: nothing touched, nothing moved.
  touched = cache.apply(reader.read_vote_changes(cache.last_vote_event()));
  REQUIRE(touched);
  CHECK(!touched->any);
  check_same_columns(cache.votes(), reader.read_vote_columns());

  // A vote taken out before it was ever kept touches nothing either.
  f.store->flag_battle(f.vote(0, 1, vote_choice::a, "coding", std::nullopt), "spam");
  touched = cache.apply(reader.read_vote_changes(cache.last_vote_event()));
  REQUIRE(touched);
  CHECK(!touched->any);
  check_same_columns(cache.votes(), reader.read_vote_columns());

  SUBCASE("a new tag needs a full read") {
    f.vote(0, 1, vote_choice::a, "poetry", std::nullopt);
    CHECK(!cache.apply(reader.read_vote_changes(cache.last_vote_event())));
    CHECK(cache.empty());
  }
  SUBCASE("a renamed model needs a full read") {
    f.store->update_model(f.models[0].name, {std::string("Alpha 7B v2"), std::nullopt, std::nullopt, std::nullopt});
    CHECK(!cache.apply(reader.read_vote_changes(cache.last_vote_event())));
  }
  SUBCASE("a tag left without votes needs a full read") {
    // Chinese has two votes (1-2 and 1-0); the model 1-0 one is in coding too.
    pqxx::connection conn(f.url);
    pqxx::nontransaction tx(conn);
    for (const auto& row : tx.exec("SELECT battle_id::text FROM votes WHERE language = 'Chinese'"))
      f.store->flag_battle(row[0].as<std::string>(), "spam");
    CHECK(!cache.apply(reader.read_vote_changes(cache.last_vote_event())));
  }
  SUBCASE("changes from another starting event are refused") {
    auto changes = reader.read_vote_changes(cache.last_vote_event() - 1);
    CHECK(!cache.apply(changes));
  }
}

TEST_CASE("a recompute after a few votes stores the boards they change and serves what a full recompute would") {
  board_fixture f;
  leaderboard_service boards(f.url, board_fixture::settings("one"), nullptr);
  f.vote(0, 1, vote_choice::a, "coding", "English");
  f.vote(1, 2, vote_choice::b, "math", "Chinese");
  const auto math_chinese = f.vote(2, 0, vote_choice::tie, "math", "Chinese");
  f.vote(0, 2, vote_choice::a, std::nullopt, "English");
  f.vote(2, 1, vote_choice::b, "coding", std::nullopt);
  // Variants: overall, coding, math, English, Chinese; each twice.
  CHECK(boards.tick().recomputed == 10);
  check_served_as_full(boards, f.url);
  const auto math_before = boards.latest("math", "", true)->record.id;

  // A coding/English vote: overall (2), coding (2) and English (2).
  f.vote(1, 0, vote_choice::a, "coding", "English");
  CHECK(boards.tick().recomputed == 6);
  CHECK(f.scalar("SELECT count(*) FROM leaderboard_snapshots") == 16);
  CHECK(boards.latest("math", "", true)->record.id == math_before);  // not recomputed, still served
  CHECK(boards.latest("coding", "", false)->record.vote_count == 3);
  check_served_as_full(boards, f.url);

  // A flag on a kept math/Chinese vote: overall, math and Chinese.
  f.store->flag_battle(math_chinese, "names its model");
  CHECK(boards.tick().recomputed == 6);
  CHECK(boards.latest("math", "", false)->record.vote_count == 1);
  check_served_as_full(boards, f.url);

  // A new language: every board again, and a variant whose votes are gone leaves.
  f.store->flag_battle(f.vote(0, 1, vote_choice::b, "poetry", "French"), "spam");
  f.vote(2, 0, vote_choice::a, std::nullopt, "French");
  CHECK(boards.tick().recomputed == 12);
  check_served_as_full(boards, f.url);
  {
    pqxx::connection conn(f.url);
    pqxx::nontransaction tx(conn);
    for (const auto& row : tx.exec("SELECT battle_id::text FROM votes WHERE language = 'French' AND flagged_event IS NULL"))
      f.store->flag_battle(row[0].as<std::string>(), "spam");
  }
  CHECK(boards.tick().recomputed == 10);
  CHECK(!boards.latest("", "French", false));
  CHECK(f.scalar("SELECT count(*) FROM leaderboard_latest") == 10);
  check_served_as_full(boards, f.url);

  // Another service (its own memory empty) takes over: it recomputes every board.
  leaderboard_service other(f.url, board_fixture::settings("two"), nullptr);
  f.vote(0, 2, vote_choice::a, "math", std::nullopt);
  CHECK(other.tick().recomputed == 10);
  CHECK(boards.tick().reloaded);
  check_served_as_full(boards, f.url);
}

TEST_CASE("a board read waits for every vote that drew an event before it") {
  board_fixture f;
  f.vote(0, 1, vote_choice::a, std::nullopt, std::nullopt);
  const auto battle = f.store->create_battle({f.models[1].id, f.models[2].id, std::nullopt, std::nullopt,
                                              std::nullopt, std::nullopt});
  f.store->record_turn({battle, 1, "q", "a", "b", 1, 1, 1, 1}, {5, 1, 0, 0}, {7, 0, 1, 0});
  // A vote's transaction as the store runs it: the fence held shared, an event drawn, not yet committed.
  pqxx::connection conn(f.url);
  pqxx::work tx(conn);
  tx.exec0("INSERT INTO votes (battle_id, winner) VALUES ('" + battle + "', 'model_b')");
  tx.exec("SELECT pg_advisory_xact_lock_shared(" + std::to_string(0x48756145'766e7431LL) + ")");
  const auto event = tx.exec1("SELECT nextval('vote_events')")[0].as<std::int64_t>();
  tx.exec0("UPDATE votes SET vote_event = " + std::to_string(event) + " WHERE battle_id = '" + battle + "'");

  const store::leaderboard_store reader(f.url);
  auto read = std::async(std::launch::async, [&] { return reader.read_vote_columns(); });
  CHECK(read.wait_for(std::chrono::milliseconds(300)) == std::future_status::timeout);  // waiting for the vote
  tx.commit();
  const auto votes = read.get();
  CHECK(votes.last_vote_event >= event);
  CHECK(votes.size() == 2);  // without the wait it would count the event and miss the vote
}

TEST_CASE("the overall totals leave out votes and flags past the event they are read as of") {
  board_fixture f;
  f.vote(0, 1, vote_choice::a, "coding", std::nullopt);
  const auto flagged_later = f.vote(1, 2, vote_choice::b, std::nullopt, "English");
  const auto voted_later = f.vote(2, 0, vote_choice::tie, std::nullopt, std::nullopt);
  // As a snapshot sees a vote and a flag that drew their events after E was
  // settled: events past the sequence's value, the totals already moved.
  const auto past = f.scalar("SELECT last_value FROM vote_events") + 100;
  {
    pqxx::connection conn(f.url);
    pqxx::nontransaction tx(conn);
    tx.exec0("UPDATE votes SET vote_event = " + std::to_string(past) + " WHERE battle_id = '" + voted_later + "'");
    tx.exec0("UPDATE battles SET flagged = true, flagged_event = " + std::to_string(past + 1) + " WHERE id = '" +
             flagged_later + "'");
    tx.exec0("UPDATE pair_outcome_counts SET votes = votes - 1 WHERE winner = 'model_b' AND model_a_id = " +
             std::to_string(f.models[1].id));
  }
  const store::leaderboard_store reader(f.url);
  const auto totals = reader.read_counted_outcomes();
  const auto columns = reader.read_vote_columns();
  CHECK(columns.size() == 2);  // the first vote, and the one flagged after E
  REQUIRE(totals.size() == columns.size());
  CHECK(testing::outcome_tally(totals) == testing::outcome_tally(columns));
}
