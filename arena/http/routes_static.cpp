#include "arena/http/routes_static.hpp"

#include <fmt/format.h>

#include <map>
#include <memory>

namespace huashan::arena::http {

void add_static_routes(router& routes) {
  auto files = std::make_shared<std::map<std::string, static_file>>();
  for (auto& f : embedded_web_files()) files->emplace(f.name, std::move(f));
  const auto serve = [files](const std::string& name) {
    const auto it = files->find(name);
    if (it == files->end()) return problem(404, "Not Found", fmt::format("no static file '{}'", name));
    response r;
    r.content_type = it->second.content_type;
    r.body = it->second.body;
    r.headers.emplace_back("Cache-Control", "no-cache");
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    return r;
  };
  // Pages are compiled in: nothing here blocks.
  routes.add("GET", "/", [serve](const request&) { return serve("index.html"); }, handler_mode::never_blocks);
  routes.add("GET", "/static/{file}", [serve](const request& req) { return serve(req.path_params.at("file")); },
             handler_mode::never_blocks);
}

}  // namespace huashan::arena::http
