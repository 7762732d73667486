#include "arena/http/routes_leaderboard.hpp"

#include <fmt/format.h>

#include <charconv>

#include "arena/http/routes_arena.hpp"
#include "common/error.hpp"

namespace huashan::arena::http {
namespace {

constexpr std::size_t max_filter_bytes = 64;

struct board_query {
  std::string category;  // '' = all
  std::string language;
  bool style = false;
};

std::string filter(const request& req, const char* name) {
  const auto it = req.query.find(name);
  if (it == req.query.end()) return {};
  if (it->second.size() > max_filter_bytes)
    throw input_error(fmt::format("query parameter '{}' is longer than {} bytes", name, max_filter_bytes));
  return it->second;
}

board_query parse_query(const request& req, bool with_style) {
  board_query q{filter(req, "category"), filter(req, "language"), false};
  if (!with_style) return q;
  if (const auto it = req.query.find("style"); it != req.query.end()) {
    if (it->second == "true") q.style = true;
    else if (it->second != "false")
      throw input_error(fmt::format("query parameter 'style' is '{}'; expected true or false", it->second.substr(0, 32)));
  }
  return q;
}

std::shared_ptr<const served_snapshot> find_board(const leaderboard_service& boards, const board_query& q) {
  auto s = boards.latest(q.category, q.language, q.style);
  if (s) return s;
  if (!boards.has_snapshots())
    throw not_found_error("no leaderboard yet: no votes have been counted (boards are recomputed after votes)");
  std::string what;
  if (!q.category.empty()) what += fmt::format("category '{}'", q.category);
  if (!q.language.empty()) what += fmt::format("{}language '{}'", what.empty() ? "" : " and ", q.language);
  if (!q.category.empty() && !q.language.empty())
    throw not_found_error(fmt::format("no leaderboard for {}: boards are per category or per language, not both", what));
  throw not_found_error(fmt::format("no leaderboard for {}: no counted votes have it", what));
}

response body_of(int status, std::string content_type, const std::string& body, std::int64_t id) {
  response r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = body;
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("ETag", fmt::format("\"snapshot-{}\"", id));
  return r;
}

template <typename F>
handler guarded(F f) {
  return [f = std::move(f)](const request& req) {
    try {
      return f(req);
    } catch (const std::exception& e) {
      return problem_from_exception(e);
    }
  };
}

}  // namespace

void add_leaderboard_routes(router& routes, const leaderboard_service& boards) {
  routes.add("GET", "/api/leaderboard", guarded([&boards](const request& req) {
               const auto s = find_board(boards, parse_query(req, true));
               return body_of(200, "application/json", s->json, s->record.id);
             }),
             handler_mode::never_blocks);
  routes.add("GET", "/api/leaderboard.csv", guarded([&boards](const request& req) {
               const auto s = find_board(boards, parse_query(req, true));
               auto r = body_of(200, "text/csv; charset=utf-8", s->csv, s->record.id);
               r.headers.emplace_back("Content-Disposition",
                                      fmt::format("attachment; filename=\"leaderboard-{}.csv\"", s->record.id));
               return r;
             }),
             handler_mode::never_blocks);
  routes.add("GET", "/api/leaderboard/{snapshot}", guarded([&boards](const request& req) {
               const auto& text = req.path_params.at("snapshot");
               std::int64_t id = 0;
               const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
               if (ec != std::errc() || end != text.data() + text.size() || id <= 0)
                 throw input_error(
                     fmt::format("snapshot '{}' is not a snapshot id (expected a positive integer)", text.substr(0, 32)));
               const auto s = boards.by_id(id);
               if (!s) throw not_found_error(fmt::format("no leaderboard snapshot {}", id));
               return body_of(200, "application/json", s->json, s->record.id);
             }),
             handler_mode::never_blocks);
  // Reads every counted vote from the database: may block (a worker thread).
  routes.add("GET", "/api/battles.csv", guarded([&boards](const request&) {
               response r;
               r.status = 200;
               r.content_type = "text/csv; charset=utf-8";
               r.body = boards.battles_csv();
               r.headers.emplace_back("Cache-Control", "no-cache");
               r.headers.emplace_back("Content-Disposition", "attachment; filename=\"battles.csv\"");
               return r;
             }),
             handler_mode::may_block);
  routes.add("GET", "/api/matrices", guarded([&boards](const request& req) {
               const auto s = find_board(boards, parse_query(req, false));
               return body_of(200, "application/json", s->matrices, s->record.id);
             }),
             handler_mode::never_blocks);
}

}  // namespace huashan::arena::http
