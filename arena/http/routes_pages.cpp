#include "arena/http/routes_pages.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "arena/http/html.hpp"
#include "arena/http/page_layout.hpp"
#include "arena/http/pages/eval_pages.hpp"
#include "arena/http/pages/leaderboard_page.hpp"
#include "arena/http/pages/model_page.hpp"
#include "common/error.hpp"
#include "common/log.hpp"

namespace huashan::arena::http {

namespace {

constexpr std::size_t history_snapshots = 60;

// What every page handler starts from: the strings, the language and the frame.
struct page_request {
  std::shared_ptr<const ui_catalog> text;
  language_choice choice;
  page_frame frame;

  page_request(const web_assets& assets, const request& req, std::string body_class, std::string current)
      : text(assets.catalog()), choice(choose_language(req.query, req.headers)) {
    frame.language = choice.language;
    frame.body_class = std::move(body_class);
    frame.current = std::move(current);
    frame.path = req.path;
    frame.query = req.query;
    frame.stylesheets = {"/static/pages.css"};
    frame.scripts = {"/static/pages.js"};
  }
  ui_language language() const { return choice.language; }
  const std::string& t(std::string_view key) const { return text->text(choice.language, key); }

  response page(int status, std::string title, std::string_view main_html) {
    frame.title = std::move(title);
    response r;
    r.status = status;
    r.content_type = "text/html; charset=utf-8";
    r.body = render_page(*text, frame, main_html);
    r.headers.emplace_back("Cache-Control", "no-cache");
    r.headers.emplace_back("Vary", "Accept-Language, Cookie");
    if (choice.remember) r.headers.emplace_back("Set-Cookie", language_cookie(choice.language));
    return r;
  }

  // The page for a failed request: 404, 400 or 503 naming what went wrong.
  response error_page(const std::exception& e) {
    int status = 500;
    std::string detail = t("common.error_title");
    if (dynamic_cast<const not_found_error*>(&e)) {
      status = 404;
      detail = e.what();
    } else if (dynamic_cast<const input_error*>(&e) || dynamic_cast<const conflict_error*>(&e)) {
      status = dynamic_cast<const conflict_error*>(&e) ? 409 : 400;
      detail = e.what();
    } else if (dynamic_cast<const database_error*>(&e)) {
      log::error("page {}: {}", frame.path, e.what());
      status = 503;
      detail = t("common.database_unavailable");
    } else {
      log::error("page {}: {}", frame.path, e.what());
    }
    const auto& title = status == 404 ? t("common.not_found") : t("common.error_title");
    return page(status, title,
                fmt::format(R"(<h1>{}</h1><p class="note error" id="page-error"><span translate="no">{}</span></p>)",
                            html_escape(title), html_escape(detail)));
  }
};

std::string query_value(const request& req, const std::string& name) {
  const auto it = req.query.find(name);
  return it == req.query.end() ? std::string() : it->second;
}

bool query_flag(const request& req, const std::string& name) {
  const auto v = query_value(req, name);
  if (v.empty() || v == "0" || v == "false") return false;
  if (v == "1" || v == "true" || v == "on") return true;
  throw input_error(fmt::format("query parameter '{}' is '{}'; expected 1 or 0", name, v));
}

std::int64_t query_count(const request& req, const std::string& name) {
  const auto v = query_value(req, name);
  if (v.empty()) return 0;
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc{} || end != v.data() + v.size() || n < 0)
    throw input_error(fmt::format("query parameter '{}' is '{}'; expected a whole number of at least 0", name, v));
  return n;
}

std::int64_t path_id(const request& req) {
  const auto& v = req.path_params.at("id");
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc{} || end != v.data() + v.size() || n < 1)
    throw not_found_error(fmt::format("no eval run '{}' (run ids are whole numbers from 1)", v));
  return n;
}

std::map<std::string, model_record> models_by_name(model_admin* admin) {
  std::map<std::string, model_record> out;
  if (admin != nullptr)
    for (auto& m : admin->list()) out.emplace(m.name, std::move(m));
  return out;
}

}  // namespace

void add_page_routes(router& routes, page_sources sources) {
  auto src = std::make_shared<page_sources>(std::move(sources));

  routes.add("GET", "/", [src](const request& req) {
    page_request p(*src->assets, req, "page-arena", "/");
    try {
      const auto fragment = src->assets->file("arena.html");
      if (!fragment) throw not_found_error("web/arena.html is missing from this build");
      p.frame.stylesheets = {"/static/arena.css"};
      p.frame.scripts = {"/static/markdown.js", "/static/arena.js"};
      return p.page(200, p.t("common.page_arena"), p.text->fill(fragment->body, "web/arena.html", p.language()));
    } catch (const std::exception& e) {
      return p.error_page(e);
    }
  });

  routes.add("GET", "/leaderboard", [src](const request& req) {
    page_request p(*src->assets, req, "page-leaderboard", "/leaderboard");
    try {
      leaderboard_page_data d;
      d.language = p.language();
      d.category = query_value(req, "category");
      d.prompt_language = query_value(req, "language");
      d.style_control = query_flag(req, "style");
      d.min_votes = query_count(req, "min_votes");
      d.variants = src->boards->variants();
      if (const auto served = src->boards->latest(d.category, d.prompt_language, d.style_control)) {
        d.snapshot = served->record;
        d.board = board_view_from_body(served->record.body_json);
        d.history = src->boards->rating_history({d.category, d.prompt_language, d.style_control}, history_snapshots);
      }
      d.models = models_by_name(src->models);
      return p.page(200, p.t("lb.title"), leaderboard_main(*p.text, d));
    } catch (const std::exception& e) {
      return p.error_page(e);
    }
  });

  routes.add("GET", "/evals", [src](const request& req) {
    page_request p(*src->assets, req, "page-evals", "/evals");
    try {
      return p.page(200, p.t("evals.title"), evals_main(*p.text, p.language(), src->evals->table_rows()));
    } catch (const std::exception& e) {
      return p.error_page(e);
    }
  });

  routes.add("GET", "/evals/{id}", [src](const request& req) {
    page_request p(*src->assets, req, "page-evals", "/evals");
    try {
      const auto id = path_id(req);
      return p.page(200, p.t("evals.title"), eval_run_main(*p.text, p.language(), id, src->evals->results(id)));
    } catch (const std::exception& e) {
      return p.error_page(e);
    }
  });

  routes.add("GET", "/models/{name...}", [src](const request& req) {
    page_request p(*src->assets, req, "page-model", "");
    try {
      const auto& name = req.path_params.at("name");
      auto models = models_by_name(src->models);
      const auto it = models.find(name);
      if (it == models.end()) throw not_found_error(fmt::format("no model '{}' in this arena", name));
      model_page_data d;
      d.language = p.language();
      d.model = it->second;
      if (const auto served = src->boards->latest("", "", false)) {
        for (const auto& row : board_view_from_body(served->record.body_json).rows)
          if (row.model == name) d.rating = row;
        d.snapshot_id = served->record.id;
        d.history = src->boards->rating_history({"", "", false}, history_snapshots, name);
      }
      d.fingerprint = src->evals->model_fingerprint(name);
      for (auto& row : src->evals->table_rows())
        if (const auto arena = arena_model_names(row.arena_models);
            row.model == name || std::find(arena.begin(), arena.end(), name) != arena.end())
          d.evals.push_back(std::move(row));
      return p.page(200, d.model.display_name.empty() ? name : d.model.display_name, model_main(*p.text, d));
    } catch (const std::exception& e) {
      return p.error_page(e);
    }
  });
}

}  // namespace huashan::arena::http
