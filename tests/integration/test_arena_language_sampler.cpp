// Two things a new arena user meets, against the real PostgreSQL: a battle is
// stored with its first prompt's language (zh / en / other) and a language
// board appears over HTTP once it has a vote; and `huashan serve --sampler
// active --sampler-seed N` draws pairs by the active rule, records each draw's
// probability, and repeats its draws for the same seed. The models answer
// instantly (a fixed text), so the test exercises the arena, not an engine.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <pqxx/pqxx>

#include <cmath>
#include <map>
#include <thread>
#include <utility>

#include "arena/domain/pair_sampler.hpp"
#include "arena/domain/session_token.hpp"
#include "arena/http/routes_arena.hpp"
#include "arena/http/routes_leaderboard.hpp"
#include "arena/http/server.hpp"
#include "arena/service/battle_service.hpp"
#include "arena/service/leaderboard_service.hpp"
#include "arena/service/model_admin.hpp"
#include "arena/store/arena_store.hpp"
#include "arena/store/migrations.hpp"
#include "db_fixture.hpp"
#include "harness/model_backend.hpp"
#include "http_client.hpp"

using namespace huashan;

namespace {

// Answers every turn at once with the same words (none of them a model's name,
// so no battle is flagged).
class fixed_backend : public harness::model_backend {
 public:
  harness::generation_result chat(const std::vector<harness::chat_message>&, const harness::generation_options&,
                                  const harness::text_sink& on_text) override {
    harness::generation_result r;
    r.text = "a short answer";
    r.finish_reason = "stop";
    r.completion_tokens = 3;
    on_text(r.text);
    return r;
  }
  // Battles only chat; the eval requests are not this test's business.
  std::vector<harness::loglikelihood_result> loglikelihood(std::span<const harness::loglikelihood_request>) override {
    throw harness::capability_error("fixed: chat only");
  }
  std::vector<harness::rolling_result> loglikelihood_rolling(std::span<const harness::rolling_request>) override {
    throw harness::capability_error("fixed: chat only");
  }
  std::vector<harness::generation_result> generate_until(std::span<const harness::generate_until_request>) override {
    throw harness::capability_error("fixed: chat only");
  }
  harness::model_fingerprint fingerprint() const override { return {"fixed", {}}; }
  std::string describe() const override { return "fixed"; }
};

const std::vector<std::string> model_names{"kilo-one", "lima-two", "mike-three"};

struct arena_fixture {
  std::string url = testing::fresh_database();
  std::unique_ptr<arena::store::arena_store> store;
  std::vector<arena::model_record> records;

  explicit arena_fixture(std::size_t n_models) {
    arena::store::migrate(url, arena::store::embedded_migrations());
    store = std::make_unique<arena::store::arena_store>(arena::store::store_options{url, 4});
    std::vector<arena::model_record> wanted;
    for (std::size_t i = 0; i < n_models; ++i)
      wanted.push_back({0, model_names[i], model_names[i], "Org", "mit", "local", "{}", true});
    records = store->upsert_models(wanted);
  }

  // A battle service over the stored models (in `records` order), answering at once.
  std::unique_ptr<arena::battle_service> battles(arena::battle_settings settings) const {
    std::vector<arena::arena_model> models;
    for (const auto& r : records) {
      arena::arena_model m;
      m.record = r;
      m.backend = std::make_shared<fixed_backend>();
      models.push_back(std::move(m));
    }
    settings.generation.max_tokens = 8;
    settings.generation_threads = 2;
    settings.min_time_before_vote = std::chrono::milliseconds(0);
    return std::make_unique<arena::battle_service>(*store, std::move(models), std::move(settings), nullptr);
  }

  std::size_t index_of_id(std::int64_t id) const {
    for (std::size_t i = 0; i < records.size(); ++i)
      if (records[i].id == id) return i;
    FAIL("no model with id " << id);
    return 0;
  }
};

struct stored_battle {
  std::size_t a = 0, b = 0;  // indices into the fixture's records
  double probability = 0;
  std::string language;
};

stored_battle read_battle(const arena_fixture& f, pqxx::nontransaction& tx, const std::string& id) {
  const auto row = tx.exec1(fmt::format(
      "SELECT model_a_id, model_b_id, sampling_probability, coalesce(language, '') FROM battles WHERE id = {}",
      tx.quote(id)));
  return {f.index_of_id(row[0].as<std::int64_t>()), f.index_of_id(row[1].as<std::int64_t>()), row[2].as<double>(),
          row[3].as<std::string>()};
}

std::string battle_id_of(const std::string& body) {
  const auto key = body.find("\"battle_id\":\"");
  REQUIRE(key != std::string::npos);
  return body.substr(key + 13, 36);
}

// The integer after "key": in a JSON text; -1 when absent.
long long json_int(const std::string& body, const std::string& key) {
  const auto at = body.find("\"" + key + "\":");
  if (at == std::string::npos) return -1;
  return std::stoll(body.substr(at + key.size() + 3));
}

// The arena's routes over a real HTTP server on an ephemeral port.
struct http_arena {
  arena_fixture f;
  std::unique_ptr<arena::battle_service> battles;
  arena::model_admin admin;
  std::unique_ptr<arena::leaderboard_service> boards;  // not started: the test calls tick()
  std::unique_ptr<arena::http::server> server;
  std::thread thread;

