#include "arena/service/leaderboard_service.hpp"

#include <fmt/format.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>

#include "arena/service/leaderboard_json.hpp"
#include "arena/service/snapshot_compute.hpp"
#include "arena/service/vote_cache.hpp"
#include "common/error.hpp"
#include "common/log.hpp"
#include "ranking/leaderboard.hpp"

namespace huashan::arena {
namespace {

using variant_key = std::tuple<std::string, std::string, bool>;  // category, language, style control

std::string default_computed_by() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return fmt::format("{}:{}", host, ::getpid());
}

std::shared_ptr<const served_snapshot> serve(store::snapshot_record record) {
  auto s = std::make_shared<served_snapshot>();
  s->json = snapshot_response_json(record);
  s->csv = snapshot_csv(record);
  s->matrices = snapshot_matrices_json(record);
  s->record = std::move(record);
  return s;
}

}  // namespace

struct leaderboard_service::impl {
  store::leaderboard_store store;
  leaderboard_settings settings;
  arena_metrics* metrics;

  std::mutex tick_mutex;  // one tick at a time (thread and tests)
  vote_cache cache;       // the votes the last recompute counted; under tick_mutex
  mutable std::mutex mutex;  // guards the fields below
  std::map<variant_key, std::shared_ptr<const served_snapshot>> latest;
  std::map<std::int64_t, std::shared_ptr<const served_snapshot>> by_id;
  std::int64_t loaded_newest = 0;
  // Rating histories by (variant, limit, model), with the newest snapshot id
  // they were read at: the query unpacks stored bodies, so it runs once per
  // new snapshot rather than once per page view.
  struct cached_history {
    std::int64_t newest = 0;
    std::shared_ptr<const std::vector<store::rating_point>> points;
  };
  std::map<std::tuple<std::string, std::string, bool, std::size_t, std::string>, cached_history> histories;
  std::function<void(const sampler_leaderboard&)> overall_callback;
  std::function<void()> background_callback;

  std::mutex run_mutex;
  std::condition_variable wake;
  bool stopping = false;
  std::thread thread;

  impl(std::string url, leaderboard_settings s, arena_metrics* m)
      : store(std::move(url)), settings(std::move(s)), metrics(m) {
    if (settings.computed_by.empty()) settings.computed_by = default_computed_by();
  }

  ranking::leaderboard_options options_for(bool style) const {
    ranking::leaderboard_options o;
    o.bootstrap_rounds = style && !settings.style_bootstrap ? 0 : settings.bootstrap_rounds;
    o.seed = settings.seed;
    o.threads = settings.threads;
    o.style_control = style;
    o.inverse_propensity = settings.inverse_propensity;
    o.matrices = true;
    return o;
  }

  store::new_snapshot snapshot_of(const std::string& category, const std::string& language, bool style,
                                  std::int64_t event, computed_snapshot computed) const {
    store::new_snapshot s;
    s.category = category;
    s.language = language;
    s.style_control = style;
    s.vote_count = computed.vote_count;
    s.last_vote_event = event;
    s.computed_by = settings.computed_by;
    s.seed = static_cast<std::int64_t>(settings.seed);
    s.parameters_json = std::move(computed.parameters_json);
    s.body_json = std::move(computed.body_json);
    return s;
  }

  // Recomputes the boards whose votes changed since the last recompute, from
  // the votes kept in memory and those read since; every board when nothing
  // is kept or the changes need a full read. Returns how many it stored.
  std::size_t recompute() {
    try {
      if (!cache.empty()) {
        const auto started = std::chrono::steady_clock::now();
        const auto changes = store.read_vote_changes(cache.last_vote_event());
        log::debug("leaderboard: {} votes added and {} taken out since vote event {}, read in {:.3f} s",
                   changes.added.size(), changes.removed.size() + changes.removed_without_event, changes.after,
                   seconds_since(started));
        if (const auto touched = cache.apply(changes)) return recompute_changed(*touched, started);
        log::info("leaderboard: the votes changed in a way that needs every vote read again");
      }
      return recompute_all();
    } catch (...) {
      cache.clear();  // its boards may not be stored: the next recompute starts over
      throw;
    }
  }

