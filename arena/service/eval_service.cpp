#include "arena/service/eval_service.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>

#include "common/error.hpp"
#include "common/log.hpp"
#include "harness/eval/compare.hpp"
#include "harness/eval/hashing.hpp"
#include "harness/eval/python_text.hpp"
#include "harness/eval/request_cache.hpp"
#include "harness/eval/response_json.hpp"
#include "harness/eval/results.hpp"
#include "harness/eval/run_spec.hpp"
#include "harness/eval/runner.hpp"

namespace huashan::arena {

namespace json = boost::json;
namespace ev = harness::eval;

namespace {

constexpr std::size_t max_models_per_request = 64;
constexpr std::size_t max_name_bytes = 256;
constexpr std::size_t max_token_bytes = 64;
constexpr std::size_t kept_prepared_runs = 8;

const json::value* member(const json::object& o, std::string_view name) { return o.if_contains(name); }

// A field's text; `name_like` refuses control characters (names, tokens; not documents).
std::string required_string(const json::object& o, std::string_view name, std::size_t max_bytes, bool name_like = true) {
  const auto* v = member(o, name);
  if (v == nullptr || v->is_null()) throw input_error(fmt::format("field '{}' is required", name));
  if (!v->is_string()) throw input_error(fmt::format("field '{}' must be a string", name));
  const auto& s = v->as_string();
  if (s.empty() || s.size() > max_bytes)
    throw input_error(fmt::format("field '{}' must be 1 to {} bytes long", name, max_bytes));
  for (const char c : s)
    if (name_like && static_cast<unsigned char>(c) < 0x20) throw input_error(fmt::format("field '{}' holds a control character", name));
  return std::string(s);
}

std::vector<std::string> string_list(const json::object& o, std::string_view name, bool required) {
  const auto* v = member(o, name);
  if (v == nullptr || v->is_null()) {
    if (required) throw input_error(fmt::format("field '{}' is required (a list of names)", name));
    return {};
  }
  if (!v->is_array()) throw input_error(fmt::format("field '{}' must be a list of names", name));
  const auto& a = v->as_array();
  if (required && a.empty()) throw input_error(fmt::format("field '{}' must name at least one", name));
  if (a.size() > max_models_per_request)
    throw input_error(fmt::format("field '{}' names {}; at most {}", name, a.size(), max_models_per_request));
  std::vector<std::string> out;
  for (std::size_t i = 0; i < a.size(); ++i) {
    json::object one{{"name", a[i]}};
    try {
      out.push_back(required_string(one, "name", max_name_bytes));
    } catch (const input_error&) {
      throw input_error(fmt::format("field '{}' entry {} must be a name of 1 to {} bytes", name, i, max_name_bytes));
    }
  }
  return out;
}

std::int64_t whole_number(const json::object& o, std::string_view name, std::int64_t low, std::int64_t high,
                          std::int64_t fallback) {
  const auto* v = member(o, name);
  if (v == nullptr || v->is_null()) return fallback;
  if (!v->is_int64() || v->as_int64() < low || v->as_int64() > high)
    throw input_error(fmt::format("field '{}' must be a whole number from {} to {}", name, low, high));
  return v->as_int64();
}

const json::object& object_field(const json::object& o, std::string_view name) {
  const auto* v = member(o, name);
  if (v == nullptr || !v->is_object()) throw input_error(fmt::format("field '{}' must be a JSON object", name));
  return v->as_object();
}

// A fingerprint as results.json writes it: {"kind": ..., field: text, ...}.
store::fingerprint_value fingerprint_of(const json::object& o, std::string_view where) {
  harness::model_fingerprint fp;
  for (const auto& [key, value] : o) {
    if (!value.is_string() || value.as_string().size() > 1024 || key.size() > 128)
      throw input_error(fmt::format("{} field '{}' must be a string of at most 1024 bytes", where,
                                    std::string_view(key).substr(0, 64)));
    if (key == "kind") fp.kind = std::string(value.as_string());
    else fp.fields.emplace(std::string(key), std::string(value.as_string()));
  }
  if (fp.kind.empty()) throw input_error(fmt::format("{} has no 'kind'", where));
  json::object fields;
  for (const auto& [k, v] : fp.fields) fields[k] = v;
  return {ev::same_model_digest(fp), fp.kind, json::serialize(fields)};
}

json::value number_or_null(const std::optional<double>& x) {
  if (!x || !std::isfinite(*x)) return nullptr;
  return *x;
}

std::optional<double> metric_number(const json::value* v) {
  if (v == nullptr) return std::nullopt;
  if (v->is_double()) return v->as_double();
  if (v->is_int64()) return static_cast<double>(v->as_int64());
  if (v->is_uint64()) return static_cast<double>(v->as_uint64());
  return std::nullopt;  // "N/A" or null
}

// The metric rows of a results.json: "acc,none" and "acc_stderr,none" per task and group.
std::vector<store::eval_metric_row> metric_rows(const json::object& results) {
  std::vector<store::eval_metric_row> rows;
  const auto* per_task = results.if_contains("results");
  if (per_task == nullptr || !per_task->is_object())
    throw input_error("results_json has no \"results\" object (is it a results.json of huashan eval?)");
  std::set<std::string> groups;
  if (const auto* g = results.if_contains("groups"); g && g->is_object())
    for (const auto& [name, _] : g->as_object()) groups.emplace(name);
  const auto* n_samples = results.if_contains("n-samples");
  const auto* subtasks = results.if_contains("group_subtasks");
  // A task's documents; a group's, its members' (members may be groups).
  std::function<std::int64_t(std::string_view, int)> documents = [&](std::string_view task, int depth) -> std::int64_t {
    if (depth > 16) return 0;
    if (n_samples && n_samples->is_object())
      if (const auto* t = n_samples->as_object().if_contains(task); t && t->is_object())
        if (const auto* eff = t->as_object().if_contains("effective"); eff && eff->is_int64()) return eff->as_int64();
    std::int64_t n = 0;
    if (subtasks && subtasks->is_object())
      if (const auto* members = subtasks->as_object().if_contains(task); members && members->is_array())
        for (const auto& m : members->as_array())
          if (m.is_string()) n += documents(m.as_string(), depth + 1);
    return n;
  };
  const auto* hib = results.if_contains("higher_is_better");
  for (const auto& [task, entry] : per_task->as_object()) {
    if (!entry.is_object()) throw input_error(fmt::format("results_json: results.{} is not an object", std::string_view(task)));
    const std::int64_t n = documents(task, 0);
    for (const auto& [key, value] : entry.as_object()) {
      const auto comma = key.find(',');
      if (comma == json::string_view::npos) continue;  // "alias"
      const std::string metric(key.substr(0, comma));
      if (metric.size() > 7 && metric.compare(metric.size() - 7, 7, "_stderr") == 0) continue;
      store::eval_metric_row row;
      row.task = std::string(task);
      row.is_group = groups.count(row.task) > 0;
      row.metric = metric;
      row.filter = std::string(key.substr(comma + 1));
      row.value = metric_number(&value);
      row.stderr_value = metric_number(entry.as_object().if_contains(fmt::format("{}_stderr,{}", metric, row.filter)));
      row.n = n;
      if (hib && hib->is_object())
        if (const auto* t = hib->as_object().if_contains(task); t && t->is_object())
          if (const auto* h = t->as_object().if_contains(metric); h && h->is_bool()) row.higher_is_better = h->as_bool();
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

json::object parse_object(const std::string& text, std::string_view what) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) throw input_error(fmt::format("{} is not a JSON object", what));
  return std::move(v.as_object());
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string csv_number(const std::optional<double>& x) { return x && std::isfinite(*x) ? fmt::format("{}", *x) : ""; }

}  // namespace

struct eval_service::prepared_run {
  ev::run_spec spec;
  ev::suite_selection suites;
  std::vector<ev::task_outcome> tasks;  // every document of every task
  const ev::task_outcome* task(const std::string& name) const {
    for (const auto& t : tasks)
      if (t.config.task == name) return &t;
    return nullptr;
  }
};

eval_service::eval_service(store::eval_store& store, eval_service_options options)
    : store_(store), options_(std::move(options)) {}
eval_service::~eval_service() = default;

std::shared_ptr<const eval_service::prepared_run> eval_service::prepared(std::int64_t run_id,
                                                                         const std::string& settings_json) {
  {
    std::lock_guard lock(mutex_);
    if (const auto it = prepared_.find(run_id); it != prepared_.end()) return it->second;
  }
  // Rendering the prompts may take a while: outside the lock (two threads may both do it; either result is the same).
  auto run = std::make_shared<prepared_run>();
  run->spec = ev::run_spec_from_json(parse_object(settings_json, "the run's settings"));
  run->suites = ev::load_suites(run->spec.suites, options_.suites_dirs);
  run->tasks = ev::prepare_tasks(run->suites, ev::eval_options_for(run->spec, options_.data_dir));
  std::lock_guard lock(mutex_);
  if (prepared_.size() >= kept_prepared_runs) prepared_.erase(prepared_.begin());
  prepared_[run_id] = run;
  return run;
}

json::object eval_service::queue_runs(const json::object& request) {
  const auto models = string_list(request, "models", true);
  const auto spec = ev::run_spec_from_json(request);
  const auto shard_size = whole_number(request, "shard_size", 1, 1'000'000, options_.shard_size);
  const auto settings = json::serialize(ev::run_spec_json(spec));
  json::array suites_json;
  for (const auto& s : spec.suites) suites_json.emplace_back(s);

  // Suites are checked (and every prompt rendered) before anything is stored.
  auto run = std::make_shared<prepared_run>();
  run->spec = spec;
  run->suites = ev::load_suites(spec.suites, options_.suites_dirs);
  run->tasks = ev::prepare_tasks(run->suites, ev::eval_options_for(spec, options_.data_dir));
  std::vector<store::new_shard> shards;
  std::int64_t items = 0;
  for (const auto& t : run->tasks) {
    const auto n = static_cast<std::int32_t>(t.prepared.docs.size());
    items += n;
    for (std::int32_t begin = 0; begin < n; begin += static_cast<std::int32_t>(shard_size))
      shards.push_back({t.config.task, begin, std::min<std::int32_t>(n, begin + static_cast<std::int32_t>(shard_size))});
  }
  if (shards.empty()) throw input_error("the suites hold no documents: nothing to evaluate");

  json::array runs;
  for (const auto& model : models) {
    const auto id = store_.create_queued_run(model, json::serialize(suites_json), settings, shards);
    {
      std::lock_guard lock(mutex_);
      if (prepared_.size() >= kept_prepared_runs) prepared_.erase(prepared_.begin());
      prepared_[id] = run;
    }
    runs.emplace_back(json::object{{"id", id},
                                   {"model", model},
                                   {"shards", static_cast<std::int64_t>(shards.size())},
                                   {"items", items},
                                   {"status", fmt::format("/api/eval-runs/{}", id)}});
    log::info("eval run {} queued: {} on {} in {} shard(s)", id, model, fmt::join(spec.suites, ","), shards.size());
  }
  return {{"runs", std::move(runs)}};
}

std::optional<json::object> eval_service::claim(const json::object& request) {
  const auto worker = required_string(request, "worker", max_name_bytes);
  const auto models = string_list(request, "models", false);
  const auto lease = store_.claim_shard(worker, models, options_.lease, options_.max_attempts);
  if (!lease) return std::nullopt;
  return json::object{{"shard", lease->shard_id},
                      {"run", lease->run_id},
                      {"model", lease->model},
                      {"task", lease->task},
                      {"doc_begin", lease->doc_begin},
                      {"doc_end", lease->doc_end},
                      {"spec", parse_object(lease->settings_json, "the run's settings")},
                      {"lease", lease->lease_token},
                      {"lease_ms", static_cast<std::int64_t>(options_.lease.count())},
                      {"attempt", lease->attempts}};
}

json::object eval_service::heartbeat(std::int64_t shard_id, const json::object& request) {
  const auto token = required_string(request, "lease", max_token_bytes);
  store_.extend_lease(shard_id, token, options_.lease);
  return {{"shard", shard_id}, {"lease_ms", static_cast<std::int64_t>(options_.lease.count())}};
}

json::object eval_service::post_items(std::int64_t shard_id, const json::object& request) {
  const auto token = required_string(request, "lease", max_token_bytes);
  const auto fingerprint = fingerprint_of(object_field(request, "fingerprint"), "field 'fingerprint'");
  const auto* items_value = member(request, "items");
  if (items_value == nullptr || !items_value->is_array())
    throw input_error("field 'items' must be a list of {\"task\", \"doc_id\", \"answers\"}");
  const auto& items = items_value->as_array();
  if (static_cast<std::int64_t>(items.size()) > options_.max_items_per_request)
    throw input_error(fmt::format("field 'items' holds {} items; at most {} per request", items.size(),
                                  options_.max_items_per_request));

  const auto shard = store_.shard(shard_id);
  const auto run = prepared(shard.run_id, shard.settings_json);
  const auto* task = run->task(shard.task);
  if (task == nullptr) throw conflict_error(fmt::format("eval run {} no longer has task '{}'", shard.run_id, shard.task));

  std::vector<store::item_answer> answers;
  std::set<std::int32_t> seen;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (!items[i].is_object()) throw input_error(fmt::format("items[{}] must be a JSON object", i));
    const auto& item = items[i].as_object();
    const auto task_name = required_string(item, "task", max_name_bytes);
    if (task_name != shard.task)
      throw input_error(fmt::format("items[{}] is for task '{}'; shard {} is task '{}'", i, task_name.substr(0, 64),
                                    shard_id, shard.task));
    const auto doc = whole_number(item, "doc_id", 0, std::numeric_limits<std::int32_t>::max(), -1);
    if (doc < shard.doc_begin || doc >= shard.doc_end)
      throw input_error(fmt::format("items[{}] document {} is outside shard {} (documents {} to {})", i, doc, shard_id,
                                    shard.doc_begin, shard.doc_end - 1));
    if (!seen.insert(static_cast<std::int32_t>(doc)).second)
      throw input_error(fmt::format("items[{}] repeats document {}", i, doc));
    const auto* answers_value = item.if_contains("answers");
    if (answers_value == nullptr || !answers_value->is_array())
      throw input_error(fmt::format("items[{}] field 'answers' must be a list", i));
    std::vector<ev::response> parsed;
    try {
      parsed = ev::answers_from_json(answers_value->as_array());
    } catch (const input_error& e) {
      throw input_error(fmt::format("items[{}] (document {}): {}", i, doc, e.what()));
    }
    const auto& prepared_doc = task->prepared.docs.at(static_cast<std::size_t>(doc));
    if (parsed.size() != prepared_doc.requests.size())
      throw input_error(fmt::format("items[{}] (document {}) has {} answers; its document asks {} requests", i, doc,
                                    parsed.size(), prepared_doc.requests.size()));
    for (std::size_t k = 0; k < parsed.size(); ++k)
      if (ev::response_kind(parsed[k]) != prepared_doc.requests[k].args.index())
        throw input_error(fmt::format("items[{}] (document {}) answer {} is of another kind than its request", i, doc, k));
    auto text = ev::answers_text(parsed);
    auto sha = ev::sha256_hex(text);
    answers.push_back({shard.task, static_cast<std::int32_t>(doc), std::move(text), std::move(sha)});
  }
  const auto stored = store_.store_items(shard_id, token, fingerprint, answers);
  return {{"shard", shard_id}, {"stored", stored.stored}, {"unchanged", stored.unchanged}};
}

json::object eval_service::complete(std::int64_t shard_id, const json::object& request) {
  const auto token = required_string(request, "lease", max_token_bytes);
  std::string records = "{}";
  if (const auto* r = member(request, "records"); r != nullptr && !r->is_null()) {
    if (!r->is_object()) throw input_error("field 'records' must be a JSON object");
    ev::eval_outcome check;
    ev::merge_shard_records(check, r->as_object());  // refuses a malformed record before it is stored
    records = json::serialize(*r);
  }
  const auto done = store_.complete_shard(shard_id, token, records);
  if (!done.run_ready) return {{"shard", shard_id}, {"run", done.run_id}, {"run_state", "running"}};
  // The last shard: the run is aggregated now, and its state said in full.
  finish(done.run_id);
  auto status = run_status(done.run_id);
  status["shard"] = shard_id;
  status["run"] = done.run_id;
  status["run_state"] = status.at("state");
  return status;
}

void eval_service::finish(std::int64_t run_id) {
  const auto record = store_.run(run_id);
  if (!record || record->state == "done" || record->state == "failed") return;
  const auto run = prepared(run_id, record->settings_json);
  std::map<std::pair<std::string, std::int32_t>, std::string> answers;
  for (auto& item : store_.items(run_id)) answers[{item.task, item.doc_id}] = std::move(item.answer);

  ev::eval_outcome outcome;
  outcome.tasks = run->tasks;
  for (auto& t : outcome.tasks) {
    t.scores.reserve(t.prepared.docs.size());
    for (const auto& doc : t.prepared.docs) {
      const auto it = answers.find({t.config.task, static_cast<std::int32_t>(doc.doc_id)});
      if (it == answers.end()) {
        store_.fail_run(run_id, fmt::format("task '{}' document {} has no answer", t.config.task, doc.doc_id));
        return;
      }
      auto parsed = json::parse(it->second);
      t.scores.push_back(ev::score_doc(t.config, doc, ev::answers_from_json(parsed.as_array())));
    }
  }
  const auto options = ev::eval_options_for(run->spec, options_.data_dir);
  ev::aggregate_outcome(outcome, run->suites, options);
  if (record->fingerprint) {
    outcome.fingerprint.kind = record->fingerprint->kind;
    for (const auto& [k, v] : parse_object(record->fingerprint->fields_json, "a stored fingerprint"))
      if (v.is_string()) outcome.fingerprint.fields[std::string(k)] = std::string(v.as_string());
  }

  for (const auto& [task, records] : store_.shard_records(run_id))
    ev::merge_shard_records(outcome, parse_object(records, fmt::format("a shard's records of task '{}'", task)));

  auto settings = ev::run_settings_for(run->spec, record->model);
  settings.date = record->created_unix;
  store::finished_run finished;
  finished.results = ev::results_text(outcome, settings);
  for (const auto& t : outcome.tasks) finished.samples.emplace_back(t.config.task, ev::samples_jsonl(t));
  finished.metrics = metric_rows(ev::parse_python_json(finished.results, "results.json").as_object());
  if (store_.finish_run(run_id, finished)) log::info("eval run {} done: {} on {}", run_id, record->model, record->suites_json);
}

json::object eval_service::run_status(std::int64_t run_id) {
  auto record = store_.run(run_id);
  if (!record) throw not_found_error(fmt::format("no eval run {}", run_id));
  const auto counts = store_.counts(run_id);
  const auto total = counts.queued + counts.leased + counts.done + counts.failed;
  // A process that stopped between completing the last shard and storing
  // the results leaves the run for whoever looks next.
  if (record->source == "queue" && record->state == "running" && total > 0 && counts.done == total) {
    finish(run_id);
    record = store_.run(run_id);
  }
  json::object o{{"id", record->id},
                 {"model", record->model},
                 {"source", record->source},
                 {"state", record->state},
                 {"suites", json::parse(record->suites_json)},
                 {"spec", json::parse(record->settings_json)},
                 {"created_at", record->created_at},
                 {"finished_at", record->finished_at ? json::value(*record->finished_at) : json::value(nullptr)},
                 {"fingerprint", record->fingerprint ? json::value(record->fingerprint->digest) : json::value(nullptr)}};
  o["shards"] = json::object{{"total", total}, {"queued", counts.queued}, {"leased", counts.leased},
                             {"done", counts.done}, {"failed", counts.failed}};
  o["items"] = json::object{{"total", counts.items_expected}, {"stored", counts.items_stored}};
  if (record->failure) o["failure"] = *record->failure;
  if (record->state == "done") o["results"] = fmt::format("/api/evals/{}", record->id);
  return o;
}

std::string eval_service::results(std::int64_t run_id) {
  const auto record = store_.run(run_id);
  if (!record) throw not_found_error(fmt::format("no eval run {}", run_id));
  if (!record->results)
    throw conflict_error(fmt::format("eval run {} is {}: it has no results yet (see /api/eval-runs/{})", run_id,
                                     record->state, run_id));
  return *record->results;
}

std::string eval_service::samples(std::int64_t run_id, const std::optional<std::string>& task) {
  const auto record = store_.run(run_id);
  if (!record) throw not_found_error(fmt::format("no eval run {}", run_id));
  const auto rows = store_.samples(run_id, task);
  if (rows.empty()) {
    if (task) throw not_found_error(fmt::format("eval run {} has no samples for task '{}'", run_id, task->substr(0, 64)));
    if (record->state != "done") throw conflict_error(fmt::format("eval run {} is {}: no samples yet", run_id, record->state));
  }
  std::string out;
  for (const auto& [_, jsonl] : rows) {
    out += jsonl;
    if (!jsonl.empty() && jsonl.back() != '\n') out += '\n';
  }
  return out;
}

json::object eval_service::publish(const json::object& request) {
  const auto model = required_string(request, "model", max_name_bytes);
  const auto results_text = required_string(request, "results_json", std::numeric_limits<std::size_t>::max(), false);
  const auto parsed = ev::parse_python_json(results_text, "field 'results_json'");
  if (!parsed.is_object()) throw input_error("field 'results_json' is not a JSON object");
  const auto& results = parsed.as_object();
  const auto metrics = metric_rows(results);
  if (metrics.empty()) throw input_error("field 'results_json' holds no metrics");
  store::finished_run finished;
  finished.results = results_text;
  finished.metrics = metrics;
  if (const auto* fp = results.if_contains("model_fingerprint"); fp && fp->is_object() && !fp->as_object().empty())
    finished.fingerprint = fingerprint_of(fp->as_object(), "results_json model_fingerprint");
  // When the run was made is not what it found: the same results sent from a
  // rerun of the same command are stored once.
  auto undated = results;
  undated.erase("date");
  std::string digest_input = model + '\n' + json::serialize(undated);
  if (const auto* s = member(request, "samples"); s != nullptr && !s->is_null()) {
    if (!s->is_object()) throw input_error("field 'samples' must map task names to JSONL text");
    for (const auto& [task, jsonl] : s->as_object()) {
      if (!jsonl.is_string()) throw input_error(fmt::format("field 'samples.{}' must be JSONL text", std::string_view(task).substr(0, 64)));
      if (!results.at("results").as_object().contains(task))
        throw input_error(fmt::format("field 'samples' names task '{}', which results_json has no results for",
                                      std::string_view(task).substr(0, 64)));
      finished.samples.emplace_back(std::string(task), std::string(jsonl.as_string()));
    }
  }
  std::sort(finished.samples.begin(), finished.samples.end());
  for (const auto& [task, jsonl] : finished.samples) digest_input += '\n' + task + '\n' + jsonl;

  json::array suites;
  std::set<std::string> named;
  for (const auto& m : metrics) {
    if (named.insert(m.task).second) suites.emplace_back(m.task);
  }
  json::object settings;
  if (const auto* c = results.if_contains("config"); c && c->is_object()) settings = c->as_object();
  const auto stored =
      store_.publish_run(model, json::serialize(suites), json::serialize(settings), ev::sha256_hex(digest_input), finished);
  if (stored.created) log::info("eval run {} published: {}", stored.run_id, model);
  return {{"id", stored.run_id}, {"created", stored.created}, {"results", fmt::format("/api/evals/{}", stored.run_id)}};
}

json::object eval_service::compare(std::int64_t run_a, std::int64_t run_b) {
  const auto load = [this](std::int64_t id) {
    ev::run_for_comparison run;
    const auto parsed = ev::parse_python_json(results(id), fmt::format("eval run {}'s results", id));
    run.results = parsed.as_object();
    for (const auto& [task, jsonl] : store_.samples(id, std::nullopt)) {
      auto& lines = run.samples[task];
      std::size_t pos = 0;
      while (pos < jsonl.size()) {
        const auto end = std::min(jsonl.find('\n', pos), jsonl.size());
        if (end > pos) lines.push_back(ev::parse_python_json(std::string_view(jsonl).substr(pos, end - pos), "a sample").as_object());
        pos = end + 1;
      }
    }
    return run;
  };
  const auto a = load(run_a);
  const auto b = load(run_b);
  auto out = ev::comparison_json(ev::compare_runs(a, b), a, b);
  out["run_a"] = run_a;
  out["run_b"] = run_b;
  return out;
}

json::object eval_service::table() {
  json::array rows;
  for (const auto& r : store_.latest_metrics())
    rows.emplace_back(json::object{{"model", r.model},
                                   {"task", r.metric.task},
                                   {"is_group", r.metric.is_group},
                                   {"metric", r.metric.metric},
                                   {"filter", r.metric.filter},
                                   {"value", number_or_null(r.metric.value)},
                                   {"stderr", number_or_null(r.metric.stderr_value)},
                                   {"n", r.metric.n},
                                   {"higher_is_better", r.metric.higher_is_better},
                                   {"fingerprint", r.fingerprint_digest ? json::value(*r.fingerprint_digest) : json::value(nullptr)},
                                   {"arena_model", r.arena_models.empty() ? json::value(nullptr) : json::value(r.arena_models)},
                                   {"run_id", r.run_id},
                                   {"date", r.finished_at}});
  return {{"evals", std::move(rows)}};
}

std::vector<store::eval_table_row> eval_service::table_rows() { return store_.latest_metrics(); }

std::optional<store::fingerprint_value> eval_service::model_fingerprint(const std::string& model_name) {
  return store_.model_fingerprint(model_name);
}

std::string eval_service::table_csv() {
  std::string out = "model,task,is_group,metric,filter,value,stderr,n,higher_is_better,fingerprint,arena_model,run_id,date\n";
  for (const auto& r : store_.latest_metrics())
    out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{}\n", csv_field(r.model), csv_field(r.metric.task),
                       r.metric.is_group, csv_field(r.metric.metric), csv_field(r.metric.filter), csv_number(r.metric.value),
                       csv_number(r.metric.stderr_value), r.metric.n, r.metric.higher_is_better,
                       r.fingerprint_digest.value_or(""), csv_field(r.arena_models), r.run_id, r.finished_at);
  return out;
}

}  // namespace huashan::arena
