#include "arena/http/routes_arena.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "arena/domain/vote.hpp"
#include "arena/http/cookies.hpp"
#include "arena/http/json_body.hpp"
#include "arena/http/origin.hpp"
#include "arena/service/admin_keys.hpp"
#include "common/log.hpp"

namespace huashan::arena::http {
namespace json = boost::json;

namespace {

constexpr const char* cookie_name = "huashan_session";


std::optional<std::string> optional_string(const json::object& o, const char* field, std::size_t max_bytes) {
  const auto* v = o.if_contains(field);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_string()) throw input_error(fmt::format("field '{}' must be a string", field));
  if (v->as_string().size() > max_bytes)
    throw input_error(fmt::format("field '{}' is longer than {} bytes", field, max_bytes));
  // Prompts and names are stored as PostgreSQL text, which cannot hold U+0000.
  if (v->as_string().find('\0') != json::string::npos)
    throw input_error(fmt::format("field '{}' holds a NUL character (\\u0000), which cannot be stored", field));
  return std::string(v->as_string());
}

std::string required_string(const json::object& o, const char* field, std::size_t max_bytes) {
  auto s = optional_string(o, field, max_bytes);
  if (!s) throw input_error(fmt::format("field '{}' is required", field));
  return *s;
}

std::optional<bool> optional_bool(const json::object& o, const char* field) {
  const auto* v = o.if_contains(field);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_bool()) throw input_error(fmt::format("field '{}' must be true or false", field));
  return v->as_bool();
}

json::object public_model(const model_record& m) {
  return {{"name", m.name}, {"display_name", m.display_name}, {"organization", m.organization}, {"license", m.license}};
}

// A model as the admin routes show it: the public fields, its backend and flag.
json::object admin_entry(const model_record& m) {
  auto entry = public_model(m);
  entry["backend"] = m.backend;
  entry["enabled"] = m.enabled;
  return entry;
}

class arena_api {
 public:
  arena_api(battle_service& battles, model_admin& admin, arena_routes_options options)
      : battles_(battles), admin_(admin), options_(std::move(options)) {}

  // The caller's session, or a new one (with its Set-Cookie added to `res`).
  std::string session_for(const request& req, response* res) const {
    if (auto s = verify_session(cookie_value(req.headers, cookie_name), options_.secret, options_.session_max_age)) return s->id;
    if (res == nullptr) return {};
    const auto fresh = new_session();
    res->headers.emplace_back(
        "Set-Cookie", fmt::format("{}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}", cookie_name,
                                  sign_session(fresh, options_.secret),
                                  std::chrono::duration_cast<std::chrono::seconds>(options_.session_max_age).count(),
                                  options_.secure_cookie ? "; Secure" : ""));
    return fresh.id;
  }

  void require_admin(const request& req) const {
    const auto it = req.headers.find("authorization");
    const std::string prefix = "Bearer ";
    if (it == req.headers.end() || it->second.rfind(prefix, 0) != 0 ||
        !is_admin_key(options_.database_url, it->second.substr(prefix.size())))
      throw unauthorized();
  }

  struct unauthorized : std::exception {
    const char* what() const noexcept override { return "unauthorized"; }
  };
  struct foreign_origin : std::exception {
    std::string origin;
    explicit foreign_origin(std::string o) : origin(std::move(o)) {}
    const char* what() const noexcept override { return "foreign origin"; }
  };

  response start(const request& req) {
    require_own_origin(req);
    const auto body = body_object(req);
    const auto prompt = required_string(body, "prompt", 1 << 20);
    const auto category = optional_string(body, "category", 64);
    response res;
    const auto session = session_for(req, &res);
    const auto id = battles_.start_battle(prompt, category, session, req.remote_address);
    auto out = json_response(201, json::object{{"battle_id", id},
                                               {"stream", fmt::format("/api/battles/{}/stream", id)},
                                               {"vote", fmt::format("/api/battles/{}/vote", id)}});
    out.headers.insert(out.headers.end(), res.headers.begin(), res.headers.end());
    return out;
  }

