// The frame every page shares: head, header with navigation and language
// switch, footer, the UI strings for its scripts, and its scripts (external
// files only: the Content-Security-Policy allows no inline script).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "arena/http/ui_text.hpp"

namespace huashan::arena::http {

struct page_frame {
  ui_language language = ui_language::en;
  std::string title;       // in the page's language; " · Huashan" is added
  std::string body_class;  // "page-leaderboard"
  std::string current;     // the navigation entry to mark: "/", "/leaderboard", "/evals" or ""
  std::string path;        // this page's path, for the language links
  std::map<std::string, std::string> query;  // this page's query (lang is replaced in the links)
  std::vector<std::string> stylesheets;      // after /static/site.css
  std::vector<std::string> scripts;          // loaded with defer, in order
};

// The whole HTML document around `main_html` (already escaped markup).
std::string render_page(const ui_catalog& text, const page_frame& frame, std::string_view main_html);

}  // namespace huashan::arena::http
