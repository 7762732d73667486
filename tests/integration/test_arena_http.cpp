// A battle round trip through the HTTP API with real local models (two small
// synthetic GGUFs run by our engine) and the real PostgreSQL: start, follow
// both answers, vote three times (stored once), identities revealed only by
// the vote; hostile inputs get 4xx naming the field; admin routes need a key.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <pqxx/pqxx>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "arena/http/routes_arena.hpp"
#include "arena/http/routes_health.hpp"
#include "arena/http/routes_leaderboard.hpp"
#include "arena/http/routes_openai.hpp"
#include "arena/http/routes_static.hpp"
#include "arena/http/server.hpp"
#include "arena/service/battle_service.hpp"
#include "arena/service/leaderboard_service.hpp"
#include "arena/service/model_admin.hpp"
#include "arena/service/model_registry.hpp"
#include "arena/store/api_keys.hpp"
#include "arena/store/arena_store.hpp"
#include "arena/store/migrations.hpp"
#include "db_fixture.hpp"
#include "harness/engine/synth_gguf.hpp"
#include "harness/local_backend.hpp"
#include "http_client.hpp"

using namespace huashan;
namespace fs = std::filesystem;

namespace {

struct arena_under_test {
  std::string url = testing::fresh_database();
  fs::path dir = fs::temp_directory_path() / ("huashan-arena-" + std::to_string(::getpid()));
  std::unique_ptr<arena::store::arena_store> store;
  harness::local_model_registry locals;
  std::unique_ptr<arena::battle_service> battles;
  std::unique_ptr<arena::model_admin> admin;
  std::unique_ptr<arena::leaderboard_service> boards;  // not started: tests call tick()
  std::unique_ptr<arena::http::server> server;
  std::thread thread;
  std::vector<arena::model_record> records;

  arena_under_test() {
    arena::store::migrate(url, arena::store::embedded_migrations());
    fs::create_directories(dir);
    std::vector<std::pair<std::string, fs::path>> files;
    for (int i = 0; i < 2; ++i) {
      engine::synth_options o;
      o.arch = i == 0 ? "qwen3" : "qwen2";
      o.n_layers = 1;
      o.n_embd = 64;
      o.n_head = 2;
      o.n_head_kv = 1;
      o.n_ff = 128;
      o.seed = static_cast<std::uint64_t>(i + 1);
      o.n_threads = 1;
      const auto path = dir / fmt::format("m{}.gguf", i);
      engine::write_synthetic_model(o, path);
      files.emplace_back(i == 0 ? "zeta-one" : "omega-two", path);
    }
    engine::engine_config config;
    config.n_threads = 1;
    locals = harness::load_local_models(files, config);
    store = std::make_unique<arena::store::arena_store>(arena::store::store_options{url, 4});
    records = store->upsert_models({{0, "zeta-one", "Zeta One", "Zetacorp", "mit", "local", "{}", true},
                                    {0, "omega-two", "Omega Two", "Omegalabs", "mit", "local", "{}", true}});
    std::vector<arena::arena_model> models;
    for (const auto& r : records) {
      arena::arena_model m;
      m.record = r;
      m.backend = std::make_shared<harness::local_backend>(locals.at(r.name));
      m.identity_words = {r.name, r.display_name, r.organization};
      models.push_back(std::move(m));
    }
    arena::battle_settings settings;
    settings.generation.max_tokens = 8;
    settings.min_time_before_vote = std::chrono::milliseconds(0);
    battles = std::make_unique<arena::battle_service>(*store, std::move(models), settings, nullptr);
    admin = std::make_unique<arena::model_admin>(*store, *battles);

    arena::http::router routes;
    arena::http::add_health_routes(routes, url);
    arena::http::add_static_routes(routes, arena::http::web_assets::compiled_in());
    arena::http::arena_routes_options options;
    options.secret = arena::random_session_secret();
    options.database_url = url;
    arena::http::add_arena_routes(routes, *battles, *admin, options);
    arena::leaderboard_settings board_settings;
    board_settings.bootstrap_rounds = 20;
    board_settings.threads = 1;
    boards = std::make_unique<arena::leaderboard_service>(url, board_settings, nullptr);
    arena::http::add_leaderboard_routes(routes, *boards);
    // Our own /v1 endpoints: a real OpenAI-compatible server for endpoint models added by an admin.
    arena::http::add_openai_routes(routes, locals);
    arena::http::server_options so;
    so.port = 0;
    so.threads = 2;
    so.body_limit_bytes = 64 << 10;
    so.shutdown_grace = std::chrono::seconds(5);
    server = std::make_unique<arena::http::server>(so, std::move(routes));
    server->listen();
    thread = std::thread([this] { server->run(); });
  }
  ~arena_under_test() {
    server->stop();
    thread.join();
    admin.reset();
    battles.reset();
    locals.clear();
    fs::remove_all(dir);
  }
  testing::http_client client() const { return testing::http_client(server->port()); }

