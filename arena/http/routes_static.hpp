// The pages and assets in web/, compiled into the binary: GET / serves
// index.html and GET /static/{file} the rest.
#pragma once

#include <string>
#include <vector>

#include "arena/http/server.hpp"

namespace huashan::arena::http {

struct static_file {
  std::string name;          // "arena.js"
  std::string content_type;  // "text/javascript; charset=utf-8"
  std::string body;
};

// The files of web/ as built into this binary.
std::vector<static_file> embedded_web_files();
// Adds GET / and GET /static/{file}; an unknown file is a 404 naming it.
void add_static_routes(router& routes);

}  // namespace huashan::arena::http
