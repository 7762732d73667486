#include "arena/http/pages/eval_pages.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <map>
#include <set>

#include "arena/http/html.hpp"
#include "common/error.hpp"

namespace huashan::arena::http {
namespace json = boost::json;

std::vector<std::string> arena_model_names(const std::string& comma_separated) {
  std::vector<std::string> out;
  for (std::size_t at = 0; at < comma_separated.size();) {
    const auto comma = comma_separated.find(',', at);
    out.push_back(comma_separated.substr(at, comma == std::string::npos ? std::string::npos : comma - at));
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return out;
}

std::string metric_text(const std::optional<double>& value) {
  return value && std::isfinite(*value) ? fmt::format("{:.4f}", *value) : "–";
}

namespace {

std::string cell(const store::eval_metric_row& m, std::int64_t run_id) {
  std::string out = fmt::format(R"(<a href="/evals/{}" class="metric">{}</a>)", run_id, metric_text(m.value));
  if (m.stderr_value) out += fmt::format(R"( <span class="stderr">± {}</span>)", metric_text(m.stderr_value));
  out += fmt::format(R"( <span class="n">n={}</span>)", m.n);
  return out;
}

std::string column_name(const store::eval_metric_row& m) {
  return m.filter.empty() || m.filter == "none" ? fmt::format("{} · {}", m.task, m.metric)
                                                : fmt::format("{} · {} ({})", m.task, m.metric, m.filter);
}

}  // namespace

std::string eval_rows_table(const ui_catalog& text, ui_language language, const std::vector<store::eval_table_row>& rows,
                            const std::string& id) {
  const auto t = [&](std::string_view key) { return html_escape(text.text(language, key)); };
  // A run's groups summarise its tasks: show the groups where a run has them.
  std::set<std::int64_t> runs_with_groups;
  for (const auto& r : rows)
    if (r.metric.is_group) runs_with_groups.insert(r.run_id);
  std::vector<std::string> models, columns;
  std::map<std::pair<std::string, std::string>, const store::eval_table_row*> cells;
  for (const auto& r : rows) {
    if (runs_with_groups.count(r.run_id) != 0 && !r.metric.is_group) continue;
    if (r.metric.metric.ends_with("_stderr")) continue;
    const auto column = column_name(r.metric);
    if (std::find(models.begin(), models.end(), r.model) == models.end()) models.push_back(r.model);
    if (std::find(columns.begin(), columns.end(), column) == columns.end()) columns.push_back(column);
    cells[{r.model, column}] = &r;
  }
  std::string out = fmt::format(R"(<div class="table-wrap"><table id="{}" class="evals"><caption>{}</caption><thead><tr><th scope="col">{}</th>)",
                                html_escape(id), t("evals.table_caption"), t("evals.col_model"));
  for (const auto& c : columns) out += fmt::format(R"(<th scope="col" class="num" translate="no">{}</th>)", html_escape(c));
  out += "</tr></thead><tbody>";
  for (const auto& m : models) {
    out += fmt::format(R"(<tr data-model="{}"><th scope="row" translate="no">{}</th>)", html_escape(m), html_escape(m));
    for (const auto& c : columns) {
      const auto it = cells.find({m, c});
      out += it == cells.end() ? std::string(R"(<td class="num">–</td>)")
                               : fmt::format(R"(<td class="num" translate="no">{}</td>)", cell(it->second->metric, it->second->run_id));
    }
    out += "</tr>";
  }
  return out + "</tbody></table></div>";
}

std::string evals_main(const ui_catalog& text, ui_language language, const std::vector<store::eval_table_row>& rows) {
  const auto t = [&](std::string_view key) { return html_escape(text.text(language, key)); };
  std::string out = fmt::format("<h1>{}</h1>\n<p class=\"lede\">{}</p>\n", t("evals.title"), t("evals.lede"));
  if (rows.empty()) return out + fmt::format(R"(<p class="note" id="no-evals">{}</p>)", t("evals.none"));
  out += eval_rows_table(text, language, rows, "evals-table");
  out += fmt::format(R"(<p class="downloads"><a href="/api/evals.csv" download="evals.csv">{} <span translate="no">CSV</span></a> <a href="/api/evals">{} <span translate="no">JSON</span></a></p>)",
                     t("lb.download"), t("lb.download"));
  // The runs behind the table, newest first, with their fingerprints.
  std::map<std::int64_t, const store::eval_table_row*> runs;
  for (const auto& r : rows) runs.emplace(r.run_id, &r);
  out += fmt::format(R"(<h2>{}</h2><div class="table-wrap"><table id="eval-runs"><thead><tr><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th></tr></thead><tbody>)",
                     t("evals.runs"), t("evals.col_run"), t("evals.col_model"), t("evals.col_arena_model"),
                     t("evals.col_fingerprint"), t("evals.col_date"));
  for (auto it = runs.rbegin(); it != runs.rend(); ++it) {
    const auto& r = *it->second;
    std::string arena;
    for (const auto& name : arena_model_names(r.arena_models))
      arena += fmt::format(R"({}<a href="/models/{}" translate="no">{}</a>)", arena.empty() ? "" : ", ", html_escape(name),
                           html_escape(name));
    out += fmt::format(R"(<tr><td><a href="/evals/{0}" translate="no">#{0}</a></td><td translate="no">{1}</td><td>{2}</td><td translate="no"><code>{3}</code></td><td translate="no"><time datetime="{4}">{5}</time></td></tr>)",
                       r.run_id, html_escape(r.model), arena.empty() ? "–" : arena,
                       html_escape(r.fingerprint_digest ? r.fingerprint_digest->substr(0, 16) : std::string("–")),
                       html_escape(r.finished_at), html_escape(r.finished_at.substr(0, 10)));
  }
  return out + "</tbody></table></div>";
}

std::string eval_run_main(const ui_catalog& text, ui_language language, std::int64_t run_id,
                          const std::string& results_json) {
  const auto t = [&](std::string_view key) { return html_escape(text.text(language, key)); };
  json::object root;
  try {
    root = json::parse(results_json).as_object();
  } catch (const std::exception& e) {
    throw input_error(fmt::format("eval run {}: results.json is not a JSON object: {}", run_id, e.what()));
  }
  const auto object_at = [&](const char* key) {
    const auto* v = root.if_contains(key);
    return v != nullptr && v->is_object() ? v->as_object() : json::object{};
  };
  const auto results = object_at("results");
  const auto groups = object_at("group_subtasks");
  const auto n_samples = object_at("n-samples");
  std::string model;
  if (const auto* c = root.if_contains("model_name"); c != nullptr && c->is_string()) model = c->as_string();

  std::string out = fmt::format("<h1>{}</h1>\n", text.format_html(language, "evals.run_title",
                                                                   {{"id", fmt::format(R"(<span translate="no">#{}</span>)", run_id)}}));
  if (!model.empty())
    out += fmt::format(R"(<p class="lede">{} <strong translate="no">{}</strong></p>)", t("evals.col_model"), html_escape(model));
  out += fmt::format(R"(<p class="downloads"><a href="/api/evals/{}" translate="no">results.json</a> · <a href="/api/evals/{}/samples" translate="no">samples.jsonl</a></p>)",
                     run_id, run_id);

  // Groups first with their tasks under them, then tasks in no group.
  std::vector<std::pair<std::string, int>> order;  // task, depth
  std::set<std::string> placed;
  const std::function<void(const std::string&, int)> place = [&](const std::string& name, int depth) {
    if (!placed.insert(name).second) return;
    order.emplace_back(name, depth);
    if (const auto* subtasks = groups.if_contains(name); subtasks != nullptr && subtasks->is_array())
      for (const auto& s : subtasks->as_array())
        if (s.is_string()) place(std::string(s.as_string()), depth + 1);
  };
  std::set<std::string> children;
  for (const auto& [g, subtasks] : groups)
    if (subtasks.is_array())
      for (const auto& s : subtasks.as_array())
        if (s.is_string()) children.insert(std::string(s.as_string()));
  for (const auto& [g, subtasks] : groups)
    if (children.count(std::string(g)) == 0) place(std::string(g), 0);
  for (const auto& [task, v] : results) place(std::string(task), 0);

  out += fmt::format(R"(<div class="table-wrap"><table id="eval-run" class="evals"><caption>{}</caption><thead><tr><th scope="col">{}</th><th scope="col">{}</th><th scope="col" class="num">{}</th><th scope="col" class="num">±</th><th scope="col" class="num">n</th><th scope="col">{}</th></tr></thead><tbody>)",
                     t("evals.run_caption"), t("evals.col_task"), t("evals.col_metric"), t("evals.col_value"), t("evals.col_samples"));
  for (const auto& [task, depth] : order) {
    const auto* r = results.if_contains(task);
    if (r == nullptr || !r->is_object()) continue;
    std::string n = "–";
    if (const auto* ns = n_samples.if_contains(task); ns != nullptr && ns->is_object())
      if (const auto* e = ns->as_object().if_contains("effective"); e != nullptr && e->is_number())
        n = fmt::format("{}", e->to_number<std::int64_t>());
    const bool is_group = groups.contains(task);
    bool first = true;
    for (const auto& [key, value] : r->as_object()) {
      const std::string k(key);
      const auto comma = k.find(',');
      if (comma == std::string::npos || k.substr(0, comma).ends_with("_stderr") || !value.is_number()) continue;
      const auto stderr_key = k.substr(0, comma) + "_stderr" + k.substr(comma);
      std::optional<double> se;
      if (const auto* s = r->as_object().if_contains(stderr_key); s != nullptr && s->is_number()) se = s->to_number<double>();
      const auto samples = is_group ? std::string("–")
                                    : fmt::format(R"(<a href="/api/evals/{}/samples?task={}">{}</a>)", run_id,
                                                  html_escape(url_encode(task)), t("evals.samples_link"));
      out += fmt::format(R"(<tr class="{}" data-task="{}"><th scope="row" class="depth-{}" translate="no">{}</th><td translate="no">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td>{}</td></tr>)",
                         is_group ? "group" : "task", html_escape(task), std::min(depth, 3),
                         first ? html_escape(task) : "", html_escape(k), metric_text(value.to_number<double>()),
                         metric_text(se), first ? n : "", first ? samples : "");
      first = false;
    }
  }
  return out + "</tbody></table></div>";
}

}  // namespace huashan::arena::http
