#include "arena/service/battle_service.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <random>

#include "arena/domain/answer_features.hpp"
#include "arena/domain/language.hpp"
#include "common/log.hpp"
#include "common/utf8.hpp"

namespace huashan::arena {
namespace {

using clock_type = std::chrono::steady_clock;

struct live_turn {
  int number = 1;
  std::string prompt;
  std::vector<battle_event> events;
  std::string text[2];
  bool done[2] = {false, false};
  bool failed[2] = {false, false};
  harness::generation_result result[2];
  bool complete() const { return done[0] && done[1]; }
};

struct live_battle {
  std::string id;
  std::string session_id;
  std::shared_ptr<const arena_model> model[2];  // as drawn; [0] is side A
  std::vector<harness::chat_message> history;  // user turns only; each side's answers are added per side
  std::vector<harness::chat_message> answers[2];
  std::deque<live_turn> turns;
  bool voted = false;
  clock_type::time_point created = clock_type::now();
  clock_type::time_point answered{};
  std::mutex mutex;
  std::condition_variable changed;
};

// Conversation seen by one side: user turns interleaved with that side's answers.
std::vector<harness::chat_message> conversation_for(const live_battle& b, int side) {
  std::vector<harness::chat_message> out;
  for (std::size_t i = 0; i < b.history.size(); ++i) {
    out.push_back(b.history[i]);
    if (i < b.answers[side].size()) out.push_back(b.answers[side][i]);
  }
  return out;
}

}  // namespace

struct battle_service::impl {
  store::arena_store& store;
  std::vector<std::shared_ptr<const arena_model>> models;  // guarded by mutex; entries are replaced, never edited
  battle_settings settings;
  arena_metrics* metrics;
  rate_limiter votes_by_session, votes_by_address, battles_by_session, battles_by_address;
  std::mutex mutex;  // guards models, live, order, votes_seen, knowledge, rng
  std::map<std::string, std::shared_ptr<live_battle>> live;
  std::deque<std::string> order;  // live ids, oldest first
  std::vector<std::uint64_t> votes_seen;
  sampler_knowledge knowledge;  // empty until a leaderboard is loaded
  std::mt19937_64 rng;  // seeded from settings.sampler_seed, else std::random_device
  boost::asio::thread_pool generators;

  impl(store::arena_store& s, std::vector<arena_model> m, battle_settings st, arena_metrics* mt)
      : store(s),
        settings(std::move(st)),
        metrics(mt),
        votes_by_session(settings.votes_per_session),
        votes_by_address(settings.votes_per_address),
        battles_by_session(settings.battles_per_session),
        battles_by_address(settings.battles_per_address),
        votes_seen(m.size(), 0),
        rng(settings.sampler_seed ? *settings.sampler_seed : std::random_device{}()),
        generators(static_cast<std::size_t>(std::max(2, settings.generation_threads))) {
    for (auto& model : m) models.push_back(std::make_shared<const arena_model>(std::move(model)));
  }

  std::optional<std::size_t> index_of(const std::string& name) const {
    for (std::size_t i = 0; i < models.size(); ++i)
      if (models[i]->record.name == name) return i;
    return std::nullopt;
  }

  void load_vote_counts() {
    std::map<std::string, std::uint64_t> seen;
    for (const auto& row : store.pair_outcome_counts()) {
      seen[row.model_a] += static_cast<std::uint64_t>(row.votes);
      seen[row.model_b] += static_cast<std::uint64_t>(row.votes);
    }
    const std::lock_guard lock(mutex);
    for (std::size_t i = 0; i < models.size(); ++i) {
      const auto it = seen.find(models[i]->record.name);
      votes_seen[i] = it == seen.end() ? 0 : it->second;
    }
  }

  void check_limit(rate_limiter& limiter, const std::string& key, const char* what) {
    if (key.empty() || limiter.allow(key)) return;
    const double wait = limiter.retry_after_seconds(key);
    throw rate_limited_error(fmt::format("too many {}; try again in {:.0f} s", what, std::max(1.0, wait)), wait);
  }

  void check_prompt(const std::string& prompt) const {
    if (prompt.find_first_not_of(" \t\r\n") == std::string::npos) throw input_error("field 'prompt' is empty");
    if (prompt.size() > settings.max_prompt_bytes)
      throw input_error(fmt::format("field 'prompt' is {} bytes; the limit is {}", prompt.size(), settings.max_prompt_bytes));
  }

