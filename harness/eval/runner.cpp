#include "harness/eval/runner.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <tuple>
#include <unordered_map>

#include "common/error.hpp"
#include "harness/eval/circular.hpp"
#include "harness/eval/request_cache.hpp"

namespace huashan::harness::eval {

namespace {

constexpr std::uint64_t default_seed = 1234;

// The few-shot split lm-evaluation-harness falls back through.
std::string fewshot_split_of(const task_config& t) {
  if (!t.fewshot_split.empty()) return t.fewshot_split;
  if (!t.training_split.empty()) return t.training_split;
  if (!t.validation_split.empty() && !t.test_split.empty()) return t.validation_split;
  return {};
}

std::string eval_split_of(const task_config& t) {
  if (!t.test_split.empty()) return t.test_split;
  if (!t.validation_split.empty()) return t.validation_split;
  throw input_error(fmt::format("{}: task '{}' names neither test_split nor validation_split", t.file.string(), t.task));
}

// splitmix64: per-request seeds for sampled generation from the run's seed.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

std::size_t context_length(const request& r) {
  if (const auto* ll = std::get_if<loglikelihood_request>(&r.args)) return ll->context.size();
  if (const auto* rr = std::get_if<rolling_request>(&r.args)) return rr->text.size();
  return std::get<generate_until_request>(r.args).context.size();
}
const std::string& context_of(const request& r) {
  if (const auto* ll = std::get_if<loglikelihood_request>(&r.args)) return ll->context;
  if (const auto* rr = std::get_if<rolling_request>(&r.args)) return rr->text;
  return std::get<generate_until_request>(r.args).context;
}
std::size_t continuation_length(const request& r) {
  if (const auto* ll = std::get_if<loglikelihood_request>(&r.args)) return ll->continuation.size();
  return 0;
}

struct pending {
  std::string key;
  const request* req = nullptr;
};

// Documents of the task the whole run evaluates (every shard's together).
std::int64_t whole_task_size(const task_outcome& t, const eval_options& options) {
  return options.limit ? std::min(*options.limit, t.prepared.n_original) : t.prepared.n_original;
}

// The determinism check's documents: positions chosen over whole tasks, so
// each shard re-asks those in its own range and the shards' records add up
// to the whole run's.
determinism_record check_determinism(model_backend& model, const std::vector<task_outcome>& tasks, const eval_options& options,
                                     std::int64_t batch, std::uint64_t seed) {
  std::vector<std::int64_t> sizes;
  std::vector<std::string> names;
  for (const auto& t : tasks) {
    sizes.push_back(whole_task_size(t, options));
    names.push_back(t.config.task);
  }
  const auto positions = determinism_positions(sizes, names, seed);
  std::vector<determinism_case> cases;
  for (std::size_t i = 0; i < tasks.size(); ++i)
    for (const auto& doc : tasks[i].prepared.docs)
      if (std::binary_search(positions[i].begin(), positions[i].end(), doc.doc_id))
        cases.push_back({tasks[i].config.output, &doc});
  return measure_determinism(model, cases, batch);
}

// A task's documents as the contamination hint reads them.
struct contamination_texts {
  std::vector<document> test_docs;
  std::optional<std::vector<document>> fewshot_docs;  // none: no few-shot split apart from the test split
};
std::vector<contamination_texts> load_contamination_texts(const std::vector<task_outcome>& tasks, const eval_options& options) {
  std::vector<contamination_texts> out;
  for (const auto& t : tasks) {
    contamination_texts texts;
    const auto test_split = eval_split_of(t.config);
    texts.test_docs = load_split(t.config, test_split, options.data_dir);
    if (const auto split = fewshot_split_of(t.config); !split.empty() && split != test_split)
      texts.fewshot_docs = load_split(t.config, split, options.data_dir);
    out.push_back(std::move(texts));
  }
  return out;
}

const metric_summary* find_metric(const std::vector<metric_summary>& ms, const std::string& metric, const std::string& filter) {
  for (const auto& m : ms)
    if (m.metric == metric && m.filter == filter) return &m;
  return nullptr;
}

}  // namespace

bool sent_before(const request& a, const request& b) {
  if (a.args.index() != b.args.index()) return a.args.index() < b.args.index();
  const auto la = context_length(a), lb = context_length(b);
  if (la != lb) return la > lb;
  if (const int c = context_of(a).compare(context_of(b)); c != 0) return c < 0;
  return continuation_length(a) > continuation_length(b);
}

std::vector<response> ask_model(model_backend& model, const std::vector<const request*>& batch) {
  std::vector<response> out;
  out.reserve(batch.size());
  if (std::holds_alternative<loglikelihood_request>(batch.front()->args)) {
    std::vector<loglikelihood_request> reqs;
    for (const auto* r : batch) reqs.push_back(std::get<loglikelihood_request>(r->args));
    for (auto& a : model.loglikelihood(reqs)) out.emplace_back(a);
  } else if (std::holds_alternative<rolling_request>(batch.front()->args)) {
    std::vector<rolling_request> reqs;
    for (const auto* r : batch) reqs.push_back(std::get<rolling_request>(r->args));
    for (auto& a : model.loglikelihood_rolling(reqs)) out.emplace_back(a);
  } else {
    std::vector<generate_until_request> reqs;
    for (const auto* r : batch) reqs.push_back(std::get<generate_until_request>(r->args));
    for (auto& a : model.generate_until(reqs)) out.emplace_back(std::move(a.text));
  }
  if (out.size() != batch.size())
    throw error(fmt::format("{} answered {} of {} requests", model.describe(), out.size(), batch.size()));
  return out;
}

std::int32_t auto_batch_size(std::int64_t unique_requests) {
  // About fifty batches per run, between 64 and 1024 requests each.
  return static_cast<std::int32_t>(std::clamp<std::int64_t>(unique_requests / 50, 64, 1024));
}

std::vector<task_outcome> prepare_tasks(const suite_selection& requested, const eval_options& options) {
  const suite_selection suites = options.circular ? circular_selection(requested) : requested;
  std::vector<task_outcome> tasks;
  // Every prompt first: a bad suite or document fails before the model works.
  for (const auto& task : suites.tasks) {
    task_outcome t;
    t.config = task;
    prepare_options popts;
    popts.num_fewshot = options.num_fewshot;
    popts.limit = options.limit;
    popts.seed = options.seed;
    popts.circular = options.circular;
    const auto test_docs = load_split(task, eval_split_of(task), options.data_dir);
    const std::int32_t shots = options.num_fewshot.value_or(task.num_fewshot);
    std::vector<document> fewshot_docs;
    if (const auto split = fewshot_split_of(task); shots > 0 && !split.empty())
      fewshot_docs = load_split(task, split, options.data_dir);
    t.prepared = prepare_task(task, test_docs, fewshot_docs, popts);
    tasks.push_back(std::move(t));
  }

  // Sampled generations get their own seeds, fixed by the run's seed and the request's place.
  const std::uint64_t seed = options.seed.value_or(default_seed);
  for (std::size_t ti = 0; ti < tasks.size(); ++ti)
    for (auto& doc : tasks[ti].prepared.docs)
      for (std::size_t ri = 0; ri < doc.requests.size(); ++ri)
        if (auto* g = std::get_if<generate_until_request>(&doc.requests[ri].args); g && g->temperature > 0)
          g->seed = mix(seed ^ mix(ti) ^ mix(static_cast<std::uint64_t>(doc.doc_id) << 8 | ri));

  if (options.doc_range) {
    const auto [first, last] = *options.doc_range;
    if (first < 0 || last < first)
      throw input_error(fmt::format("document range [{}, {}) is not a range", first, last));
    for (auto& t : tasks) {
      auto& docs = t.prepared.docs;
      const auto n = static_cast<std::int64_t>(docs.size());
      if (last > n)
        throw input_error(fmt::format("document range [{}, {}) is past task '{}', which has {} documents", first, last,
                                      t.config.task, n));
      docs.erase(docs.begin() + last, docs.end());
      docs.erase(docs.begin(), docs.begin() + first);
    }
  }
  return tasks;
}

eval_outcome run_eval(model_backend& model, const suite_selection& suites, const eval_options& options,
                      const progress_callback& progress) {
  const auto started = std::chrono::steady_clock::now();
  eval_outcome out;
  out.model_description = model.describe();
  out.tasks = prepare_tasks(suites, options);
  // Loaded before the model is asked anything, so a missing file fails fast.
  std::vector<contamination_texts> contamination_docs;
  control_passages control;
  if (options.contamination) {
    control = load_control_passages(options.control_dir);
    contamination_docs = load_contamination_texts(out.tasks, options);
  }

  // One answer per distinct request.
  std::unordered_map<std::string, response> answers;
  std::unordered_map<std::string, const request*> unique;
  std::vector<pending> order;
  for (const auto& t : out.tasks)
    for (const auto& doc : t.prepared.docs)
      for (const auto& r : doc.requests) {
        ++out.stats.total;
        auto key = request_key(r);
        if (unique.emplace(key, &r).second) order.push_back({std::move(key), &r});
      }
  out.stats.unique = static_cast<std::int64_t>(order.size());

  out.fingerprint = model.fingerprint();
  std::unique_ptr<request_cache> cache;
  if (options.cache_dir) cache = std::make_unique<request_cache>(*options.cache_dir, out.fingerprint);

  std::vector<pending> todo;
  for (auto& p : order) {
    if (cache)
      if (auto hit = cache->find(p.key)) {
        answers.emplace(p.key, std::move(*hit));
        ++out.stats.cached;
        continue;
      }
    todo.push_back(p);
  }
  std::stable_sort(todo.begin(), todo.end(), [](const pending& a, const pending& b) { return sent_before(*a.req, *b.req); });

  const std::int64_t batch = options.batch_size > 0 ? options.batch_size : auto_batch_size(static_cast<std::int64_t>(todo.size()));
  std::int64_t done = out.stats.cached;
  if (progress) progress(done, out.stats.unique);
  for (std::size_t begin = 0; begin < todo.size();) {
    std::size_t end = begin;
    std::vector<const request*> reqs;
    while (end < todo.size() && static_cast<std::int64_t>(reqs.size()) < batch &&
           todo[end].req->args.index() == todo[begin].req->args.index())
      reqs.push_back(todo[end++].req);
    auto got = ask_model(model, reqs);
    std::vector<std::pair<std::string, response>> stored;
    stored.reserve(got.size());
    for (std::size_t i = 0; i < got.size(); ++i) stored.emplace_back(todo[begin + i].key, std::move(got[i]));
    if (cache) cache->store(stored);
    for (auto& [key, answer] : stored) answers.emplace(std::move(key), std::move(answer));
    out.stats.computed += static_cast<std::int64_t>(end - begin);
    done += static_cast<std::int64_t>(end - begin);
    if (progress) progress(done, out.stats.unique);
    begin = end;
  }

  // Fresh answers, neither read from nor written to the cache, and outside
  // the stats: these checks measure the backend, not the run.
  const std::uint64_t seed = options.seed.value_or(default_seed);
  if (options.determinism_check) out.determinism = check_determinism(model, out.tasks, options, batch, seed);
  for (std::size_t i = 0; i < contamination_docs.size(); ++i) {
    const auto& t = out.tasks[i];
    const auto& texts = contamination_docs[i];
    contamination_inputs in;
    in.task = &t.config;
    in.test_docs = &texts.test_docs;
    in.fewshot_docs = texts.fewshot_docs ? &*texts.fewshot_docs : nullptr;
    in.test_count = whole_task_size(t, options);
    std::tie(in.range_first, in.range_last) = options.doc_range.value_or(std::pair<std::int64_t, std::int64_t>{0, in.test_count});
    in.seed = seed;
    out.contamination[t.config.task] = measure_contamination(model, in, control, batch);
  }

  for (auto& t : out.tasks) {
    t.scores.reserve(t.prepared.docs.size());
    for (const auto& doc : t.prepared.docs) {
      std::vector<response> resps;
      resps.reserve(doc.requests.size());
      for (const auto& r : doc.requests) resps.push_back(answers.at(request_key(r)));
      t.scores.push_back(score_doc(t.config, doc, std::move(resps)));
    }
  }
  aggregate_outcome(out, suites, options);

  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return out;
}

void aggregate_outcome(eval_outcome& out, const suite_selection& requested, const eval_options& options) {
  const suite_selection suites = options.circular ? circular_selection(requested) : requested;
  const std::uint64_t seed = options.seed.value_or(default_seed);
  for (auto& t : out.tasks) t.metrics = aggregate(t.config, t.scores, options.bootstrap_iters, seed);
  out.groups.clear();

  // Groups from their members' summaries; a member may itself be a group.
  std::map<std::string, std::pair<std::vector<metric_summary>, std::int64_t>, std::less<>> done_members;
  for (const auto& t : out.tasks)
    done_members[t.config.task] = {t.metrics, static_cast<std::int64_t>(t.prepared.docs.size())};
  std::map<std::string, const group_config*, std::less<>> groups;
  for (const auto& g : suites.groups) groups[g.group] = &g;
  std::function<void(const group_config&, std::vector<std::string>&)> compute = [&](const group_config& g, std::vector<std::string>& path) {
    if (done_members.count(g.group)) return;
    if (std::find(path.begin(), path.end(), g.group) != path.end())
      throw input_error(fmt::format("{}: group '{}' contains itself", g.file.string(), g.group));
    path.push_back(g.group);
    group_outcome go;
    go.config = g;
    for (const auto& member : g.task) {
      if (!done_members.count(member)) {
        const auto it = groups.find(member);
        if (it == groups.end())
          throw input_error(fmt::format("{}: group '{}' names '{}', which is neither a loaded task nor a group", g.file.string(), g.group, member));
        compute(*it->second, path);
      }
      go.n += done_members.at(member).second;
    }
    for (const auto& spec : g.aggregate_metric_list)
      for (const auto& filter : spec.filter_list) {
        std::vector<metric_summary> members;
        for (const auto& member : g.task)
          if (const auto* m = find_metric(done_members.at(member).first, spec.metric, filter)) members.push_back(*m);
        if (members.empty()) continue;
        auto summary = aggregate_group(spec, members);
        summary.filter = filter;
        go.metrics.push_back(std::move(summary));
      }
    done_members[g.group] = {go.metrics, go.n};
    out.groups.push_back(std::move(go));
    path.pop_back();
  };
  for (const auto& g : suites.groups) {
    std::vector<std::string> path;
    compute(g, path);
  }
}

}  // namespace huashan::harness::eval
