#include "arena/http/routes_static.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/error.hpp"

namespace huashan::arena::http {

namespace {

bool plain_file_name(const std::string& name) {
  if (name.empty() || name.front() == '.') return false;
  for (const char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_')) return false;
  return true;
}

std::string content_type_for(const std::string& name) {
  const auto ext = std::filesystem::path(name).extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".js") return "text/javascript; charset=utf-8";
  if (ext == ".json") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  return "application/octet-stream";
}

bool strings_file(const std::string& name) { return name.rfind("strings-", 0) == 0 && name.ends_with(".json"); }

std::shared_ptr<const ui_catalog> catalog_of(const std::vector<static_file>& files) {
  std::vector<std::pair<std::string, std::string>> texts;
  for (const auto& f : files)
    if (strings_file(f.name)) texts.emplace_back("web/" + f.name, f.body);
  return std::make_shared<const ui_catalog>(ui_catalog::parse(texts));
}

std::vector<static_file> folder_files(const std::string& folder) {
  std::vector<static_file> out;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    const auto name = entry.path().filename().string();
    if (!entry.is_regular_file() || !plain_file_name(name)) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) throw io_error(fmt::format("cannot read {}", entry.path().string()));
    out.push_back({name, content_type_for(name), text.str()});
  }
  return out;
}

}  // namespace

std::shared_ptr<const web_assets> web_assets::compiled_in() {
  auto assets = std::make_shared<web_assets>();
  assets->compiled_ = embedded_web_files();
  assets->compiled_catalog_ = catalog_of(assets->compiled_);
  return assets;
}

std::shared_ptr<const web_assets> web_assets::from_folder(const std::string& folder) {
  if (!std::filesystem::is_directory(folder)) throw input_error(fmt::format("--web-dir '{}' is not a folder", folder));
  auto assets = std::make_shared<web_assets>();
  assets->folder_ = folder;
  catalog_of(folder_files(folder));  // fail at start, not on the first page, when the strings are broken
  return assets;
}

std::optional<static_file> web_assets::file(const std::string& name) const {
  if (!plain_file_name(name)) return std::nullopt;
  if (folder_.empty()) {
    for (const auto& f : compiled_)
      if (f.name == name) return f;
    return std::nullopt;
  }
  const auto path = std::filesystem::path(folder_) / name;
  if (!std::filesystem::is_regular_file(path)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) throw io_error(fmt::format("cannot read {}", path.string()));
  return static_file{name, content_type_for(name), text.str()};
}

std::shared_ptr<const ui_catalog> web_assets::catalog() const {
  return folder_.empty() ? compiled_catalog_ : catalog_of(folder_files(folder_));
}

void add_static_routes(router& routes, std::shared_ptr<const web_assets> assets) {
  // Compiled-in files never block; a --web-dir folder is read from disk, which is quick enough for its purpose.
  routes.add(
      "GET", "/static/{file}",
      [assets](const request& req) {
        const auto& name = req.path_params.at("file");
        auto f = assets->file(name);
        if (!f) return problem(404, "Not Found", fmt::format("no static file '{}'", name));
        response r;
        r.content_type = f->content_type;
        r.body = std::move(f->body);
        r.headers.emplace_back("Cache-Control", "no-cache");
        return r;
      },
      handler_mode::never_blocks);
}

}  // namespace huashan::arena::http
