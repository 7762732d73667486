// Reproducing the boards from the stored votes against a real PostgreSQL:
// votes and flags carry their vote events (sql/0004), a stored snapshot
// recomputed as of its last_vote_event is byte-identical even after later
// votes and a later flag, an altered body is reported with where it differs,
// and the battles export read back by the CSV reader gives the same ratings
// (plain and style-controlled) as the table the live recompute fits.
#include <doctest/doctest.h>
#include <pqxx/pqxx>

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "arena/service/leaderboard_json.hpp"
#include "arena/service/leaderboard_service.hpp"
#include "arena/service/snapshot_compute.hpp"
#include "arena/service/snapshot_recompute.hpp"
#include "arena/store/arena_store.hpp"
#include "arena/store/leaderboard_store.hpp"
#include "arena/store/migrations.hpp"
#include "common/error.hpp"
#include "three_models.hpp"
#include "ranking/battle_reader.hpp"

using namespace huashan;
using namespace huashan::arena;

namespace {

struct recompute_fixture : testing::three_models {
  // A voted battle; style features vary with `k` so style control has something to fit.
  std::string vote(std::size_t a, std::size_t b, vote_choice choice, std::optional<std::string> category,
                   std::optional<std::string> language, int k, std::optional<double> probability = 0.5) {
    const auto id = store->create_battle({models[a].id, models[b].id, category, language, std::nullopt, probability});
    store->record_turn({id, 1, "q", "answer a", "answer b", 10, 20, 5, 5}, {10 + 7 * k, k % 3, k % 2, 0},
                       {20 + 3 * k, 0, 2, k % 4});
    store->record_vote({id, choice, std::nullopt, std::nullopt});
    return id;
  }

  std::vector<std::string> votes(int from, int to) {
    static const vote_choice choices[] = {vote_choice::a, vote_choice::b, vote_choice::tie, vote_choice::a,
                                          vote_choice::bothbad};
    std::vector<std::string> ids;
    for (int k = from; k < to; ++k)
      ids.push_back(vote(k % 3, (k + 1 + k / 3 % 2) % 3, choices[k % 5], k % 2 ? std::optional<std::string>("coding") : std::nullopt,
           k % 3 ? std::optional<std::string>("English") : std::optional<std::string>("Chinese"), k,
           k % 4 ? std::optional<double>(0.25) : std::nullopt));
    return ids;
  }

  long long scalar(const std::string& sql) const {
    pqxx::connection conn(url);
    pqxx::nontransaction tx(conn);
    return tx.exec1(sql)[0].as<long long>();
  }
  void exec(const std::string& sql) const {
    pqxx::connection conn(url);
    pqxx::nontransaction tx(conn);
    tx.exec0(sql);
  }

  static leaderboard_settings settings() {
    leaderboard_settings s;
    s.bootstrap_rounds = 10;
    s.threads = 1;
    s.computed_by = "test";
    return s;
  }
};

}  // namespace

TEST_CASE("votes and flags carry their vote events") {
  recompute_fixture f;
  const auto first = f.vote(0, 1, vote_choice::a, std::nullopt, std::nullopt, 1);
  const auto second = f.vote(1, 2, vote_choice::b, std::nullopt, std::nullopt, 2);
  CHECK(f.scalar("SELECT vote_event FROM votes WHERE battle_id = '" + first + "'") == 1);
  CHECK(f.scalar("SELECT vote_event FROM votes WHERE battle_id = '" + second + "'") == 2);
  f.store->flag_battle(first, "names its model");  // takes a counted vote back: event 3
  CHECK(f.scalar("SELECT flagged_event FROM battles WHERE id = '" + first + "'") == 3);

  // A flag before any vote draws no event; the later vote takes the current one.
  const auto unvoted = f.store->create_battle({f.models[0].id, f.models[2].id, std::nullopt, std::nullopt,
                                               std::nullopt, 0.5});
  f.store->record_turn({unvoted, 1, "q", "a", "b", 1, 1, 1, 1}, {1, 0, 0, 0}, {1, 0, 0, 0});
  f.store->flag_battle(unvoted, "names its model");
  CHECK(f.scalar("SELECT flagged_event FROM battles WHERE id = '" + unvoted + "'") == 3);
  f.store->record_vote({unvoted, vote_choice::a, std::nullopt, std::nullopt});
  CHECK(f.scalar("SELECT vote_event FROM votes WHERE battle_id = '" + unvoted + "'") == 3);
  CHECK(f.store->vote_events() == 3);

  const store::leaderboard_store boards(f.url);
  CHECK(boards.read_votes(2).votes.size() == 2);  // as of event 2 the first battle was not yet flagged
  CHECK(boards.read_votes(1).votes.size() == 1);
  CHECK(boards.read_votes().votes.size() == 1);  // now: the second only
  CHECK(boards.read_votes().last_vote_event == 3);
}

