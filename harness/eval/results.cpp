#include "harness/eval/results.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <set>

#include "common/error.hpp"
#include "harness/eval/python_text.hpp"

namespace huashan::harness::eval {

namespace json = boost::json;

namespace {

std::string_view output_type_text(output_type t) {
  switch (t) {
    case output_type::multiple_choice: return "multiple_choice";
    case output_type::generate_until: return "generate_until";
    case output_type::loglikelihood: return "loglikelihood";
    case output_type::loglikelihood_rolling: return "loglikelihood_rolling";
  }
  return "?";
}

// The results entry of a task or group: alias, then "metric,filter" and
// "metric_stderr,filter" in the order the metrics were computed.
json::object metric_entry(const std::string& name, const std::vector<metric_summary>& metrics) {
  json::object e;
  e["alias"] = name;
  for (const auto& m : metrics) {
    e[m.metric + "," + m.filter] = m.value;
    if (m.stderr_value) e[m.metric + "_stderr," + m.filter] = *m.stderr_value;
    else e[m.metric + "_stderr," + m.filter] = "N/A";
  }
  return e;
}

json::object higher_is_better(const std::vector<metric_summary>& metrics) {
  json::object o;
  for (const auto& m : metrics) o[m.metric] = m.higher_is_better;
  return o;
}

json::value response_json(const response& r) {
  if (const auto* ll = std::get_if<loglikelihood_result>(&r)) return json::array{ll->logprob, ll->is_greedy};
  if (const auto* rr = std::get_if<rolling_result>(&r)) return rr->logprob;
  return json::value(std::get<std::string>(r));
}

void write_file(const std::filesystem::path& path, const std::string& bytes) {
  const auto tmp = std::filesystem::path(path.string() + ".tmp");
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << bytes;
    out.flush();
    if (!out) throw io_error(fmt::format("{}: cannot write", tmp.string()));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw io_error(fmt::format("{}: cannot write: {}", path.string(), ec.message()));
}

// Four decimals as lm-evaluation-harness prints them; huge values (a perplexity
// far from the model's language) in exponent form so the table stays readable.
std::string fixed4(double x) {
  if (!std::isfinite(x)) return python_float_repr(x);
  return std::abs(x) < 1e9 ? fmt::format("{:.4f}", x) : fmt::format("{:.4e}", x);
}

}  // namespace

boost::json::object results_json(const eval_outcome& outcome, const run_settings& settings) {
  json::object results, groups, group_subtasks, configs, versions, n_shot, hib, n_samples, prompt_hashes;
  std::set<std::string> in_group;
  for (const auto& g : outcome.groups) {
    json::object entry = metric_entry(g.config.group, g.metrics);
    results[g.config.group] = entry;
    groups[g.config.group] = std::move(entry);
    json::array members;
    for (const auto& m : g.config.task) {
      members.push_back(json::value(m));
      in_group.insert(m);
    }
    group_subtasks[g.config.group] = std::move(members);
    versions[g.config.group] = g.config.version;
    hib[g.config.group] = higher_is_better(g.metrics);
  }
  for (const auto& t : outcome.tasks) {
    const auto& name = t.config.task;
    results[name] = metric_entry(name, t.metrics);
    if (!in_group.count(name)) group_subtasks[name] = json::array{};
    json::object cfg = t.config.as_json;
    cfg["num_fewshot"] = t.prepared.num_fewshot;
    configs[name] = std::move(cfg);
    versions[name] = t.config.version;
    n_shot[name] = t.prepared.num_fewshot;
    hib[name] = higher_is_better(t.metrics);
    n_samples[name] = json::object{{"original", t.prepared.n_original}, {"effective", static_cast<std::int64_t>(t.prepared.docs.size())}};
    prompt_hashes[name] = json::object{{"output_type", output_type_text(t.config.output)},
                                       {"version", t.config.version},
                                       {"num_fewshot", t.prepared.num_fewshot},
                                       {"prompts_sha256", t.prepared.prompts_hash}};
  }

  json::object config;
  config["model"] = settings.model;
  config["model_args"] = settings.model_args;
  config["batch_size"] = settings.batch_size;
  config["limit"] = settings.limit ? json::value(*settings.limit) : json::value(nullptr);
  config["num_fewshot"] = settings.num_fewshot ? json::value(*settings.num_fewshot) : json::value(nullptr);
  config["bootstrap_iters"] = settings.bootstrap_iters;
  config["circular"] = settings.circular;
  config["random_seed"] = settings.seed ? json::value(*settings.seed) : json::value(nullptr);
  config["fewshot_seed"] = settings.seed ? json::value(*settings.seed) : json::value(nullptr);

  json::object fingerprint;
  fingerprint["kind"] = outcome.fingerprint.kind;
  for (const auto& [k, v] : outcome.fingerprint.fields) fingerprint[k] = v;

  json::object root;
  root["results"] = std::move(results);
  if (!groups.empty()) root["groups"] = std::move(groups);
  root["group_subtasks"] = std::move(group_subtasks);
  root["configs"] = std::move(configs);
  root["versions"] = std::move(versions);
  root["n-shot"] = std::move(n_shot);
  root["higher_is_better"] = std::move(hib);
  root["n-samples"] = std::move(n_samples);
  root["config"] = std::move(config);
  root["model_name"] = settings.model;
  root["model_fingerprint"] = std::move(fingerprint);
  root["task_prompts"] = std::move(prompt_hashes);
  if (outcome.determinism) root["determinism"] = to_json(*outcome.determinism);
  if (!outcome.contamination.empty()) {
    json::object hints;
    for (const auto& [task, record] : outcome.contamination) hints[task] = to_json(record);
    root["contamination"] = std::move(hints);
  }
  root["engine_version"] = settings.engine_version;
  root["date"] = settings.date;
  return root;
}

std::string results_text(const eval_outcome& outcome, const run_settings& settings) {
  return python_json_dumps(results_json(outcome, settings), 2) + "\n";
}

std::string samples_jsonl(const task_outcome& task) {
  std::string out;
  for (std::size_t i = 0; i < task.prepared.docs.size(); ++i) {
    const auto& doc = task.prepared.docs[i];
    const auto& scores = task.scores[i];
    json::array resps;
    for (const auto& r : scores.resps) resps.push_back(json::array{response_json(r)});
    for (const auto& filter : task.config.filters) {
      json::object rec;
      rec["doc_id"] = doc.doc_id;
      rec["doc"] = doc.doc;
      rec["target"] = doc.target;
      rec["arguments"] = doc.arguments;
      rec["resps"] = resps;
      json::array filtered;
      if (const auto it = scores.filtered_resps.find(filter.name); it != scores.filtered_resps.end()) {
        for (const auto& s : it->second) filtered.push_back(json::value(s));
      } else {
        for (const auto& r : scores.resps) filtered.push_back(response_json(r));
      }
      rec["filtered_resps"] = std::move(filtered);
      rec["filter"] = filter.name;
      json::array names;
      const auto values = scores.values.find(filter.name);
      if (values != scores.values.end())
        for (const auto& [metric, value] : values->second) names.push_back(json::value(metric));
      rec["metrics"] = std::move(names);
      rec["doc_hash"] = doc.doc_hash;
      rec["prompt_hash"] = doc.prompt_hash;
      rec["target_hash"] = doc.target_hash;
      if (values != scores.values.end())
        for (const auto& [metric, value] : values->second) rec[metric] = value;
      if (const auto w = scores.weighted.find(filter.name); w != scores.weighted.end())
        for (const auto& [metric, pair] : w->second) rec[metric] = json::array{pair.first, pair.second};
      out += python_json_dumps(rec, -1);
      out += '\n';
    }
  }
  return out;
}

std::string markdown_table(const eval_outcome& outcome) {
  struct row {
    std::string task, version, filter, nshot, metric, arrow, value, stderr_text;
  };
  std::vector<row> rows;
  auto add = [&](const std::string& name, double version, const std::string& nshot, const std::vector<metric_summary>& metrics) {
    bool first = true;
    for (const auto& m : metrics) {
      row r;
      if (first) {
        r.task = name;
        r.version = python_float_repr(version);
        if (r.version.size() > 2 && r.version.ends_with(".0")) r.version.resize(r.version.size() - 2);
      }
      first = false;
      r.filter = m.filter;
      r.nshot = nshot;
      r.metric = m.metric;
      r.arrow = m.higher_is_better ? "↑" : "↓";
      r.value = fixed4(m.value);
      r.stderr_text = m.stderr_value ? fixed4(*m.stderr_value) : "N/A";
      rows.push_back(std::move(r));
    }
  };
  for (const auto& t : outcome.tasks) add(t.config.task, t.config.version, std::to_string(t.prepared.num_fewshot), t.metrics);
  std::vector<row> group_rows;
  std::swap(rows, group_rows);
  for (const auto& g : outcome.groups) add(g.config.group, g.config.version, "", g.metrics);
  std::swap(rows, group_rows);

  auto table = [](const std::vector<row>& rs, const char* first_header) {
    const std::vector<std::string> headers = {first_header, "Version", "Filter", "n-shot", "Metric", "", "Value", "", "Stderr"};
    std::vector<std::vector<std::string>> cells;
    for (const auto& r : rs) cells.push_back({r.task, r.version, r.filter, r.nshot, r.metric, r.arrow, r.value, "±", r.stderr_text});
    // Widths in code points, so "↑" and Chinese names line up as characters.
    auto width = [](const std::string& s) {
      std::size_t n = 0;
      for (const unsigned char c : s) n += (c & 0xC0) != 0x80;
      return n;
    };
    std::vector<std::size_t> w(headers.size());
    for (std::size_t c = 0; c < headers.size(); ++c) {
      w[c] = std::max<std::size_t>(width(headers[c]), 3);
      for (const auto& cr : cells) w[c] = std::max(w[c], width(cr[c]));
    }
    const std::vector<bool> right = {false, true, false, true, false, false, true, false, true};
    auto line = [&](const std::vector<std::string>& v) {
      std::string s = "|";
      for (std::size_t c = 0; c < v.size(); ++c) {
        const std::string pad(w[c] - width(v[c]), ' ');
        s += right[c] ? pad + v[c] : v[c] + pad;
        s += "|";
      }
      return s + "\n";
    };
    std::string s = line(headers);
    s += "|";
    for (std::size_t c = 0; c < headers.size(); ++c) s += std::string(w[c] - (right[c] ? 1 : 0), '-') + (right[c] ? ":" : "") + "|";
    s += "\n";
    for (const auto& cr : cells) s += line(cr);
    return s;
  };
  std::string out = table(rows, "Tasks");
  if (!group_rows.empty()) out += "\n" + table(group_rows, "Groups");
  return out;
}

void write_results(const std::filesystem::path& dir, const eval_outcome& outcome, const run_settings& settings) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw io_error(fmt::format("{}: cannot create the output folder: {}", dir.string(), ec.message()));
  for (const auto& t : outcome.tasks) write_file(dir / ("samples_" + t.config.task + ".jsonl"), samples_jsonl(t));
  write_file(dir / "results.json", results_text(outcome, settings));
}

}  // namespace huashan::harness::eval