  static double seconds_since(std::chrono::steady_clock::time_point started) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  }

  store::new_snapshot compute_variant(const store::vote_columns& data, const ranking::battle_table& battles,
                                      const std::string& category, const std::string& language, bool style) const {
    // The same call `huashan db recompute-snapshot` makes (snapshot_recompute.hpp).
    return snapshot_of(category, language, style, data.last_vote_event,
                       compute_snapshot(battles, data.models, category, language, options_for(style)));
  }

  void log_recompute(std::size_t stored, std::size_t variants, std::size_t votes, double seconds, double read_seconds,
                     const std::vector<std::int64_t>& ids, std::int64_t event) const {
    if (metrics) metrics->observe_recompute(seconds);
    log::info("leaderboard: recomputed {} variants (of {}) from {} votes in {:.3f} s (votes read in {:.3f} s; snapshots "
              "{}..{}, vote event {}, by {})",
              stored, variants, votes, seconds, read_seconds, ids.front(), ids.back(), event, settings.computed_by);
  }

  // Every variant present in the counted votes, overall first.
  static std::vector<std::pair<std::string, std::string>> variants_of(const store::vote_columns& data) {
    std::vector<std::pair<std::string, std::string>> out{{"", ""}};
    for (const auto& c : data.categories) out.emplace_back(c, "");
    for (const auto& l : data.languages) out.emplace_back("", l);
    return out;
  }

  // After a few votes: the overall plain board (always: it marks the votes
  // as seen), then the variants the changed votes belong to, and any variant
  // not served yet. The others keep serving their boards, which the same
  // votes would give again.
  std::size_t recompute_changed(const touched_variants& touched, std::chrono::steady_clock::time_point started) {
    const auto& data = cache.votes();
    const double read_seconds = seconds_since(started);
    auto overall = compute_variant(data, battle_table_of(data, "", ""), "", "", false);
    log::debug("leaderboard: overall board computed at {:.3f} s", seconds_since(started));
    std::vector<std::int64_t> ids = store.insert_snapshots({std::move(overall)}, store::other_variants::kept);
    reload_if_changed();
    log::info("leaderboard: overall board published in {:.3f} s", seconds_since(started));

    std::set<variant_key> served;
    {
      const std::lock_guard lock(mutex);
      for (const auto& [key, snapshot] : latest) served.insert(key);
    }
    const auto variants = variants_of(data);
    std::vector<store::new_snapshot> out;
    for (const auto& [category, language] : variants) {
      const bool changed = touched.any && (category.empty() ? language.empty() || touched.languages.count(language) != 0
                                                             : touched.categories.count(category) != 0);
      std::optional<ranking::battle_table> battles;
      for (const bool style : {false, true}) {
        if (category.empty() && language.empty() && !style) continue;  // stored above
        if (!changed && served.count({category, language, style}) != 0) continue;
        if (!battles) battles = battle_table_of(data, category, language);
        out.push_back(compute_variant(data, *battles, category, language, style));
      }
    }
    const auto rest = store.insert_snapshots(out, store::other_variants::kept);
    ids.insert(ids.end(), rest.begin(), rest.end());
    log_recompute(out.size() + 1, 2 * variants.size(), data.size(), seconds_since(started), read_seconds, ids,
                  data.last_vote_event);
    return out.size() + 1;
  }

  // Reads every counted vote and stores one snapshot per variant.
  std::size_t recompute_all() {
    const auto started = std::chrono::steady_clock::now();
    // The overall plain board needs only each pair's outcome totals, which
    // the votes keep in pair_outcome_counts: publish it from those first,
    // then read every vote as of the same event. With inverse-propensity
    // weights it needs each battle's probability, so it waits for the votes.
    std::optional<store::new_snapshot> overall;
    std::optional<std::int64_t> as_of;
    if (!settings.inverse_propensity) {
      const auto outcomes = store.read_counted_outcomes();
      as_of = outcomes.last_vote_event;
      log::debug("leaderboard: {} vote totals read in {:.3f} s", outcomes.size(), seconds_since(started));
      overall = snapshot_of("", "", false, *as_of,
                            compute_snapshot(battle_table_of(outcomes, "", ""), outcomes.models, "", "", options_for(false)));
      log::debug("leaderboard: overall board computed at {:.3f} s", seconds_since(started));
    }
    std::vector<std::int64_t> ids;
    const auto publish_overall = [&] {
      ids = store.insert_snapshots({*overall}, store::other_variants::kept);
      reload_if_changed();
      log::info("leaderboard: overall board published in {:.3f} s", seconds_since(started));
    };
    if (overall) publish_overall();

    auto data = store.read_vote_columns(as_of);
    const double read_seconds = seconds_since(started);
    const auto variants = variants_of(data);
    std::vector<store::new_snapshot> out;
    for (const auto& [category, language] : variants) {
      const auto battles = battle_table_of(data, category, language);
      for (const bool style : {false, true}) {
        if (category.empty() && language.empty() && !style) {
          if (!overall) {
            overall = compute_variant(data, battles, "", "", false);
            publish_overall();
          }
          continue;
        }
        out.push_back(compute_variant(data, battles, category, language, style));
        log::debug("leaderboard: '{}' '{}' style {} ({} votes) done at {:.3f} s", category, language, style,
                   battles.size(), seconds_since(started));
      }
    }
    const auto rest = store.insert_snapshots(out, store::other_variants::retired);
    ids.insert(ids.end(), rest.begin(), rest.end());
    log_recompute(out.size() + 1, 2 * variants.size(), data.size(), seconds_since(started), read_seconds, ids,
                  data.last_vote_event);
    cache.reset(std::move(data));
    return out.size() + 1;
  }

  bool reload_if_changed() {
    const auto newest = store.newest_snapshot_id();
    {
      const std::lock_guard lock(mutex);
      if (newest == loaded_newest) return false;
    }
    // Only the boards not held yet are read and prepared: after a recompute
    // that changed a few variants, those few.
    std::map<std::int64_t, std::shared_ptr<const served_snapshot>> held;
    {
      const std::lock_guard lock(mutex);
      held = by_id;
    }
    std::set<std::int64_t> held_ids;
    for (const auto& [id, snapshot] : held) held_ids.insert(id);
    std::map<variant_key, std::shared_ptr<const served_snapshot>> fresh;
    std::map<std::int64_t, std::shared_ptr<const served_snapshot>> ids;
    std::string overall_body;
    std::int64_t loaded = 0;
    std::size_t reused = 0;
    for (auto& record : store.latest_snapshots(held_ids)) {
      loaded = std::max(loaded, record.id);
      variant_key key{record.category, record.language, record.style_control};
      std::shared_ptr<const served_snapshot> served;
      if (const auto it = held.find(record.id); it != held.end()) {
        served = it->second;
        ++reused;
      } else {
        if (record.category.empty() && record.language.empty() && !record.style_control) overall_body = record.body_json;
        served = serve(std::move(record));
      }
      ids[served->record.id] = served;
      fresh[key] = std::move(served);
    }
    std::function<void(const sampler_leaderboard&)> callback;
    {
      const std::lock_guard lock(mutex);
      latest = std::move(fresh);
      by_id = std::move(ids);
      loaded_newest = std::max(newest, loaded);
      callback = overall_callback;
    }
    log::debug("leaderboard: serving snapshots up to {} ({} read now)", loaded, fresh.size() - reused);
    if (callback && !overall_body.empty()) callback(sampler_leaderboard_from_body(overall_body));
    return true;
  }

  tick_result tick() {
    const std::lock_guard serial(tick_mutex);
    tick_result r;
    if (settings.recompute && store.recompute_due()) {
      if (auto lock = store.try_lock(settings.lock_key)) {
        // Another process may have recomputed between the check and the lock.
        if (store.recompute_due()) r.recomputed = recompute();
      }
    }
    r.reloaded = reload_if_changed();
    return r;
  }

  void run() {
    // Linux's nice value and scheduling policy are per thread and inherited
    // by the threads this one starts (the bootstrap's): recomputes yield the
    // CPU to requests. SCHED_IDLE runs only when a core is otherwise idle.
    if (settings.idle_priority) {
      const sched_param none{};
      if (::sched_setscheduler(0, SCHED_IDLE, &none) != 0) log::debug("leaderboard: could not use SCHED_IDLE");
    } else if (::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 10) != 0) {
      log::debug("leaderboard: could not lower the recompute's priority");
    }
    std::unique_lock lock(run_mutex);
    while (!stopping) {
      lock.unlock();
      try {
        tick();
      } catch (const std::exception& e) {
        log::warn("leaderboard: {}", e.what());
      }
      std::function<void()> extra;
      {
        const std::lock_guard guard(mutex);
        extra = background_callback;
      }
      try {
        if (extra) extra();
      } catch (const std::exception& e) {
        log::warn("background: {}", e.what());
      }
      lock.lock();
      wake.wait_for(lock, settings.interval, [this] { return stopping; });
    }
  }
};