TEST_CASE("a stored snapshot is recomputed byte for byte after later votes and a flag") {
  recompute_fixture f;
  leaderboard_service live(f.url, recompute_fixture::settings(), nullptr);
  const auto early = f.votes(0, 24);
  REQUIRE(live.tick().recomputed > 2);
  const auto first_ids = f.scalar("SELECT count(*) FROM leaderboard_snapshots");
  const auto first_event = f.scalar("SELECT max(last_vote_event) FROM leaderboard_snapshots");

  // Later: more votes, and a battle counted by the first snapshots flagged.
  f.votes(24, 30);
  f.store->flag_battle(early[5], "names its model");
  f.votes(30, 32);
  CHECK(f.scalar("SELECT flagged_event FROM battles WHERE flagged") > first_event);
  REQUIRE(live.tick().recomputed > 2);
  CHECK(f.scalar("SELECT count(DISTINCT last_vote_event) FROM leaderboard_snapshots") == 2);

  const store::leaderboard_store boards(f.url);
  // Every snapshot of both recomputes, each with its own parameters and variant.
  const auto all = f.scalar("SELECT count(*) FROM leaderboard_snapshots");
  for (std::int64_t id = 1; id <= all; ++id) {
    CAPTURE(id);
    const auto check = recompute_snapshot(boards, id, 1);
    CHECK_MESSAGE(check.identical, check.difference);
    CHECK(check.stored_votes == check.recomputed_votes);
    CHECK(check.last_vote_event == (id <= first_ids ? first_event : f.store->vote_events()));
  }

  SUBCASE("an altered body is reported, naming where") {
    f.exec("UPDATE leaderboard_snapshots SET body = jsonb_set(body, '{rows,0,rating}', '1234.5') WHERE id = 1");
    const auto check = recompute_snapshot(boards, 1, 1);
    CHECK(!check.identical);
    CHECK(check.difference.find("body differs at byte") != std::string::npos);
    CHECK(check.difference.find("1234.5") != std::string::npos);
  }
  SUBCASE("unknown ids and parameters this version does not understand are errors") {
    CHECK_THROWS_AS(recompute_snapshot(boards, 999), not_found_error);
    f.exec("UPDATE leaderboard_snapshots SET parameters = parameters || '{\"gamma\": 1}' WHERE id = 1");
    CHECK_THROWS_WITH_AS(recompute_snapshot(boards, 1), doctest::Contains("unknown member 'gamma'"), input_error);
  }
}

TEST_CASE("parameters JSON parses back into the options that wrote it") {
  ranking::leaderboard_options o;
  o.bootstrap_rounds = 77;
  o.seed = 18446744073709551615ull;
  o.style_control = true;
  o.penalty = ranking::style_penalty::coefficients;
  o.ties = ranking::tie_model::davidson;
  o.inverse_propensity = true;
  o.reweight = true;
  const auto text = leaderboard_parameters_json(o, "coding", "");
  const auto back = snapshot_parameters_from_json(text);
  CHECK(leaderboard_parameters_json(back.options, back.category, back.language) == text);
  CHECK(back.options.seed == o.seed);
  CHECK(back.category == "coding");
  CHECK(back.language.empty());
  CHECK_THROWS_WITH_AS(snapshot_parameters_from_json("{\"method\": \"elo\"}"), doctest::Contains("member 'bootstrap_rounds' is missing"), input_error);
  auto wrong_method = text;
  wrong_method.replace(wrong_method.find("bradley-terry+style-control"), 27, "bradley-terry");
  CHECK_THROWS_WITH_AS(snapshot_parameters_from_json(wrong_method), doctest::Contains("'method'"), input_error);
}

TEST_CASE("the battles export reads back to the same ratings, plain and style-controlled") {
  recompute_fixture f;
  f.votes(0, 30);
  const store::leaderboard_store boards(f.url);
  const auto data = boards.read_votes();
  const auto csv = battles_csv(data);
  CHECK(csv.substr(0, csv.find('\n')) ==
        "model_a,model_b,winner,tstamp,language,category,sampling_probability,"
        "len_a,len_b,header_a,header_b,list_a,list_b,bold_a,bold_b");
  const auto read = ranking::read_battles_csv(csv, "export.csv");
  const auto live = battle_table_of(data.votes, "", "");
  REQUIRE(read.size() == 30);
  CHECK(read.sampling_probability == live.sampling_probability);  // 1 where the battle had none
  CHECK(read.tstamp == live.tstamp);
  for (const bool style : {false, true}) {
    CAPTURE(style);
    ranking::leaderboard_options o;
    o.bootstrap_rounds = 0;
    o.threads = 1;
    o.style_control = style;
    const auto a = ranking::compute_leaderboard(read, o);
    const auto b = ranking::compute_leaderboard(live, o);
    REQUIRE(a.rows.size() == b.rows.size());
    for (std::size_t k = 0; k < a.rows.size(); ++k) {
      CHECK(a.rows[k].name == b.rows[k].name);
      CHECK(a.rows[k].rating == doctest::Approx(b.rows[k].rating).epsilon(1e-12));
    }
  }
}

