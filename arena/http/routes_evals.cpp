#include "arena/http/routes_evals.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <charconv>
#include <memory>

#include "arena/http/json_body.hpp"
#include "arena/http/routes_arena.hpp"
#include "arena/service/admin_keys.hpp"
#include "common/error.hpp"

namespace huashan::arena::http {

namespace json = boost::json;

namespace {

struct unauthorized : std::exception {
  const char* what() const noexcept override { return "unauthorized"; }
};


std::int64_t id_param(const request& req, const char* name) {
  const auto& text = req.path_params.at(name);
  std::int64_t id = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id <= 0)
    throw input_error(fmt::format("{} '{}' is not an id (expected a positive integer)", name, text.substr(0, 32)));
  return id;
}

response text_body(std::string content_type, std::string body, const std::string& filename = {}) {
  response r;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  r.headers.emplace_back("Cache-Control", "no-cache");
  if (!filename.empty()) r.headers.emplace_back("Content-Disposition", fmt::format("attachment; filename=\"{}\"", filename));
  return r;
}

class eval_api {
 public:
  eval_api(eval_service& evals, std::optional<std::string> database_url) : evals_(evals), keys_(std::move(database_url)) {}

  void require_key(const request& req) {
    const auto it = req.headers.find("authorization");
    const std::string prefix = "Bearer ";
    if (it == req.headers.end() || it->second.rfind(prefix, 0) != 0 || !keys_.allows(it->second.substr(prefix.size())))
      throw unauthorized();
  }

  eval_service& evals_;

 private:
  admin_key_checker keys_;
};

}  // namespace

void add_eval_routes(router& routes, eval_service& evals, std::optional<std::string> database_url) {
  auto api = std::make_shared<eval_api>(evals, std::move(database_url));
  // `keyed`: the route needs a bearer API key, checked before the body is read.
  const auto route = [api](bool keyed, auto f) {
    return [api, keyed, f](const request& req) {
      try {
        if (keyed) api->require_key(req);
        return f(api->evals_, req);
      } catch (const unauthorized&) {
        auto r = problem(401, "Unauthorized", "this route needs 'Authorization: Bearer <API key>' (huashan admin create-key)");
        r.headers.emplace_back("WWW-Authenticate", "Bearer");
        return r;
      } catch (const std::exception& e) {
        return problem_from_exception(e);
      }
    };
  };
  routes.add("POST", "/api/eval-runs", route(true, [](eval_service& e, const request& req) {
               return json_response(201, e.queue_runs(body_object(req)));
             }));
  routes.add("GET", "/api/eval-runs/{id}", route(false, [](eval_service& e, const request& req) {
               return json_response(200, e.run_status(id_param(req, "id")));
             }));
  routes.add("POST", "/api/eval-shards/claim", route(true, [](eval_service& e, const request& req) {
               auto shard = e.claim(body_object(req));
               if (!shard) {
                 response r;
                 r.status = 204;
                 r.content_type.clear();
                 return r;
               }
               return json_response(200, *shard);
             }));
  routes.add("POST", "/api/eval-shards/{id}/heartbeat", route(true, [](eval_service& e, const request& req) {
               return json_response(200, e.heartbeat(id_param(req, "id"), body_object(req)));
             }));
  routes.add("POST", "/api/eval-shards/{id}/items", route(true, [](eval_service& e, const request& req) {
               return json_response(200, e.post_items(id_param(req, "id"), body_object(req)));
             }));
  routes.add("POST", "/api/eval-shards/{id}/complete", route(true, [](eval_service& e, const request& req) {
               return json_response(200, e.complete(id_param(req, "id"), body_object(req)));
             }));
  routes.add("POST", "/api/evals", route(true, [](eval_service& e, const request& req) {
               const auto out = e.publish(body_object(req));
               return json_response(out.at("created").as_bool() ? 201 : 200, out);
             }));
  routes.add("GET", "/api/evals", route(false, [](eval_service& e, const request&) { return json_response(200, e.table()); }));
  routes.add("GET", "/api/evals.csv", route(false, [](eval_service& e, const request&) {
               return text_body("text/csv; charset=utf-8", e.table_csv(), "evals.csv");
             }));
  routes.add("GET", "/api/evals/compare", route(false, [](eval_service& e, const request& req) {
               const auto run = [&req](const char* name) {
                 const auto it = req.query.find(name);
                 if (it == req.query.end()) throw input_error(fmt::format("query parameter '{}' (a run id) is required", name));
                 request one;
                 one.path_params[name] = it->second;
                 return id_param(one, name);
               };
               return json_response(200, e.compare(run("a"), run("b")));
             }));
  routes.add("GET", "/api/evals/{id}", route(false, [](eval_service& e, const request& req) {
               return text_body("application/json", e.results(id_param(req, "id")));
             }));
  routes.add("GET", "/api/evals/{id}/samples", route(false, [](eval_service& e, const request& req) {
               const auto id = id_param(req, "id");
               std::optional<std::string> task;
               if (const auto it = req.query.find("task"); it != req.query.end()) task = it->second;
               return text_body("application/x-ndjson; charset=utf-8", e.samples(id, task),
                                fmt::format("samples-{}.jsonl", id));
             }));
}

}  // namespace huashan::arena::http