  explicit http_arena(std::size_t n_models = 2, arena::battle_settings settings = {})
      : f(n_models), battles(f.battles(std::move(settings))), admin(*f.store, *battles) {
    arena::http::router routes;
    arena::http::arena_routes_options options;
    options.secret = arena::random_session_secret();
    options.database_url = f.url;
    arena::http::add_arena_routes(routes, *battles, admin, options);
    arena::leaderboard_settings board_settings;
    board_settings.bootstrap_rounds = 10;
    board_settings.threads = 1;
    boards = std::make_unique<arena::leaderboard_service>(f.url, board_settings, nullptr);
    arena::http::add_leaderboard_routes(routes, *boards);
    arena::http::server_options so;
    so.port = 0;
    so.threads = 2;
    so.shutdown_grace = std::chrono::seconds(5);
    server = std::make_unique<arena::http::server>(so, std::move(routes));
    server->listen();
    thread = std::thread([this] { server->run(); });
  }
  ~http_arena() {
    server->stop();
    thread.join();
  }
  testing::http_client client() const { return testing::http_client(server->port()); }

  // Starts a battle with `prompt`, waits for both answers, votes `choice`; returns its id.
  std::string voted_battle(testing::http_client& visitor, const std::string& prompt_json, const char* choice) {
    const auto started = visitor.request("POST", "/api/battles", fmt::format(R"({{"prompt":{}}})", prompt_json));
    REQUIRE_MESSAGE(started.status == 201, started.body);
    const auto id = battle_id_of(started.body);
    const auto stream = visitor.request("GET", "/api/battles/" + id + "/stream");
    REQUIRE(stream.status == 200);
    REQUIRE(stream.body.find("event: turn_done") != std::string::npos);
    const auto vote =
        visitor.request("POST", "/api/battles/" + id + "/vote", fmt::format(R"({{"vote":"{}"}})", choice));
    REQUIRE_MESSAGE(vote.status == 200, vote.body);
    return id;
  }
};

// Three models: 0 and 1 close and uncertain, 2 far ahead and sure; every pair
// compared equally often. The active rule should favour the pair (0, 1).
arena::sampler_leaderboard uncertain_pair_board() {
  arena::sampler_leaderboard board;
  board.models[model_names[0]] = {0.0, 0.01};
  board.models[model_names[1]] = {0.01, 0.01};
  board.models[model_names[2]] = {2.0, 0.0001};
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = i + 1; j < 3; ++j) board.pair_battles[std::minmax(model_names[i], model_names[j])] = 10;
  return board;
}

// Probability of each unordered pair under `policy` for the fixture's three
// models (equal weights, no votes yet, as the battle service sees them here).
std::vector<double> expected_pairs(arena::sampling_policy policy) {
  arena::sampler_options options;
  options.policy = policy;
  const std::vector<arena::sampler_model> pool(3, {1.0, 0, true});
  return arena::pair_probabilities(pool, arena::knowledge_for(model_names, uncertain_pair_board()), options);
}

arena::battle_settings seeded_active(std::uint64_t seed) {
  arena::battle_settings s;
  s.sampling.policy = arena::sampling_policy::active;
  s.sampler_seed = seed;
  return s;
}

}  // namespace

TEST_CASE("a battle is stored with its prompt's language; the zh board appears over HTTP") {
  http_arena arena;
  auto visitor = arena.client();

  const auto zh = arena.voted_battle(visitor, R"("请用三句话介绍一下长城。")", "a");
  {
    pqxx::connection conn(arena.f.url);
    pqxx::nontransaction tx(conn);
    CHECK(read_battle(arena.f, tx, zh).language == "zh");
  }
  CHECK(arena.boards->tick().recomputed == 4);  // overall and zh, each with and without style control
  const auto board = visitor.request("GET", "/api/leaderboard?language=zh");
  REQUIRE_MESSAGE(board.status == 200, board.body);
  CHECK(board.body.find("\"model\": \"kilo-one\"") != std::string::npos);
  CHECK(board.body.find("\"model\": \"lima-two\"") != std::string::npos);
  CHECK(json_int(board.body, "vote_count") == 1);
  CHECK(visitor.request("GET", "/api/leaderboard?language=en").status == 404);  // no English vote yet

  const auto en = arena.voted_battle(visitor, R"("Explain the Great Wall in three sentences.")", "b");
  const auto other = arena.voted_battle(visitor, R"("12345 + 678 = ?")", "tie");
  {
    pqxx::connection conn(arena.f.url);
    pqxx::nontransaction tx(conn);
    CHECK(read_battle(arena.f, tx, en).language == "en");
    CHECK(read_battle(arena.f, tx, other).language == "other");
  }
  CHECK(arena.boards->tick().recomputed == 8);  // overall, zh, en, other
  const auto english = visitor.request("GET", "/api/leaderboard?language=en");
  REQUIRE_MESSAGE(english.status == 200, english.body);
  CHECK(json_int(english.body, "vote_count") == 1);
  CHECK(json_int(visitor.request("GET", "/api/leaderboard?language=zh").body, "vote_count") == 1);
  CHECK(json_int(visitor.request("GET", "/api/leaderboard").body, "vote_count") == 3);
}