TEST_CASE("the boards' column read gives the same votes as the row read, and the totals agree") {
  recompute_fixture f;
  const auto ids = f.votes(0, 24);
  f.store->flag_battle(ids[3], "names its model");
  // A vote inserted by SQL alone gets its battle's columns from the trigger (sql/0006).
  const auto sql_battle = f.store->create_battle({f.models[2].id, f.models[0].id, std::string("math"),
                                                  std::string("English"), std::nullopt, std::nullopt});
  f.store->record_turn({sql_battle, 1, "q", "a", "b", 1, 1, 1, 1}, {31, 1, 2, 3}, {17, 0, 0, 1});
  f.exec("INSERT INTO votes (battle_id, winner, vote_event) VALUES ('" + sql_battle + "', 'model_b', nextval('vote_events'))");
  f.exec("UPDATE pair_outcome_counts SET votes = votes + 1 WHERE model_a_id = " + std::to_string(f.models[2].id) +
         " AND model_b_id = " + std::to_string(f.models[0].id) + " AND category = 'math' AND language = 'English' "
         "AND winner = 'model_b'");
  f.exec("INSERT INTO pair_outcome_counts SELECT " + std::to_string(f.models[2].id) + ", " +
         std::to_string(f.models[0].id) + ", 'math', 'English', 'model_b', 1 WHERE NOT EXISTS (SELECT 1 FROM "
         "pair_outcome_counts WHERE model_a_id = " + std::to_string(f.models[2].id) + " AND model_b_id = " +
         std::to_string(f.models[0].id) + " AND category = 'math' AND language = 'English' AND winner = 'model_b')");
  CHECK(f.scalar("SELECT style_a[1] FROM votes WHERE battle_id = '" + sql_battle + "'") == 31);
  CHECK(f.scalar("SELECT count(*) FROM votes WHERE flagged_event IS NOT NULL") == 1);

  const store::leaderboard_store boards(f.url);
  for (const std::optional<std::int64_t> as_of : {std::optional<std::int64_t>{}, std::optional<std::int64_t>{3}}) {
    const auto rows = boards.read_votes(as_of);
    const auto columns = boards.read_vote_columns(as_of);
    CAPTURE(as_of.value_or(-1));
    CHECK(columns.last_vote_event == rows.last_vote_event);
    REQUIRE(columns.size() == rows.votes.size());
    REQUIRE(columns.models.size() == rows.models.size());
    for (std::size_t k = 0; k < rows.models.size(); ++k) CHECK(columns.models[k].name == rows.models[k].name);
    static const char* winners[] = {"model_a", "model_b", "tie", "tie (bothbad)"};
    const auto tag = [](const std::vector<std::string>& names, std::uint16_t id) {
      return id == 0 ? std::string() : names.at(id - 1u);
    };
    for (std::size_t k = 0; k < rows.votes.size(); ++k) {
      const auto& v = rows.votes[k];
      CAPTURE(k);
      CHECK(columns.models[columns.model_a[k]].name == v.model_a);
      CHECK(columns.models[columns.model_b[k]].name == v.model_b);
      CHECK(winners[columns.winner[k]] == v.winner);
      CHECK(tag(columns.categories, columns.category[k]) == v.category);
      CHECK(tag(columns.languages, columns.language[k]) == v.language);
      CHECK(columns.style_a[k] == v.style_a);
      CHECK(columns.style_b[k] == v.style_b);
      CHECK(std::isnan(columns.sampling_probability[k]) == !v.sampling_probability.has_value());
      if (v.sampling_probability) CHECK(columns.sampling_probability[k] == *v.sampling_probability);
    }
    CHECK(std::is_sorted(columns.categories.begin(), columns.categories.end()));
  }

  // The totals (pair_outcome_counts) hold the same pairs and winners as the counted votes.
  const auto totals = boards.read_counted_outcomes();
  const auto columns = boards.read_vote_columns();
  CHECK(totals.last_vote_event == columns.last_vote_event);
  REQUIRE(totals.size() == columns.size());
  CHECK(testing::outcome_tally(totals) == testing::outcome_tally(columns));
  // And so the overall plain board from either is the same, byte for byte.
  ranking::leaderboard_options o;
  o.bootstrap_rounds = 20;
  o.threads = 1;
  o.matrices = true;
  CHECK(compute_snapshot(totals, "", "", o).body_json == compute_snapshot(columns, "", "", o).body_json);
}