leaderboard_service::leaderboard_service(std::string database_url, leaderboard_settings settings,
                                         arena_metrics* metrics)
    : impl_(std::make_unique<impl>(std::move(database_url), std::move(settings), metrics)) {}

leaderboard_service::~leaderboard_service() { stop(); }

void leaderboard_service::start() {
  const std::lock_guard lock(impl_->run_mutex);
  if (impl_->thread.joinable()) return;
  impl_->stopping = false;
  impl_->thread = std::thread([this] { impl_->run(); });
}

void leaderboard_service::stop() {
  {
    const std::lock_guard lock(impl_->run_mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
}

leaderboard_service::tick_result leaderboard_service::tick() { return impl_->tick(); }

std::shared_ptr<const served_snapshot> leaderboard_service::latest(const std::string& category,
                                                                   const std::string& language,
                                                                   bool style_control) const {
  const std::lock_guard lock(impl_->mutex);
  const auto it = impl_->latest.find({category, language, style_control});
  return it == impl_->latest.end() ? nullptr : it->second;
}

bool leaderboard_service::has_snapshots() const {
  const std::lock_guard lock(impl_->mutex);
  return !impl_->latest.empty();
}

std::vector<leaderboard_service::variant> leaderboard_service::variants() const {
  const std::lock_guard lock(impl_->mutex);
  std::vector<variant> out;
  for (const auto& [key, snapshot] : impl_->latest)
    out.push_back({std::get<0>(key), std::get<1>(key), std::get<2>(key)});
  return out;
}

std::vector<store::rating_point> leaderboard_service::rating_history(const variant& which, std::size_t limit,
                                                                     const std::optional<std::string>& model) const {
  const auto key = std::tuple{which.category, which.language, which.style_control, limit, model.value_or("")};
  std::int64_t newest = 0;
  {
    const std::lock_guard lock(impl_->mutex);
    const auto latest = impl_->latest.find({which.category, which.language, which.style_control});
    if (latest != impl_->latest.end()) newest = latest->second->record.id;
    const auto cached = impl_->histories.find(key);
    if (newest != 0 && cached != impl_->histories.end() && cached->second.newest == newest) return *cached->second.points;
  }
  auto points = std::make_shared<const std::vector<store::rating_point>>(
      impl_->store.rating_history(which.category, which.language, which.style_control, limit, model));
  if (newest != 0) {
    const std::lock_guard lock(impl_->mutex);
    // Bounded: one entry per variant, limit and model asked for; stale ones are replaced.
    impl_->histories[key] = {newest, points};
  }
  return *points;
}

std::shared_ptr<const served_snapshot> leaderboard_service::by_id(std::int64_t id) const {
  {
    const std::lock_guard lock(impl_->mutex);
    if (const auto it = impl_->by_id.find(id); it != impl_->by_id.end()) return it->second;
  }
  auto record = impl_->store.snapshot(id);
  return record ? serve(std::move(*record)) : nullptr;
}

std::string leaderboard_service::battles_csv() const { return export_battles_csv(impl_->store); }

void leaderboard_service::on_overall_reload(std::function<void(const sampler_leaderboard&)> callback) {
  const std::lock_guard lock(impl_->mutex);
  impl_->overall_callback = std::move(callback);
}

void leaderboard_service::on_background_tick(std::function<void()> callback) {
  const std::lock_guard lock(impl_->mutex);
  impl_->background_callback = std::move(callback);
}

}  // namespace huashan::arena