  std::shared_ptr<live_battle> find(const std::string& id, const std::string& session_id) {
    const std::lock_guard lock(mutex);
    const auto it = live.find(id);
    // Another session's battle is reported exactly like a missing one.
    if (it == live.end() || it->second->session_id != session_id)
      throw not_found_error(fmt::format("no battle {} in this session", id.substr(0, 64)));
    return it->second;
  }

  // The live battle, or nullptr when this process does not hold it (stored by
  // another arena process, or before a restart); not_found_error when it is
  // another session's.
  std::shared_ptr<live_battle> find_live(const std::string& id, const std::string& session_id) {
    const std::lock_guard lock(mutex);
    const auto it = live.find(id);
    if (it == live.end()) return nullptr;
    if (it->second->session_id != session_id)
      throw not_found_error(fmt::format("no battle {} in this session", id.substr(0, 64)));
    return it->second;
  }

  void remember(const std::shared_ptr<live_battle>& b) {
    const std::lock_guard lock(mutex);
    live[b->id] = b;
    order.push_back(b->id);
    const auto now = clock_type::now();
    while (!order.empty() && (live.size() > settings.max_live_battles ||
                              now - live[order.front()]->created > settings.live_battle_ttl)) {
      live.erase(order.front());
      order.pop_front();
    }
  }

  // Both sides of one turn on the generator pool.
  void generate_turn(const std::shared_ptr<live_battle>& b, int turn_index) {
    for (int side = 0; side < 2; ++side) {
      boost::asio::post(generators, [this, b, turn_index, side] { answer(b, turn_index, side); });
    }
  }

  void answer(const std::shared_ptr<live_battle>& b, int turn_index, int side) {
    const arena_model& model = *b->model[side];
    std::vector<harness::chat_message> messages;
    {
      const std::lock_guard lock(b->mutex);
      messages = conversation_for(*b, side);
    }
    const char side_name = side == 0 ? 'a' : 'b';
    harness::generation_result result;
    bool failed = false;
    try {
      result = model.backend->chat(messages, settings.generation, [&](std::string_view piece) {
        const std::lock_guard lock(b->mutex);
        auto& turn = b->turns[static_cast<std::size_t>(turn_index)];
        // Models (random-weight ones especially) can emit invalid UTF-8; JSON
        // and PostgreSQL need valid text.
        turn.events.push_back({battle_event::kind::text, side_name, utf8_sanitize(piece), turn.number});
        b->changed.notify_all();
        return true;
      });
    } catch (const std::exception& e) {
      failed = true;
      // The model's name goes to the log only: the client must not learn it.
      log::warn("battle {} side {}: {} failed: {}", b->id, side_name, model.record.name, e.what());
      if (metrics) metrics->count_backend_error(model.record.name);
    }
    bool both_done = false;
    {
      const std::lock_guard lock(b->mutex);
      auto& turn = b->turns[static_cast<std::size_t>(turn_index)];
      turn.done[side] = true;
      turn.failed[side] = failed;
      result.text = utf8_sanitize(result.text);
      turn.result[side] = result;
      turn.text[side] = result.text;
      turn.events.push_back(failed ? battle_event{battle_event::kind::side_failed, side_name,
                                                  "this side failed to answer; please start a new battle", turn.number}
                                   : battle_event{battle_event::kind::side_done, side_name, result.finish_reason,
                                                  turn.number});
      both_done = turn.complete();
      b->changed.notify_all();
    }
    if (both_done) finish_turn(b, turn_index);
  }

