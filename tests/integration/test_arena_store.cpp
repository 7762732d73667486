// The arena's vote path against a real PostgreSQL: one vote per battle (even
// when posted concurrently), counts kept in the vote's transaction and equal to
// a rebuild from the raw votes, flagged battles left out.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "arena/store/arena_store.hpp"
#include "arena/store/migrations.hpp"
#include "common/error.hpp"
#include "db_fixture.hpp"

using namespace huashan;
using namespace huashan::arena;
using namespace huashan::arena::store;

namespace {

struct arena_fixture {
  std::string url = testing::fresh_database();
  std::unique_ptr<arena_store> store;
  std::vector<model_record> models;

  arena_fixture() {
    migrate(url, embedded_migrations());
    store = std::make_unique<arena_store>(store_options{url, 8});
    models = store->upsert_models({
        {0, "alpha-7b", "Alpha 7B", "Alpha Labs", "apache-2.0", "local", R"({"path":"models/alpha.gguf"})", true},
        {0, "beta-8b", "Beta 8B", "Beta Inc", "mit", "openai", R"({"base_url":"http://127.0.0.1:9/v1"})", true},
        {0, "gamma-1b", "", "", "", "local", "", true},
    });
  }

  std::string answered_battle(std::size_t a, std::size_t b, std::optional<std::string> category = std::nullopt) {
    const auto id = store->create_battle({models[a].id, models[b].id, category, std::string("en"), std::nullopt, 0.25});
    store->record_turn({id, 1, "hello?", "hi from A", "hi from B", 3, 4, 120, 80}, {3, 0, 0, 0}, {4, 1, 0, 0});
    return id;
  }
};

}  // namespace

TEST_CASE("models are upserted by name and validated") {
  arena_fixture f;
  REQUIRE(f.models.size() == 3);
  CHECK(f.models[2].display_name == "gamma-1b");
  auto again = f.store->upsert_models({{0, "alpha-7b", "Alpha 7B v2", "Alpha Labs", "", "local", "{}", true}});
  CHECK(again[0].id == f.models[0].id);
  CHECK(again[0].display_name == "Alpha 7B v2");
  CHECK(f.store->list_models(false).size() == 3);

  f.store->set_model_enabled("gamma-1b", false);
  CHECK(f.store->list_models(true).size() == 2);
  CHECK_THROWS_AS(f.store->set_model_enabled("nope", true), not_found_error);
  CHECK_THROWS_WITH_AS(f.store->upsert_models({{0, "bad name!", "", "", "", "local", "", true}}),
                       doctest::Contains("model name 'bad name!'"), input_error);
  CHECK_THROWS_WITH_AS(f.store->upsert_models({{0, "ok", "", "", "", "grpc", "", true}}),
                       doctest::Contains("backend 'grpc'"), input_error);
}

TEST_CASE("adding a model whose name exists is refused by the table's unique name, even in a race") {
  arena_fixture f;
  const model_record delta{0, "delta-2b", "Delta 2B", "Delta", "mit", "openai", R"({"base_url":"http://127.0.0.1:9/v1"})",
                           true};
  const auto added = f.store->insert_model(delta);
  CHECK(added.id > 0);
  CHECK(added.backend == "openai");
  CHECK_THROWS_WITH_AS(f.store->insert_model(delta), doctest::Contains("'delta-2b' already exists"), conflict_error);
  auto alpha = delta;
  alpha.name = "alpha-7b";  // stored by the fixture's upsert
  CHECK_THROWS_WITH_AS(f.store->insert_model(alpha), doctest::Contains("'alpha-7b'"), conflict_error);
  auto bad = delta;
  bad.name = "bad name!";
  CHECK_THROWS_WITH_AS(f.store->insert_model(bad), doctest::Contains("model name 'bad name!'"), input_error);

  // Eight adds of one new name at once: exactly one is stored, the others conflict.
  std::atomic<int> stored{0};
  std::atomic<int> conflicts{0};
  std::vector<std::thread> threads;
  auto epsilon = delta;
  epsilon.name = "epsilon-1b";
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      try {
        f.store->insert_model(epsilon);
        ++stored;
      } catch (const conflict_error&) {
        ++conflicts;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(stored == 1);
  CHECK(conflicts == 7);
  CHECK(f.store->list_models(false).size() == 5);
}

TEST_CASE("an edit changes the fields it gives, in one statement") {
  arena_fixture f;
  model_changes changes;
  changes.display_name = "Beta 8B Instruct";
  changes.enabled = false;
  const auto edited = f.store->update_model("beta-8b", changes);
  CHECK(edited.id == f.models[1].id);
  CHECK(edited.display_name == "Beta 8B Instruct");
  CHECK(edited.organization == "Beta Inc");  // not given: kept
  CHECK_FALSE(edited.enabled);
  CHECK(edited.backend == "openai");
  model_changes blank;
  blank.display_name = "";
  CHECK(f.store->update_model("beta-8b", blank).display_name == "beta-8b");  // an empty display name shows the name
  CHECK_THROWS_WITH_AS(f.store->update_model("nope", {}), doctest::Contains("'nope'"), not_found_error);
}

TEST_CASE("a vote is recorded once; retries return it, another choice is a conflict") {
  arena_fixture f;
  const auto id = f.answered_battle(0, 1);
  CHECK(f.store->answered_at(id).has_value());
  const auto events_before = f.store->vote_events();

  const auto first = f.store->record_vote({id, vote_choice::a, std::string("voter-1"), std::string("127.0.0.1")});
  CHECK(first.recorded_now);
  CHECK(first.winner == "model_a");
  CHECK(first.model_a.name == "alpha-7b");
  CHECK(first.model_b.name == "beta-8b");
  CHECK(first.model_b.organization == "Beta Inc");

  const auto retry = f.store->record_vote({id, vote_choice::a, std::nullopt, std::nullopt});
  CHECK_FALSE(retry.recorded_now);
  CHECK(retry.winner == "model_a");
  CHECK(retry.model_a.name == "alpha-7b");
  for (auto choice : {vote_choice::b, vote_choice::bothbad})
    CHECK_THROWS_WITH_AS(f.store->record_vote({id, choice, std::nullopt, std::nullopt}),
                         doctest::Contains("cannot be changed"), conflict_error);
  const auto counts = f.store->pair_outcome_counts();
  REQUIRE(counts.size() == 1);
  CHECK(counts[0].model_a == "alpha-7b");
  CHECK(counts[0].winner == "model_a");
  CHECK(counts[0].language == "en");
  CHECK(counts[0].votes == 1);
  CHECK(f.store->vote_events() == events_before + 1);
}

TEST_CASE("concurrent votes on one battle record exactly one; the other choice is a conflict") {
  arena_fixture f;
  const auto id = f.answered_battle(1, 2);
  std::atomic<int> recorded{0}, replayed_a{0}, replayed_b{0}, conflicts_a{0}, conflicts_b{0}, failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      const bool a = t % 2 == 0;
      try {
        if (f.store->record_vote({id, a ? vote_choice::a : vote_choice::b, std::nullopt, std::nullopt}).recorded_now)
          ++recorded;
        else
          ++(a ? replayed_a : replayed_b);
      } catch (const conflict_error&) {
        ++(a ? conflicts_a : conflicts_b);
      } catch (...) {
        ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  CHECK(recorded == 1);
  const auto counts = f.store->pair_outcome_counts();
  REQUIRE(counts.size() == 1);
  CHECK(counts[0].votes == 1);
  // Every request with the stored choice succeeded; every other one was refused.
  if (counts[0].winner == "model_a") {
    CHECK(replayed_a == 3);
    CHECK(conflicts_b == 4);
    CHECK(conflicts_a + replayed_b == 0);
  } else {
    CHECK(counts[0].winner == "model_b");
    CHECK(replayed_b == 3);
    CHECK(conflicts_a == 4);
    CHECK(conflicts_b + replayed_a == 0);
  }
}

TEST_CASE("counts kept with the votes equal a rebuild from the raw votes; flagged battles are left out") {
  arena_fixture f;
  const vote_choice choices[] = {vote_choice::a, vote_choice::b, vote_choice::tie, vote_choice::bothbad};
  for (int i = 0; i < 24; ++i) {
    const auto id = f.answered_battle(static_cast<std::size_t>(i % 3), static_cast<std::size_t>((i + 1) % 3),
                                      i % 2 == 0 ? std::optional<std::string>("coding") : std::nullopt);
    if (i == 5) f.store->flag_battle(id, "answer named its model");
    f.store->record_vote({id, choices[i % 4], std::nullopt, std::nullopt});
    if (i == 7) f.store->flag_battle(id, "answer named its maker");  // after its vote was counted
  }
  const auto kept = f.store->pair_outcome_counts();
  const auto rebuilt = f.store->pair_outcome_counts_from_votes();
  REQUIRE(kept.size() == rebuilt.size());
  std::int64_t total = 0;
  for (std::size_t i = 0; i < kept.size(); ++i) {
    CHECK(kept[i].model_a == rebuilt[i].model_a);
    CHECK(kept[i].model_b == rebuilt[i].model_b);
    CHECK(kept[i].category == rebuilt[i].category);
    CHECK(kept[i].winner == rebuilt[i].winner);
    CHECK(kept[i].votes == rebuilt[i].votes);
    total += kept[i].votes;
  }
  CHECK(total == 22);
}

TEST_CASE("bad battle ids are not-found errors naming the id") {
  arena_fixture f;
  CHECK_THROWS_WITH_AS(f.store->record_vote({"not-a-uuid", vote_choice::a, std::nullopt, std::nullopt}),
                       doctest::Contains("'not-a-uuid'"), not_found_error);
  CHECK_THROWS_WITH_AS(
      f.store->record_vote({"00000000-0000-0000-0000-000000000000", vote_choice::a, std::nullopt, std::nullopt}),
      doctest::Contains("no battle with id 00000000-0000-0000-0000-000000000000"), not_found_error);
  CHECK_THROWS_AS(f.store->create_battle({f.models[0].id, f.models[0].id, {}, {}, {}, {}}), input_error);
  CHECK_THROWS_AS(f.store->create_battle({f.models[0].id, 999999, {}, {}, {}, {}}), input_error);
  CHECK_FALSE(parse_vote_choice("A").has_value());
  CHECK(parse_vote_choice("bothbad") == vote_choice::bothbad);
}

#include "arena/store/api_keys.hpp"

TEST_CASE("API keys: created once, verified by hash, revocable") {
  const auto url = testing::fresh_database();
  migrate(url, embedded_migrations());
  const auto created = create_api_key(url, "ops");
  CHECK(created.key.rfind("hsk_", 0) == 0);
  CHECK(created.key.size() == 4 + 43);
  CHECK(verify_api_key(url, created.key) == std::optional<std::string>("ops"));
  CHECK_FALSE(verify_api_key(url, created.key + "x").has_value());
  CHECK_FALSE(verify_api_key(url, "hsk_wrong").has_value());
  CHECK_FALSE(verify_api_key(url, "").has_value());
  CHECK_THROWS_WITH_AS(create_api_key(url, "ops"), doctest::Contains("'ops' exists already"), input_error);
  revoke_api_key(url, "ops");
  CHECK_FALSE(verify_api_key(url, created.key).has_value());
  CHECK_THROWS_AS(revoke_api_key(url, "ops"), not_found_error);
}