TEST_CASE("serve --sampler active picks pairs by the active rule (a seeded sampler)") {
  arena_fixture f(3);
  const auto active = expected_pairs(arena::sampling_policy::active);
  const auto uniform = expected_pairs(arena::sampling_policy::uniform);
  const auto weighted = expected_pairs(arena::sampling_policy::weighted);
  const std::size_t m = 3;
  REQUIRE(active[0 * m + 1] > 0.6);  // the setup: the uncertain pair dominates

  // (a) battles started over HTTP, as `serve --sampler active --sampler-seed 7`
  // wires them: every stored probability is the active rule's, halved for the
  // side coin, and not what the other policies would record.
  constexpr int n_battles = 300;
  auto settings = seeded_active(7);
  settings.battles_per_session = {1e6, 1e6};
  settings.battles_per_address = {1e6, 1e6};
  http_arena served(3, settings);
  served.battles->set_leaderboard(uncertain_pair_board());
  std::vector<std::string> ids;
  {
    auto visitor = served.client();
    for (int i = 0; i < n_battles; ++i) {
      const auto started = visitor.request("POST", "/api/battles", R"({"prompt":"Hello there"})");
      REQUIRE_MESSAGE(started.status == 201, started.body);
      ids.push_back(battle_id_of(started.body));
    }
  }
  std::map<std::pair<std::size_t, std::size_t>, int> drawn;  // unordered pair -> battles
  int a_low = 0;  // draws showing the lower index as side A
  {
    pqxx::connection conn(served.f.url);
    pqxx::nontransaction tx(conn);
    for (const auto& id : ids) {
      const auto b = read_battle(served.f, tx, id);
      REQUIRE(b.a != b.b);
      const auto [i, j] = std::minmax(b.a, b.b);
      CHECK(b.probability == doctest::Approx(active[i * m + j] / 2).epsilon(1e-9));
      CHECK(std::abs(b.probability - uniform[i * m + j] / 2) > 0.01);
      CHECK(std::abs(b.probability - weighted[i * m + j] / 2) > 0.01);
      CHECK(b.language == "en");
      ++drawn[{i, j}];
      a_low += b.a < b.b ? 1 : 0;
    }
  }

  // (b) the draw frequencies follow the active rule: within 4.5 standard
  // deviations of its probabilities, the uncertain pair well ahead.
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = i + 1; j < m; ++j) {
      const double p = active[i * m + j];
      const double sd = std::sqrt(p * (1 - p) / n_battles);
      const double share = static_cast<double>(drawn[{i, j}]) / n_battles;
      CHECK_MESSAGE(std::abs(share - p) < 4.5 * sd,
                    "pair " << i << "-" << j << ": drawn " << share << ", expected " << p);
    }
  CHECK(drawn[{0, 1}] > 3 * drawn[{0, 2}]);
  CHECK(drawn[{0, 1}] > 3 * drawn[{1, 2}]);
  CHECK(std::abs(a_low - n_battles / 2) < 4.5 * std::sqrt(n_battles / 4.0));  // a fair side coin

  // (c) the same seed and the same calls draw the same sequence; another seed does not.
  const auto sequence = [&f](std::uint64_t seed) {
    std::vector<std::string> run;
    {
      auto battles = f.battles(seeded_active(seed));
      battles->set_leaderboard(uncertain_pair_board());
      for (int i = 0; i < 40; ++i) run.push_back(battles->start_battle("Hello there", std::nullopt, "", ""));
    }
    pqxx::connection conn(f.url);
    pqxx::nontransaction tx(conn);
    std::vector<std::pair<std::size_t, std::size_t>> pairs;
    for (const auto& id : run) {
      const auto b = read_battle(f, tx, id);
      pairs.emplace_back(b.a, b.b);
    }
    return pairs;
  };
  const auto first = sequence(2026);
  CHECK(first == sequence(2026));
  CHECK(first != sequence(2027));
}