  // After both sides: store the turn with its style features, flag answers that
  // name their own model, then release followers and voters.
  void finish_turn(const std::shared_ptr<live_battle>& b, int turn_index) {
    live_turn turn_copy;
    {
      const std::lock_guard lock(b->mutex);
      turn_copy = b->turns[static_cast<std::size_t>(turn_index)];
    }
    if (!turn_copy.failed[0] && !turn_copy.failed[1]) {
      style_vector style[2];
      std::optional<std::string> identity;
      for (int side = 0; side < 2; ++side) {
        style[side] = answer_style(turn_copy.text[side], turn_copy.result[side].completion_tokens);
        if (!identity) identity = find_identity_word(turn_copy.text[side], b->model[side]->identity_words);
      }
      try {
        store.record_turn({b->id, turn_copy.number, turn_copy.prompt, turn_copy.text[0], turn_copy.text[1],
                           turn_copy.result[0].completion_tokens, turn_copy.result[1].completion_tokens,
                           static_cast<int>(turn_copy.result[0].total_latency.count()),
                           static_cast<int>(turn_copy.result[1].total_latency.count())},
                          style[0], style[1]);
        if (identity) store.flag_battle(b->id, fmt::format("an answer names its model or maker ({})", *identity));
      } catch (const std::exception& e) {
        log::error("battle {}: storing turn {} failed: {}", b->id, turn_copy.number, e.what());
      }
    }
    const std::lock_guard lock(b->mutex);
    auto& turn = b->turns[static_cast<std::size_t>(turn_index)];
    for (int side = 0; side < 2; ++side)
      if (!turn.failed[side]) b->answers[side].push_back({"assistant", turn.text[side]});
    b->answered = clock_type::now();
    turn.events.push_back({battle_event::kind::turn_done, ' ', "", turn.number});
    b->changed.notify_all();
  }
};

battle_service::battle_service(store::arena_store& store, std::vector<arena_model> models, battle_settings settings,
                               arena_metrics* metrics)
    : impl_(std::make_unique<impl>(store, std::move(models), std::move(settings), metrics)) {}

battle_service::~battle_service() { impl_->generators.join(); }

std::vector<arena_model> battle_service::models() const {
  const std::lock_guard lock(impl_->mutex);
  std::vector<arena_model> out;
  for (const auto& m : impl_->models) out.push_back(*m);
  return out;
}

void battle_service::add_model(arena_model model) {
  auto& im = *impl_;
  const std::lock_guard lock(im.mutex);
  if (im.index_of(model.record.name))
    throw conflict_error(fmt::format("a model named '{}' is already offered", model.record.name));
  im.models.push_back(std::make_shared<const arena_model>(std::move(model)));
  im.votes_seen.push_back(0);
  im.knowledge = {};  // sized for the old model list; the next leaderboard reload refills it
}

bool battle_service::set_model_enabled(const std::string& name, bool enabled) {
  auto& im = *impl_;
  const std::lock_guard lock(im.mutex);
  const auto i = im.index_of(name);
  if (!i) return false;
  auto changed = std::make_shared<arena_model>(*im.models[*i]);
  changed->record.enabled = enabled;
  im.models[*i] = std::move(changed);
  return true;
}

std::size_t battle_service::sync_models(const std::vector<model_record>& stored,
                                        const std::function<std::optional<arena_model>(const model_record&)>& make) {
  auto& im = *impl_;
  std::vector<const model_record*> unknown;
  {
    const std::lock_guard lock(im.mutex);
    for (const auto& record : stored) {
      const auto i = im.index_of(record.name);
      if (!i) {
        unknown.push_back(&record);
        continue;
      }
      const auto& current = im.models[*i]->record;
      if (current.enabled == record.enabled && current.display_name == record.display_name &&
          current.organization == record.organization && current.license == record.license)
        continue;
      auto changed = std::make_shared<arena_model>(*im.models[*i]);
      changed->record.enabled = record.enabled;
      changed->record.display_name = record.display_name;
      changed->record.organization = record.organization;
      changed->record.license = record.license;
      im.models[*i] = std::move(changed);
    }
  }
  std::size_t added = 0;
  for (const auto* record : unknown) {
    if (!record->enabled || !make) continue;
    auto model = make(*record);  // outside the lock: it may build a client
    if (!model) continue;
    try {
      add_model(std::move(*model));
      ++added;
    } catch (const conflict_error&) {
      // added meanwhile by an admin request on this process
    }
  }
  return added;
}

void battle_service::load_vote_counts() { impl_->load_vote_counts(); }

void battle_service::set_leaderboard(const sampler_leaderboard& board) {
  auto& im = *impl_;
  std::vector<std::string> names;
  {
    const std::lock_guard lock(im.mutex);
    for (const auto& model : im.models) names.push_back(model->record.name);
  }
  auto k = knowledge_for(names, board);
  const std::lock_guard lock(im.mutex);
  if (im.models.size() == names.size()) im.knowledge = std::move(k);  // else a model was added meanwhile: wait for the next
}

std::string battle_service::start_battle(const std::string& prompt, const std::optional<std::string>& category,
                                         const std::string& session_id, const std::string& address) {
  auto& im = *impl_;
  im.check_prompt(prompt);
  im.check_limit(im.battles_by_session, session_id, "battles from this session");
  im.check_limit(im.battles_by_address, address, "battles from this address");

  auto b = std::make_shared<live_battle>();
  pair_draw draw;
  {
    const std::lock_guard lock(im.mutex);
    std::vector<sampler_model> pool;
    for (std::size_t i = 0; i < im.models.size(); ++i)
      pool.push_back({im.models[i]->weight, im.votes_seen[i], im.models[i]->record.enabled});
    draw = draw_pair(pool, im.knowledge, im.settings.sampling, im.rng);
    b->model[0] = im.models[draw.a];
    b->model[1] = im.models[draw.b];
  }
  b->session_id = session_id;
  b->id = im.store.create_battle({b->model[0]->record.id, b->model[1]->record.id, category,
                                  prompt_language(prompt), session_id, draw.probability});
  b->history.push_back({"user", prompt});
  live_turn first;
  first.number = 1;
  first.prompt = prompt;
  b->turns.push_back(std::move(first));
  im.remember(b);
  if (im.metrics) im.metrics->count_battle();
  im.generate_turn(b, 0);
  return b->id;
}

int battle_service::add_turn(const std::string& battle_id, const std::string& prompt, const std::string& session_id,
                             const std::string& address) {
  auto& im = *impl_;
  im.check_prompt(prompt);
  auto b = im.find(battle_id, session_id);
  im.check_limit(im.battles_by_address, address, "requests from this address");
  int index = 0;
  {
    const std::lock_guard lock(b->mutex);
    if (b->voted) throw conflict_error("this battle has its vote; start a new battle to continue");
    const auto& last = b->turns.back();
    if (!last.complete()) throw conflict_error("the previous turn is still being answered");
    if (last.failed[0] || last.failed[1]) throw conflict_error("a side failed to answer; start a new battle");
    if (static_cast<int>(b->turns.size()) >= im.settings.max_turns)
      throw conflict_error(fmt::format("a battle has at most {} turns", im.settings.max_turns));
    b->history.push_back({"user", prompt});
    live_turn next;
    next.number = last.number + 1;
    next.prompt = prompt;
    b->turns.push_back(std::move(next));
    index = static_cast<int>(b->turns.size()) - 1;
  }
  im.generate_turn(b, index);
  return index + 1;
}

void battle_service::follow(const std::string& battle_id, const std::string& session_id,
                            const std::function<bool(const battle_event&)>& sink) {
  auto b = impl_->find(battle_id, session_id);
  std::unique_lock lock(b->mutex);
  const std::size_t turn_index = b->turns.size() - 1;
  std::size_t next = 0;
  while (true) {
    auto& turn = b->turns[turn_index];
    while (next < turn.events.size()) {
      const battle_event event = turn.events[next++];
      lock.unlock();
      const bool more = sink(event);
      lock.lock();
      if (!more) return;
      if (event.type == battle_event::kind::turn_done) return;
    }
    b->changed.wait(lock);
  }
}

vote_outcome battle_service::vote(const std::string& battle_id, vote_choice choice,
                                  const std::string& session_id, const std::string& address) {
  auto& im = *impl_;
  auto b = im.find_live(battle_id, session_id);
  store::vote_request request{battle_id, choice, session_id, address.empty() ? std::nullopt : std::optional(address)};
  if (!b) {
    // Not in memory: the store checks the owner and the wait against the stored battle.
    request.require_session = session_id;
    request.require_answered_before = im.settings.min_time_before_vote;
  } else {
    const std::lock_guard lock(b->mutex);
    const auto& last = b->turns.back();
    if (!b->voted) {
      const auto since = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - b->answered);
      require_votable({last.complete(), last.failed[0] || last.failed[1], since},
                      std::chrono::duration_cast<std::chrono::milliseconds>(im.settings.min_time_before_vote));
    }
  }
  im.check_limit(im.votes_by_session, session_id, "votes from this session");
  im.check_limit(im.votes_by_address, address, "votes from this address");
  const auto result = im.store.record_vote(request);
  if (b) {
    const std::lock_guard lock(b->mutex);
    b->voted = true;
  }
  if (result.recorded_now) {
    const std::lock_guard lock(im.mutex);
    for (std::size_t i = 0; i < im.models.size(); ++i)
      if (im.models[i]->record.id == result.model_a.id || im.models[i]->record.id == result.model_b.id) ++im.votes_seen[i];
  }
  if (im.metrics) im.metrics->count_vote(result.recorded_now);
  return {result.recorded_now, result.winner, result.model_a, result.model_b};
}

}  // namespace huashan::arena