  // True when `text` shows any model's identity (name, display name, maker).
  bool reveals_identity(const std::string& text) const {
    for (const auto& r : records)
      for (const auto& word : {r.name, r.display_name, r.organization})
        if (text.find(word) != std::string::npos) return true;
    return text.find("model_a") != std::string::npos || text.find("model_b") != std::string::npos;
  }
};

// The integer after "key": in a JSON text; -1 when absent.
long long json_int(const std::string& body, const std::string& key) {
  const auto at = body.find("\"" + key + "\":");
  if (at == std::string::npos) return -1;
  return std::stoll(body.substr(at + key.size() + 3));
}

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::string battle_id_of(const std::string& body) {
  const auto key = body.find("\"battle_id\":\"");
  REQUIRE(key != std::string::npos);
  return body.substr(key + 13, 36);
}

}  // namespace

TEST_CASE("a battle round trip: start, stream, vote three times, identities only after the vote") {
  arena_under_test arena;
  auto visitor = arena.client();
  std::vector<std::string> before_vote;

  const auto models = visitor.request("GET", "/api/models");
  CHECK(models.status == 200);  // the model list is public; it is not tied to a battle

  // Before any vote there is no leaderboard: 404 saying so (documented choice).
  CHECK(arena.boards->tick().recomputed == 0);
  const auto none = visitor.request("GET", "/api/leaderboard");
  CHECK(none.status == 404);
  CHECK(none.body.find("no votes") != std::string::npos);

  const auto started = visitor.request("POST", "/api/battles", R"({"prompt":"Tell me a story."})");
  REQUIRE(started.status == 201);
  CHECK(started.headers.count("set-cookie") == 1);
  before_vote.push_back(started.body);
  const auto id = battle_id_of(started.body);

  const auto stream = visitor.request("GET", "/api/battles/" + id + "/stream");
  REQUIRE(stream.status == 200);
  CHECK(stream.headers.at("content-type") == "text/event-stream");
  CHECK(stream.body.find("event: done\ndata: {\"turn\":1,\"side\":\"a\"") != std::string::npos);
  CHECK(stream.body.find("\"side\":\"b\"") != std::string::npos);
  CHECK(stream.body.find("event: turn_done") != std::string::npos);
  before_vote.push_back(stream.body);

  // Another visitor cannot see or vote on this battle.
  auto stranger = arena.client();
  CHECK(stranger.request("GET", "/api/battles/" + id + "/stream").status == 404);
  CHECK(stranger.request("POST", "/api/battles/" + id + "/vote", R"({"vote":"a"})").status == 404);

  for (const auto& body : before_vote) CHECK_MESSAGE(!arena.reveals_identity(body), body);

  // A page on another site cannot vote or start battles, even where the browser sends the cookie.
  const auto foreign =
      visitor.request("POST", "/api/battles/" + id + "/vote", R"({"vote":"b"})", {{"Origin", "https://evil.example"}});
  CHECK(foreign.status == 403);
  CHECK(foreign.body.find("https://evil.example") != std::string::npos);
  CHECK(visitor.request("POST", "/api/battles", R"({"prompt":"x"})", {{"Origin", "null"}}).status == 403);

  // The arena's own page (Origin matching Host) votes.
  const auto first =
      visitor.request("POST", "/api/battles/" + id + "/vote", R"({"vote":"a"})", {{"Origin", "http://127.0.0.1"}});
  REQUIRE(first.status == 200);
  CHECK(first.body.find("\"recorded\":true") != std::string::npos);
  CHECK(first.body.find("\"winner\":\"model_a\"") != std::string::npos);
  CHECK(arena.reveals_identity(first.body));
  const auto retry = visitor.request("POST", "/api/battles/" + id + "/vote", R"({"vote":"a"})");
  CHECK(retry.status == 200);
  CHECK(retry.body == first.body);  // a retry gets the reply the vote got
  CHECK((retry.headers.count("idempotent-replayed") == 1 && retry.headers.at("idempotent-replayed") == "true"));
  CHECK(first.headers.count("idempotent-replayed") == 0);
  for (const char* changed : {R"({"vote":"b"})", R"({"vote":"bothbad"})"}) {
    const auto conflict = visitor.request("POST", "/api/battles/" + id + "/vote", changed);
    CHECK(conflict.status == 409);
    CHECK(conflict.body.find("cannot be changed") != std::string::npos);
  }

  pqxx::connection conn(arena.url);
  pqxx::nontransaction tx(conn);
  CHECK(tx.exec1("SELECT count(*) FROM votes")[0].as<int>() == 1);
  CHECK(tx.exec1("SELECT sum(votes) FROM pair_outcome_counts")[0].as<int>() == 1);
  CHECK(tx.exec1("SELECT count(*) FROM battle_turns WHERE answer_a IS NOT NULL")[0].as<int>() == 1);
  CHECK(tx.exec1("SELECT count(*) FROM battles WHERE style_a IS NOT NULL AND sampling_probability > 0")[0].as<int>() ==
        1);

  // A recompute: overall and English (the prompt's language), each with and
  // without style control, loaded into memory and served.
  const auto tick = arena.boards->tick();
  CHECK(tick.recomputed == 4);
  CHECK(tick.reloaded);
  const auto board = visitor.request("GET", "/api/leaderboard");
  REQUIRE(board.status == 200);
  CHECK(board.headers.at("content-type") == "application/json");
  CHECK(board.body.find("\"model\": \"zeta-one\"") != std::string::npos);
  CHECK(board.body.find("\"model\": \"omega-two\"") != std::string::npos);
  CHECK(board.body.find("\"display_name\": \"Zeta One\"") != std::string::npos);
  CHECK(occurrences(board.body, "\"votes\": 1,") + occurrences(board.body, "\"votes\": 1}") == 2);
  CHECK(json_int(board.body, "vote_count") == 1);
  CHECK(board.body.find("\"style_control\":false") != std::string::npos);
  CHECK(board.body.find("\"bootstrap_rounds\": 20") != std::string::npos);
  const auto snapshot = json_int(board.body, "snapshot_id");
  REQUIRE(snapshot > 0);

  const auto same = visitor.request("GET", fmt::format("/api/leaderboard/{}", snapshot));
  CHECK(same.status == 200);
  CHECK(same.body == board.body);
  const auto styled = visitor.request("GET", "/api/leaderboard?style=true");
  CHECK(styled.status == 200);
  CHECK(json_int(styled.body, "snapshot_id") != snapshot);
  CHECK(styled.body.find("style_coefficients") != std::string::npos);

  const auto csv = visitor.request("GET", "/api/leaderboard.csv");
  CHECK(csv.status == 200);
  CHECK(csv.headers.at("content-type").rfind("text/csv", 0) == 0);
  CHECK(csv.body.rfind("rank,model,rating,ci_lo,ci_hi,rank_ub,votes\n", 0) == 0);
  CHECK(occurrences(csv.body, "\n") == 3);  // header and two rows
  CHECK(csv.body.find(",zeta-one,") != std::string::npos);
  CHECK(csv.body.find(",omega-two,") != std::string::npos);

  const auto matrices = visitor.request("GET", "/api/matrices");
  CHECK(matrices.status == 200);
  CHECK(json_int(matrices.body, "snapshot_id") == snapshot);
  // 2×2: the diagonal is 0 battles, each pair met once.
  CHECK(matrices.body.find("\"battles\": [[0, 1], [1, 0]]") != std::string::npos);
  CHECK(occurrences(matrices.body, "], [") == 3);  // battles, win_fraction, predicted: two rows each

  // Bad parameters name themselves; unknown boards and snapshots are 404.
  const auto bad_style = visitor.request("GET", "/api/leaderboard?style=maybe");
  CHECK(bad_style.status == 400);
  CHECK(bad_style.body.find("'style'") != std::string::npos);
  const auto bad_id = visitor.request("GET", "/api/leaderboard/latest");
  CHECK(bad_id.status == 400);
  CHECK(bad_id.body.find("'latest'") != std::string::npos);
  CHECK(visitor.request("GET", "/api/leaderboard/999999").status == 404);
  const auto no_category = visitor.request("GET", "/api/leaderboard?category=poetry");
  CHECK(no_category.status == 404);
  CHECK(no_category.body.find("'poetry'") != std::string::npos);

  // No new votes: no new snapshot, nothing reloaded.
  const auto before = tx.exec1("SELECT count(*), max(id) FROM leaderboard_snapshots");
  const auto idle = arena.boards->tick();
  CHECK(idle.recomputed == 0);
  CHECK(!idle.reloaded);
  const auto after = tx.exec1("SELECT count(*), max(id) FROM leaderboard_snapshots");
  CHECK(after[0].as<int>() == before[0].as<int>());
  CHECK(after[1].as<long long>() == before[1].as<long long>());
  CHECK(after[0].as<int>() == 4);  // overall and English, with and without style control
}

