// The files of web/ (pages' fragments, scripts, styles, UI strings): compiled
// into the binary, or read from a folder on every request (serve --web-dir,
// for working on the pages without a rebuild). GET /static/{file} serves them.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "arena/http/server.hpp"
#include "arena/http/ui_text.hpp"

namespace huashan::arena::http {

struct static_file {
  std::string name;          // "arena.js"
  std::string content_type;  // "text/javascript; charset=utf-8"
  std::string body;
};

// The files of web/ as built into this binary.
std::vector<static_file> embedded_web_files();

class web_assets {
 public:
  // The compiled-in files; input_error when their UI strings do not parse.
  static std::shared_ptr<const web_assets> compiled_in();
  // The files of `folder`, read on each use; input_error when it is not a folder.
  static std::shared_ptr<const web_assets> from_folder(const std::string& folder);

  // A file by name (one path segment: letters, digits, '.', '-', '_'); nullopt
  // when there is none. io_error when a folder's file cannot be read.
  std::optional<static_file> file(const std::string& name) const;
  // The UI strings of web/strings-*.json (re-read from a folder each call).
  std::shared_ptr<const ui_catalog> catalog() const;

 private:
  std::vector<static_file> compiled_;
  std::shared_ptr<const ui_catalog> compiled_catalog_;
  std::string folder_;  // non-empty: read from here
};

// Adds GET /static/{file}; an unknown file is a 404 naming it.
void add_static_routes(router& routes, std::shared_ptr<const web_assets> assets);

}  // namespace huashan::arena::http
