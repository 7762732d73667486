// The pages people read, rendered on the server in English or Chinese:
//   GET /                 the arena (web/arena.html in the frame)
//   GET /leaderboard      the table, its selectors, five SVG plots, downloads
//   GET /evals            models x suites; /evals/{id} one run with its groups and samples
//   GET /models/{name}    one model: rating, its history, eval results, fingerprint
// Tables and plots need no JavaScript. A page for something that does not
// exist is a 404 page naming it.
#pragma once

#include <memory>

#include "arena/http/routes_static.hpp"
#include "arena/http/server.hpp"
#include "arena/service/eval_service.hpp"
#include "arena/service/leaderboard_service.hpp"
#include "arena/service/model_admin.hpp"

namespace huashan::arena::http {

struct page_sources {
  std::shared_ptr<const web_assets> assets;
  const leaderboard_service* boards = nullptr;  // must outlive the router
  eval_service* evals = nullptr;
  model_admin* models = nullptr;
};

void add_page_routes(router& routes, page_sources sources);

}  // namespace huashan::arena::http