TEST_CASE("hostile inputs get 4xx naming the field; never a 5xx") {
  arena_under_test arena;
  auto visitor = arena.client();
  struct probe {
    const char* method;
    std::string target;
    std::string body;
    int status;
    const char* mentions;
  };
  const std::string unknown = "/api/battles/00000000-0000-0000-0000-000000000000";
  const std::vector<probe> probes{
      {"POST", "/api/battles", "", 400, "JSON"},
      {"POST", "/api/battles", "{", 400, "JSON"},
      {"POST", "/api/battles", "[]", 400, "object"},
      {"POST", "/api/battles", "{}", 400, "'prompt'"},
      {"POST", "/api/battles", R"({"prompt": 5})", 400, "'prompt'"},
      {"POST", "/api/battles", R"({"prompt": "   "})", 400, "'prompt'"},
      {"POST", "/api/battles", R"({"prompt": "x", "category": []})", 400, "'category'"},
      {"POST", "/api/battles", R"({"prompt": "a\u0000b"})", 400, "NUL"},
      {"POST", "/api/battles", R"({"prompt": "x", "category": "\u0000"})", 400, "'category'"},
      {"POST", "/api/battles", std::string(R"({"prompt":")") + std::string(70000, 'x') + "\"}", 413, "bytes"},
      {"POST", unknown + "/vote", R"({"vote":"a"})", 404, "no battle"},
      {"POST", "/api/battles/not-a-uuid/vote", R"({"vote":"a"})", 404, "no battle"},
      {"POST", unknown + "/vote", R"({"vote":"maybe"})", 400, "'vote'"},
      {"POST", unknown + "/vote", R"({})", 400, "'vote'"},
      {"GET", unknown + "/stream", "", 404, "no battle"},
      {"POST", unknown + "/turns", R"({"prompt":"more"})", 404, "no battle"},
      {"POST", unknown + "/turns", R"({"prompt":7})", 400, "'prompt'"},
      {"DELETE", "/api/battles", "", 405, "allowed"},
      {"GET", "/api/nothing", "", 404, "/api/nothing"},
      {"GET", "/static/../../etc/passwd", "", 404, ""},
      {"GET", "/api/leaderboard?style=maybe", "", 400, "'style'"},
      {"GET", "/api/leaderboard.csv?style=2", "", 400, "'style'"},
      {"GET", "/api/leaderboard/abc", "", 400, "snapshot"},
      {"GET", "/api/leaderboard/99999", "", 404, "99999"},
      {"GET", "/api/matrices", "", 404, "no votes"},
      {"GET", "/api/leaderboard?style=%C0%AF", "", 400, "\xEF\xBF\xBD"},  // not UTF-8: U+FFFD, named in UTF-8
  };
  for (const auto& p : probes) {
    const auto reply = visitor.request(p.method, p.target, p.body);
    CHECK_MESSAGE(reply.status == p.status, p.method << " " << p.target.substr(0, 60) << " -> " << reply.status << " "
                                                     << reply.body.substr(0, 200));
    CHECK_MESSAGE(reply.body.find(p.mentions) != std::string::npos, reply.body.substr(0, 200));
  }
}

