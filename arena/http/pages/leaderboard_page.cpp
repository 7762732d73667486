#include "arena/http/pages/leaderboard_page.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "arena/http/html.hpp"
#include "arena/http/pages/svg_charts.hpp"

namespace huashan::arena::http {

namespace {

constexpr std::size_t heatmap_models = 20;  // the top models by rating, as LMArena's plots do
constexpr std::size_t history_models = 10;

std::string fixed1(double v) { return std::isfinite(v) ? fmt::format("{:.1f}", v) : "–"; }

std::string api_query(const leaderboard_page_data& d) {
  return query_string({{"category", d.category},
                       {"language", d.prompt_language},
                       {"style", d.style_control ? "true" : "false"}});
}

}  // namespace

std::string category_label(const ui_catalog& text, ui_language language, const std::string& category) {
  static const std::set<std::string> known = {"coding", "math", "creative_writing", "instruction_following",
                                              "hard_prompts"};
  if (category.empty()) return html_escape(text.text(language, "lb.category_all"));
  if (known.count(category) != 0) return html_escape(text.text(language, "lb.category_" + category));
  return fmt::format(R"(<span translate="no">{}</span>)", html_escape(category));
}

std::string prompt_language_label(const ui_catalog& text, ui_language language, const std::string& code) {
  if (code.empty()) return html_escape(text.text(language, "lb.language_all"));
  if (code == "en" || code == "zh" || code == "other") return html_escape(text.text(language, "lb.language_" + code));
  return fmt::format(R"(<span translate="no">{}</span>)", html_escape(code));
}

std::string leaderboard_main(const ui_catalog& text, const leaderboard_page_data& d) {
  const auto lang = d.language;
  const auto t = [&](std::string_view key) { return html_escape(text.text(lang, key)); };
  std::string out = fmt::format("<h1>{}</h1>\n<p class=\"lede\">{}</p>\n", t("lb.title"),
                                text.format_html(lang, "lb.lede", {{"model", R"(<span translate="no">Bradley–Terry</span>)"}}));

  // Selectors: a plain GET form (works without JavaScript; pages.js submits it on change).
  std::set<std::string> categories{""}, languages{""};
  for (const auto& v : d.variants) {
    if (v.language.empty()) categories.insert(v.category);
    if (v.category.empty()) languages.insert(v.language);
  }
  categories.insert(d.category);
  languages.insert(d.prompt_language);
  out += R"(<form id="board-filters" class="filters" method="get" action="/leaderboard">)";
  out += fmt::format(R"(<label>{}<select name="category">)", t("lb.filter_category"));
  for (const auto& c : categories)
    out += fmt::format(R"(<option value="{}"{}>{}</option>)", html_escape(c), c == d.category ? " selected" : "",
                       category_label(text, lang, c));
  out += fmt::format(R"(</select></label><label>{}<select name="language">)", t("lb.filter_language"));
  for (const auto& l : languages)
    out += fmt::format(R"(<option value="{}"{}>{}</option>)", html_escape(l), l == d.prompt_language ? " selected" : "",
                       prompt_language_label(text, lang, l));
  out += fmt::format(R"(</select></label><label class="check"><input type="checkbox" name="style" value="1"{}> {}</label>)",
                     d.style_control ? " checked" : "", t("lb.filter_style"));
  out += fmt::format(R"(<label>{}<input type="number" name="min_votes" min="0" step="1" value="{}" inputmode="numeric"></label>)",
                     t("lb.filter_min_votes"), d.min_votes);
  out += fmt::format(R"(<button type="submit">{}</button></form>)", t("lb.filter_apply"));
  out += "\n";

  if (!d.snapshot) {
    out += fmt::format(R"(<p class="note" id="no-snapshot">{}</p>)", t("lb.no_snapshot"));
    return out;
  }
  const auto& s = *d.snapshot;
  out += fmt::format(
      R"(<p id="snapshot" class="snapshot" data-snapshot-id="{}">{}</p>)", s.id,
      text.format_html(lang, "lb.snapshot_line",
                  {{"id", fmt::format(R"(<span translate="no">#{}</span>)", s.id)},
                   {"time", fmt::format(R"(<time datetime="{}" translate="no">{} UTC</time>)", html_escape(s.computed_at),
                                        html_escape(s.computed_at.substr(0, 19).replace(10, 1, " ")))},
                   {"votes", fmt::format("{}", s.vote_count)},
                   {"method", fmt::format(R"(<span translate="no">{}</span>)", html_escape(d.board.interval_method))}}));
  if (d.style_control) out += fmt::format(R"(<p class="note">{}</p>)", t("lb.style_note"));
  out += fmt::format(R"(<p class="downloads"><a id="download-csv" href="/api/leaderboard.csv{}" download="leaderboard.csv">{} <span translate="no">CSV</span></a> <a id="download-json" href="/api/leaderboard{}">{} <span translate="no">JSON</span></a></p>)",
                     html_escape(api_query(d)), t("lb.download"), html_escape(api_query(d)), t("lb.download"));

  std::vector<const board_row*> shown;
  for (const auto& r : d.board.rows)
    if (r.votes >= d.min_votes) shown.push_back(&r);
  // Looked up once per model: the plots ask for labels and matrix rows many times.
  std::map<std::string, std::string> labels_by_model;
  for (const auto& r : d.board.rows) labels_by_model.emplace(r.model, r.display_name.empty() ? r.model : r.display_name);
  const auto label_of = [&](const std::string& name) {
    const auto it = labels_by_model.find(name);
    return it == labels_by_model.end() ? name : it->second;
  };
  std::map<std::string, std::size_t> matrix_row;
  for (std::size_t i = 0; i < d.board.models.size(); ++i) matrix_row.emplace(d.board.models[i], i);

  out += R"(<div class="table-wrap"><table id="leaderboard-table" class="board">)";
  out += fmt::format("<caption>{}</caption><thead><tr>", t("lb.table_caption"));
  for (const auto& [key, cls] : {std::pair{"lb.col_rank", "num"}, {"lb.col_rank_ub", "num"}, {"lb.col_model", ""},
                                 {"lb.col_rating", "num"}, {"lb.col_ci", "num"}, {"lb.col_votes", "num"},
                                 {"lb.col_org", ""}, {"lb.col_license", ""}})
    out += fmt::format(R"(<th scope="col"{}>{}</th>)", *cls ? R"( class="num")" : "", t(key));
  out += "</tr></thead><tbody>";
  for (const auto* r : shown) {
    const auto m = d.models.find(r->model);
    const auto license = m == d.models.end() ? std::string() : m->second.license;
    out += fmt::format(
        R"(<tr data-model="{0}"><td class="rank num">{1}</td><td class="rank-ub num">{2}</td><td class="model"><a href="/models/{3}" translate="no">{4}</a></td><td class="rating num">{5}</td><td class="ci num">−{6} / +{7}</td><td class="votes num">{8}</td><td class="org" translate="no">{9}</td><td class="license" translate="no">{10}</td></tr>)",
        html_escape(r->model), r->rank, r->rank_ub, html_escape(r->model),
        html_escape(r->display_name.empty() ? r->model : r->display_name), fixed1(r->rating),
        fixed1(r->rating - r->ci_lo), fixed1(r->ci_hi - r->rating), r->votes, html_escape(r->organization),
        html_escape(license));
  }
  out += "</tbody></table></div>\n";
  if (shown.empty()) out += fmt::format(R"(<p class="note">{}</p>)", t("lb.none_with_min_votes"));
  // The fit's warnings are the ranking library's own English sentences.
  for (const auto& w : d.board.warnings)
    out += fmt::format(R"(<p class="note">{} <span lang="en" translate="no">{}</span></p>)", t("lb.fit_warning"),
                       html_escape(w));

  const auto figure = [&](const char* id, std::string_view title_key, std::string_view caption_key,
                          const std::string& svg) {
    out += fmt::format(R"(<figure id="{}" class="plot"><figcaption><h2>{}</h2><p>{}</p></figcaption><div class="plot-body">{}</div></figure>)",
                       id, t(title_key), t(caption_key), svg);
    out += "\n";
  };
  out += R"(<section class="plots">)";
  std::vector<interval_point> intervals;
  for (const auto* r : shown) intervals.push_back({r->model, label_of(r->model), r->rating, r->ci_lo, r->ci_hi});
  figure("plot-ratings", "lb.plot_ratings", "lb.plot_ratings_caption",
         svg_interval_chart(intervals, text.text(lang, "lb.plot_ratings"), text.text(lang, "lb.axis_rating")));

  // Matrices in rank order, limited to the models shown and the top of the board.
  std::vector<std::size_t> order;
  for (const auto* r : shown) {
    const auto it = matrix_row.find(r->model);
    if (it != matrix_row.end() && order.size() < heatmap_models) order.push_back(it->second);
  }
  std::vector<bar_point> bars;
  for (const auto* r : shown) {
    const auto it = matrix_row.find(r->model);
    if (it == matrix_row.end()) continue;
    const auto i = it->second;
    double sum = 0;
    int n = 0;
    for (std::size_t j = 0; i < d.board.predicted.size() && j < d.board.predicted[i].size(); ++j)
      if (j != i && std::isfinite(d.board.predicted[i][j])) {
        sum += d.board.predicted[i][j];
        ++n;
      }
    if (n > 0) bars.push_back({r->model, label_of(r->model), sum / n});
  }
  std::stable_sort(bars.begin(), bars.end(), [](const bar_point& a, const bar_point& b) { return a.value > b.value; });
  figure("plot-winrate", "lb.plot_winrate", "lb.plot_winrate_caption",
         svg_percent_bars(bars, text.text(lang, "lb.plot_winrate"), text.text(lang, "lb.axis_winrate")));
  std::vector<std::string> names, labels;
  std::vector<std::vector<double>> fraction, counts;
  for (const auto i : order) {
    names.push_back(d.board.models[i]);
    labels.push_back(label_of(d.board.models[i]));
    std::vector<double> frow, crow;
    for (const auto j : order) {
      frow.push_back(i < d.board.win_fraction.size() && j < d.board.win_fraction[i].size() ? d.board.win_fraction[i][j] : NAN);
      crow.push_back(i < d.board.battle_counts.size() && j < d.board.battle_counts[i].size() ? d.board.battle_counts[i][j] : NAN);
    }
    fraction.push_back(std::move(frow));
    counts.push_back(std::move(crow));
  }
  figure("plot-winfraction", "lb.plot_winfraction", "lb.plot_winfraction_caption",
         svg_heatmap(names, labels, fraction, true, text.text(lang, "lb.plot_winfraction"), text.text(lang, "lb.axis_model_a"),
                     text.text(lang, "lb.axis_model_b")));
  figure("plot-battles", "lb.plot_battles", "lb.plot_battles_caption",
         svg_heatmap(names, labels, counts, false, text.text(lang, "lb.plot_battles"), text.text(lang, "lb.axis_model_a"),
                     text.text(lang, "lb.axis_model_b")));

  std::set<std::string> top;
  for (const auto* r : shown)
    if (top.size() < history_models) top.insert(r->model);
  std::vector<history_series> series;
  for (const auto* r : shown) {
    if (top.count(r->model) == 0) continue;
    history_series one{r->model, label_of(r->model), {}};
    for (const auto& p : d.history)
      if (p.model == r->model) one.points.push_back({p.snapshot_id, p.computed_at, p.rating});
    series.push_back(std::move(one));
  }
  figure("plot-history", "lb.plot_history", "lb.plot_history_caption",
         svg_history_chart(series, text.text(lang, "lb.plot_history"), text.text(lang, "lb.axis_rating")));
  out += "</section>\n";
  return out;
}

}  // namespace huashan::arena::http
