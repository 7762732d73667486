#include "arena/http/pages/model_page.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <cmath>

#include "arena/http/html.hpp"
#include "arena/http/pages/eval_pages.hpp"
#include "arena/http/pages/svg_charts.hpp"

namespace huashan::arena::http {

std::string model_main(const ui_catalog& text, const model_page_data& d) {
  const auto lang = d.language;
  const auto t = [&](std::string_view key) { return html_escape(text.text(lang, key)); };
  const auto& m = d.model;
  std::string out = fmt::format(R"(<h1 translate="no">{}</h1>)", html_escape(m.display_name.empty() ? m.name : m.display_name));
  out += R"(<dl class="facts">)";
  const auto fact = [&](std::string_view key, const std::string& value) {
    out += fmt::format(R"(<dt>{}</dt><dd translate="no">{}</dd>)", t(key), value.empty() ? "–" : html_escape(value));
  };
  fact("model.name", m.name);
  fact("lb.col_org", m.organization);
  fact("lb.col_license", m.license);
  out += "</dl>";

  out += fmt::format(R"(<section id="model-rating"><h2>{}</h2>)", t("model.rating"));
  if (d.rating) {
    const auto& r = *d.rating;
    out += fmt::format(
        R"(<p class="big-number"><span class="rating" translate="no">{:.1f}</span> <span class="ci" translate="no">−{:.1f} / +{:.1f}</span></p><p>{}</p>)",
        r.rating, r.rating - r.ci_lo, r.ci_hi - r.rating,
        text.format_html(lang, "model.rank_line",
                         {{"rank", fmt::format("{}", r.rank)}, {"rank_ub", fmt::format("{}", r.rank_ub)},
                          {"votes", fmt::format("{}", r.votes)}}));
  } else {
    out += fmt::format(R"(<p class="note">{}</p>)", t("model.no_rating"));
  }
  out += "</section>";

  out += fmt::format(R"(<section id="model-history"><h2>{}</h2>)", t("lb.plot_history"));
  if (d.history.empty()) {
    out += fmt::format(R"(<p class="note">{}</p>)", t("model.no_history"));
  } else {
    history_series series{m.name, m.display_name.empty() ? m.name : m.display_name, {}};
    for (const auto& p : d.history) series.points.push_back({p.snapshot_id, p.computed_at, p.rating});
    out += svg_history_chart({series}, text.text(lang, "lb.plot_history"), text.text(lang, "lb.axis_rating"));
  }
  out += "</section>";

  out += fmt::format(R"(<section id="model-evals"><h2>{}</h2>)", t("evals.title"));
  out += d.evals.empty() ? fmt::format(R"(<p class="note">{}</p>)", t("model.no_evals"))
                         : eval_rows_table(text, lang, d.evals, "model-evals-table");
  out += "</section>";

  out += fmt::format(R"(<section id="model-fingerprint"><h2>{}</h2>)", t("model.fingerprint"));
  if (d.fingerprint) {
    out += fmt::format(R"(<p>{}</p><p><code class="digest" translate="no">{}</code></p>)", t("model.fingerprint_explained"),
                       html_escape(d.fingerprint->digest));
    // The fields as a table; text that is not an object is shown as it is.
    boost::json::value fields;
    try {
      fields = boost::json::parse(d.fingerprint->fields_json);
    } catch (const std::exception&) {
    }
    if (fields.is_object()) {
      out += R"(<div class="table-wrap"><table class="fields" translate="no"><tbody>)";
      for (const auto& [key, value] : fields.as_object())
        out += fmt::format(R"(<tr><th scope="row">{}</th><td><code>{}</code></td></tr>)", html_escape(key),
                           html_escape(value.is_string() ? std::string(value.as_string()) : boost::json::serialize(value)));
      out += "</tbody></table></div>";
    } else {
      out += fmt::format(R"(<pre class="fields" translate="no">{}</pre>)", html_escape(d.fingerprint->fields_json));
    }
  } else {
    out += fmt::format(R"(<p class="note">{}</p>)", t("model.no_fingerprint"));
  }
  return out + "</section>";
}

}  // namespace huashan::arena::http
