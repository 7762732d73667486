#include "arena/http/page_layout.hpp"

#include <fmt/format.h>

#include "arena/http/html.hpp"

namespace huashan::arena::http {

namespace {

std::string language_link(const page_frame& frame, ui_language target, std::string_view label) {
  auto query = frame.query;
  query["lang"] = std::string(language_tag(target));
  const auto tag = language_tag(target);
  return fmt::format(R"(<a href="{}{}" lang="{}" hreflang="{}"{}>{}</a>)", html_escape(frame.path),
                     html_escape(query_string(query)), tag, tag,
                     frame.language == target ? R"( aria-current="true")" : "", label);
}

}  // namespace

std::string render_page(const ui_catalog& text, const page_frame& frame, std::string_view main_html) {
  const auto lang = frame.language;
  const auto t = [&](std::string_view key) { return html_escape(text.text(lang, key)); };
  std::string out = fmt::format(
      "<!doctype html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>{} · {}</title>\n<link rel=\"icon\" href=\"/static/favicon.svg\" type=\"image/svg+xml\">\n"
      "<link rel=\"stylesheet\" href=\"/static/site.css\">\n",
      language_tag(lang), html_escape(frame.title), t("common.brand"));
  for (const auto& css : frame.stylesheets) out += fmt::format("<link rel=\"stylesheet\" href=\"{}\">\n", html_escape(css));
  for (const auto& js : frame.scripts) out += fmt::format("<script src=\"{}\" defer></script>\n", html_escape(js));
  out += fmt::format("</head>\n<body class=\"{}\">\n<a class=\"skip-link\" href=\"#main\">{}</a>\n",
                     html_escape(frame.body_class), t("common.skip_to_content"));
  out += fmt::format("<header class=\"site-header\">\n<a class=\"brand\" href=\"/\" translate=\"no\">{}</a>\n",
                     t("common.brand"));
  out += fmt::format("<nav class=\"site-nav\" aria-label=\"{}\">", t("common.nav_label"));
  for (const auto& [href, key] : {std::pair{"/", "common.nav_arena"}, std::pair{"/leaderboard", "common.nav_leaderboard"},
                                  std::pair{"/evals", "common.nav_evals"}})
    out += fmt::format("<a href=\"{}\"{}>{}</a>", href, frame.current == href ? R"( aria-current="page")" : "", t(key));
  out += "</nav>\n";
  out += fmt::format("<div class=\"lang-switch\" role=\"group\" aria-label=\"{}\">{}{}</div>\n</header>\n",
                     t("common.language"), language_link(frame, ui_language::en, "English"),
                     language_link(frame, ui_language::zh_cn, "中文"));
  out += fmt::format("<main id=\"main\">\n{}\n</main>\n", main_html);
  out += fmt::format(
      "<footer class=\"site-footer\"><p>{} · <a href=\"/api/leaderboard\" translate=\"no\">JSON</a> · "
      "<a href=\"/api/leaderboard.csv\" translate=\"no\">CSV</a> · <a href=\"/api/evals\">{}</a></p></footer>\n",
      t("common.footer"), t("common.footer_evals_api"));
  out += fmt::format("<script type=\"application/json\" id=\"ui-strings\">{}</script>\n</body>\n</html>\n",
                     text.strings_json(lang));
  return out;
}

}  // namespace huashan::arena::http