TEST_CASE("admin routes need a valid bearer key") {
  arena_under_test arena;
  auto admin = arena.client();
  CHECK(admin.request("GET", "/api/admin/models").status == 401);
  CHECK(admin.request("GET", "/api/admin/models", "", {{"Authorization", "Bearer hsk_wrong"}}).status == 401);
  CHECK(admin.request("POST", "/api/admin/models/zeta-one/disable", "", {{"Authorization", "Basic x"}}).status == 401);
  const auto key = arena::store::create_api_key(arena.url, "test-admin");
  const std::map<std::string, std::string> auth{{"Authorization", "Bearer " + key.key}};
  const auto list = admin.request("GET", "/api/admin/models", "", auth);
  CHECK(list.status == 200);
  CHECK(list.body.find("zeta-one") != std::string::npos);
  CHECK(admin.request("POST", "/api/admin/models/zeta-one/disable", "", auth).status == 200);
  CHECK(admin.request("POST", "/api/admin/models/nope/disable", "", auth).status == 404);
  const auto edited = admin.request("PATCH", "/api/admin/models/omega-two", R"({"display_name":"Omega 2"})", auth);
  CHECK(edited.status == 200);
  CHECK(edited.body.find("Omega 2") != std::string::npos);
  CHECK(admin.request("PATCH", "/api/admin/models/omega-two", R"({"enabled":"yes"})", auth).status == 400);
}