  response stream(const request& req) {
    const auto id = req.path_params.at("id");
    const auto session = session_for(req, nullptr);
    // Fail before streaming starts when the battle is not this session's.
    battles_.follow(id, session, [](const battle_event&) { return false; });
    response res;
    res.content_type = "text/event-stream";
    res.stream = [this, id, session](chunk_writer& out) {
      battles_.follow(id, session, [&out](const battle_event& e) {
        json::object data{{"turn", e.turn}};
        const char* name = "text";
        switch (e.type) {
          case battle_event::kind::text:
            data["side"] = std::string(1, e.side);
            data["text"] = e.text;
            break;
          case battle_event::kind::side_done:
            name = "done";
            data["side"] = std::string(1, e.side);
            data["finish_reason"] = e.text;
            break;
          case battle_event::kind::side_failed:
            name = "error";
            data["side"] = std::string(1, e.side);
            data["message"] = e.text;
            break;
          case battle_event::kind::turn_done: name = "turn_done"; break;
        }
        return out.write(fmt::format("event: {}\ndata: {}\n\n", name, json::serialize(data)));
      });
    };
    return res;
  }

  response add_turn(const request& req) {
    require_own_origin(req);
    const auto body = body_object(req);
    const auto prompt = required_string(body, "prompt", 1 << 20);
    const auto id = req.path_params.at("id");
    const int turn = battles_.add_turn(id, prompt, session_for(req, nullptr), req.remote_address);
    return json_response(202, json::object{{"battle_id", id}, {"turn", turn},
                                           {"stream", fmt::format("/api/battles/{}/stream", id)}});
  }

  response vote(const request& req) {
    require_own_origin(req);
    const auto body = body_object(req);
    const auto choice_text = required_string(body, "vote", 16);
    const auto choice = parse_vote_choice(choice_text);
    if (!choice) throw input_error(fmt::format("field 'vote' is '{}'; expected a, b, tie or bothbad", choice_text));
    const auto outcome =
        battles_.vote(req.path_params.at("id"), *choice, session_for(req, nullptr), req.remote_address);
    // A retry gets the same body as the vote it repeats; only the header says
    // that this request stored nothing.
    auto r = json_response(200, json::object{{"recorded", true},
                                             {"winner", outcome.winner},
                                             {"model_a", public_model(outcome.model_a)},
                                             {"model_b", public_model(outcome.model_b)}});
    if (!outcome.recorded_now) r.headers.emplace_back("Idempotent-Replayed", "true");
    return r;
  }

  // Battles, turns and votes change state on a session's behalf: a browser
  // must send them from the arena's own pages (origin.hpp).
  void require_own_origin(const request& req) const {
    const auto origin = req.headers.find("origin");
    const auto host = req.headers.find("host");
    std::optional<std::string> sent;
    if (origin != req.headers.end()) sent = origin->second;
    if (!origin_allowed(sent, host == req.headers.end() ? std::string_view() : std::string_view(host->second),
                        options_.allowed_origins))
      throw foreign_origin(*sent);
  }

  response list_models(const request&) {
    json::array models;
    bool demo = false;
    for (const auto& m : battles_.models()) {
      auto entry = public_model(m.record);
      entry["random_weights"] = m.random_weights;
      demo = demo || m.random_weights;
      models.push_back(std::move(entry));
    }
    return json_response(200, json::object{{"models", std::move(models)}, {"demo_models", demo}});
  }

  response admin_list(const request& req) {
    require_admin(req);
    json::array models;
    for (const auto& m : admin_.list()) models.push_back(admin_entry(m));
    return json_response(200, json::object{{"models", std::move(models)}});
  }

  response admin_enable(const request& req, bool enabled) {
    require_admin(req);
    const auto name = req.path_params.at("name");
    const bool offered = admin_.set_enabled(name, enabled);
    return json_response(
        200, json::object{{"name", name},
                          {"enabled", enabled},
                          {"note", offered ? "takes effect from the next battle; running battles keep their models"
                                           : "stored; this server does not run the model (not loaded here)"}});
  }

  // POST /api/admin/models: an OpenAI-compatible endpoint, the registry's
  // fields as JSON; stored, then offered from the next battle on (other arena
  // processes pick it up from the table within their refresh interval). A
  // name that exists is 409 (the table's unique name decides).
  response admin_add(const request& req) {
    require_admin(req);
    body_object(req);  // a JSON object, or 400 naming what is wrong
    return json_response(201, admin_entry(admin_.add_endpoint(req.body, "request body")));
  }