TEST_CASE("admins add an endpoint model and switch models in and out of the draw without a restart") {
  arena_under_test arena;
  const auto key = arena::store::create_api_key(arena.url, "test-admin");
  const std::map<std::string, std::string> auth{{"Authorization", "Bearer " + key.key}};
  auto admin = arena.client();
  // Pretty-printed, as a person would send it.
  const std::string relay = fmt::format(
      "{{\n  \"name\": \"relay\",\n  \"display_name\": \"Relay\",\n  \"organization\": \"Relayco\",\n"
      "  \"openai\": {{\n    \"base_url\": \"http://127.0.0.1:{}/v1\",\n    \"model\": \"zeta-one\"\n  }}\n}}\n",
      arena.server->port());

  CHECK(admin.request("POST", "/api/admin/models", relay).status == 401);
  const auto added = admin.request("POST", "/api/admin/models", relay, auth);
  REQUIRE_MESSAGE(added.status == 201, added.body);
  CHECK(added.body.find("\"relay\"") != std::string::npos);
  CHECK(admin.request("POST", "/api/admin/models", relay, auth).status == 409);
  struct probe {
    std::string body;
    const char* mentions;
  };
  for (const auto& p : std::vector<probe>{
           {"[]", "object"},
           {R"({"openai":{"base_url":"http://127.0.0.1:1/v1"}})", "'name'"},
           {R"({"name":"n1","openai":{}})", "'base_url'"},
           {R"({"name":"n2","openai":{"base_url":"ftp://x"}})", "base_url"},
           {R"({"name":"n3","local":{"path":"/etc/passwd"}})", "'local'"},
           {R"({"name":"n4","openai":{"base_url":"http://127.0.0.1:1/v1","api_key_env":"HUASHAN_TEST_UNSET_KEY_9"}})",
            "HUASHAN_TEST_UNSET_KEY_9"},
           {R"({"name":"n5","openai":{"base_url":"http://127.0.0.1:1/v1"},"weight":"heavy"})", "weight"},
           {R"({"name":"n6","colour":"red","openai":{"base_url":"http://127.0.0.1:1/v1"}})", "'colour'"},
       }) {
    const auto reply = admin.request("POST", "/api/admin/models", p.body, auth);
    CHECK_MESSAGE(reply.status == 400, p.body << " -> " << reply.status << " " << reply.body);
    CHECK_MESSAGE(reply.body.find(p.mentions) != std::string::npos, reply.body);
  }
  {
    pqxx::connection conn(arena.url);
    pqxx::nontransaction tx(conn);
    CHECK(tx.exec1("SELECT count(*) FROM models WHERE name LIKE 'n_'")[0].as<int>() == 0);  // nothing half-stored
    CHECK(tx.exec1("SELECT backend FROM models WHERE name = 'relay'")[0].as<std::string>() == "openai");
  }
  CHECK(admin.request("GET", "/api/models").body.find("Relay") != std::string::npos);

  // Only the endpoint and omega-two are drawn once zeta-one is disabled: at once, no restart.
  CHECK(admin.request("POST", "/api/admin/models/zeta-one/disable", "", auth).status == 200);
  CHECK(admin.request("POST", "/api/admin/models/omega-two/disable", "", auth).status == 200);
  auto visitor = arena.client();
  const auto refused = visitor.request("POST", "/api/battles", R"({"prompt":"Hello there."})");
  CHECK_MESSAGE(refused.status == 400, refused.body);
  CHECK(admin.request("POST", "/api/admin/models/omega-two/enable", "", auth).status == 200);
  const auto started = visitor.request("POST", "/api/battles", R"({"prompt":"Hello there."})");
  REQUIRE_MESSAGE(started.status == 201, started.body);
  const auto id = battle_id_of(started.body);
  const auto stream = visitor.request("GET", "/api/battles/" + id + "/stream");
  REQUIRE(stream.status == 200);
  CHECK(stream.body.find("event: turn_done") != std::string::npos);
  CHECK_MESSAGE(stream.body.find("event: error") == std::string::npos, stream.body);  // the endpoint answered via our client
  const auto vote = visitor.request("POST", "/api/battles/" + id + "/vote", R"({"vote":"tie"})");
  REQUIRE_MESSAGE(vote.status == 200, vote.body);
  CHECK(vote.body.find("\"relay\"") != std::string::npos);
  CHECK(vote.body.find("\"omega-two\"") != std::string::npos);
  CHECK(vote.body.find("\"zeta-one\"") == std::string::npos);

  // The admin's disable is stored and survives a restart: the registry file
  // (enabled by default) does not switch it back on.
  const auto again = arena.store->upsert_models({{0, "zeta-one", "Zeta One", "Zetacorp", "mit", "local", "{}", true}},
                                                arena::store::arena_store::enabled_rule::keep_stored);
  CHECK_FALSE(again.front().enabled);
  const auto forced = arena.store->upsert_models({{0, "zeta-one", "Zeta One", "Zetacorp", "mit", "local", "{}", true}});
  CHECK(forced.front().enabled);  // an explicit edit (enabled_rule::set) does

  // Another process's view: a fresh service over the same table picks the endpoint up.
  arena::battle_settings settings;
  arena::battle_service other(*arena.store, {}, settings, nullptr);
  const auto made = other.sync_models(arena.store->list_models(false), [](const arena::model_record& r) {
    auto m = arena::remote_model_from_record(r);
    if (!m) return std::optional<arena::arena_model>{};
    arena::arena_model am;
    am.record = r;
    am.backend = arena::make_remote_backend(*m);
    return std::optional<arena::arena_model>{std::move(am)};
  });
  CHECK(made == 1);
  REQUIRE(other.models().size() == 1);
  CHECK(other.models().front().record.name == "relay");

  // The same through the admin service's own sync (what `huashan serve` runs on its interval).
  arena::battle_service third(*arena.store, {}, settings, nullptr);
  arena::model_admin third_admin(*arena.store, third);
  CHECK(third_admin.sync() == 1);
  REQUIRE(third.models().size() == 1);
  CHECK(third.models().front().record.name == "relay");
  CHECK(third_admin.sync() == 0);  // already in step
}