  response admin_enable_model(const request& req) { return admin_enable(req, true); }
  response admin_disable_model(const request& req) { return admin_enable(req, false); }

  response admin_edit(const request& req) {
    require_admin(req);
    const auto body = body_object(req);
    model_changes changes;
    changes.display_name = optional_string(body, "display_name", 200);
    changes.organization = optional_string(body, "organization", 200);
    changes.license = optional_string(body, "license", 200);
    changes.enabled = optional_bool(body, "enabled");
    return json_response(200, admin_entry(admin_.edit(req.path_params.at("name"), changes)));
  }

 private:
  battle_service& battles_;
  model_admin& admin_;
  arena_routes_options options_;
};

}  // namespace

response problem_from_exception(const std::exception& e) {
  if (const auto* limited = dynamic_cast<const rate_limited_error*>(&e)) {
    auto r = problem(429, "Too Many Requests", limited->what());
    r.headers.emplace_back("Retry-After", std::to_string(static_cast<long>(std::ceil(std::max(1.0, limited->retry_after_seconds())))));
    return r;
  }
  if (dynamic_cast<const not_found_error*>(&e)) return problem(404, "Not Found", e.what());
  if (dynamic_cast<const conflict_error*>(&e)) return problem(409, "Conflict", e.what());
  if (dynamic_cast<const input_error*>(&e)) return problem(400, "Bad Request", e.what());
  // A setting sent in the request that cannot be used (e.g. an unset api_key_env).
  if (dynamic_cast<const config_error*>(&e)) return problem(400, "Bad Request", e.what());
  if (dynamic_cast<const database_error*>(&e)) {
    log::error("database error: {}", e.what());
    // The pool reconnects by itself; a client may retry after a few seconds.
    auto r = problem(503, "Service Unavailable", "the database is unavailable; try again shortly");
    r.headers.emplace_back("Retry-After", "5");
    return r;
  }
  log::error("request failed: {}", e.what());
  return problem(500, "Internal Server Error", "the server failed to handle this request; see its log");
}

void add_arena_routes(router& routes, battle_service& battles, model_admin& admin, arena_routes_options options) {
  auto api = std::make_shared<arena_api>(battles, admin, std::move(options));
  const auto guarded = [api](auto method) {
    return [api, method](const request& req) {
      try {
        auto res = ((*api).*method)(req);
        // Battles, turns and votes belong to one session: no cache may keep or replay them.
        res.headers.emplace_back("Cache-Control", "no-store");
        return res;
      } catch (const arena_api::unauthorized&) {
        auto r = problem(401, "Unauthorized", "this route needs 'Authorization: Bearer <API key>' (huashan admin create-key)");
        r.headers.emplace_back("WWW-Authenticate", "Bearer");
        return r;
      } catch (const arena_api::foreign_origin& e) {
        return problem(403, "Forbidden",
                       fmt::format("a request from origin '{}' may not start battles or vote here (only this arena's "
                                   "own pages may; behind a proxy, serve --allowed-origin names the public origin)",
                                   e.origin.substr(0, 200)));
      } catch (const std::exception& e) {
        return problem_from_exception(e);
      }
    };
  };
  routes.add("POST", "/api/battles", guarded(&arena_api::start));
  routes.add("GET", "/api/battles/{id}/stream", guarded(&arena_api::stream));
  routes.add("POST", "/api/battles/{id}/turns", guarded(&arena_api::add_turn));
  routes.add("POST", "/api/battles/{id}/vote", guarded(&arena_api::vote));
  routes.add("GET", "/api/models", guarded(&arena_api::list_models));
  routes.add("GET", "/api/admin/models", guarded(&arena_api::admin_list));
  routes.add("POST", "/api/admin/models", guarded(&arena_api::admin_add));
  routes.add("PATCH", "/api/admin/models/{name}", guarded(&arena_api::admin_edit));
  routes.add("POST", "/api/admin/models/{name}/enable", guarded(&arena_api::admin_enable_model));
  routes.add("POST", "/api/admin/models/{name}/disable", guarded(&arena_api::admin_disable_model));
}

}  // namespace huashan::arena::http
