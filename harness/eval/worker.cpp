#include "harness/eval/worker.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/error.hpp"
#include "common/log.hpp"
#include "harness/eval/response_json.hpp"
#include "harness/eval/run_spec.hpp"
#include "harness/eval/runner.hpp"
#include "harness/eval/suite_loader.hpp"
#include "harness/http_client.hpp"
#include "harness/openai_client.hpp"

namespace huashan::harness::eval {

namespace json = boost::json;

namespace {

struct shard_claim {
  std::int64_t shard = 0;
  std::int64_t run = 0;
  std::string model;
  std::string task;
  std::int64_t doc_begin = 0, doc_end = 0;
  run_spec spec;
  std::string lease;
  std::chrono::milliseconds lease_time{60'000};
};

shard_claim parse_claim(const std::string& body) {
  const auto o = json::parse(body).as_object();
  shard_claim c;
  c.shard = o.at("shard").to_number<std::int64_t>();
  c.run = o.at("run").to_number<std::int64_t>();
  c.model = std::string(o.at("model").as_string());
  c.task = std::string(o.at("task").as_string());
  c.doc_begin = o.at("doc_begin").to_number<std::int64_t>();
  c.doc_end = o.at("doc_end").to_number<std::int64_t>();
  c.spec = run_spec_from_json(o.at("spec").as_object());
  c.lease = std::string(o.at("lease").as_string());
  c.lease_time = std::chrono::milliseconds(o.at("lease_ms").to_number<std::int64_t>());
  return c;
}

json::object fingerprint_json(const model_fingerprint& fp) {
  json::object o{{"kind", fp.kind}};
  for (const auto& [k, v] : fp.fields) o[k] = v;
  return o;
}

// Renews the lease every third of its time on its own connection until
// stopped; remembers when the arena said the lease is gone.
class heartbeat {
 public:
  heartbeat(const worker_options& options, const shard_claim& claim)
      : thread_([this, &options, claim] { beat(options, claim); }) {}
  ~heartbeat() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  bool lost() const { return lost_.load(); }

 private:
  void beat(const worker_options& options, const shard_claim& claim) {
    try {
      http_client arena(options.arena_url, options.key, std::chrono::seconds(30));
      const auto every = std::max(std::chrono::milliseconds(50), claim.lease_time / 3);
      const auto body = json::serialize(json::object{{"lease", claim.lease}});
      std::unique_lock lock(mutex_);
      while (!wake_.wait_for(lock, every, [this] { return stopping_; })) {
        lock.unlock();
        try {
          const auto reply = arena.call("POST", fmt::format("/api/eval-shards/{}/heartbeat", claim.shard), body);
          if (reply.status == 409 || reply.status == 404) {
            log::warn("eval shard {}: lease lost ({})", claim.shard, reply_detail(reply));
            lost_ = true;
          }
        } catch (const std::exception& e) {
          log::warn("eval shard {}: heartbeat failed ({})", claim.shard, e.what());
        }
        lock.lock();
        if (lost_) return;
      }
    } catch (const std::exception& e) {
      log::warn("eval shard {}: heartbeats stopped ({})", claim.shard, e.what());
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::atomic<bool> lost_{false};
  std::thread thread_;
};

// POSTs `body`, retrying a few times while the arena cannot be reached or is
// briefly unavailable; the last reply otherwise.
http_reply post(http_client& arena, const std::string& target, const std::string& body) {
  for (int attempt = 1;; ++attempt) {
    try {
      auto reply = arena.call("POST", target, body);
      if (reply.status != 503 || attempt >= 5) return reply;
    } catch (const backend_error&) {
      if (attempt >= 5) throw;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200 * attempt * attempt));
  }
}

}  // namespace

worker_stats run_worker(const worker_options& options, const std::atomic<bool>& stop) {
  worker_stats stats;
  http_client arena(options.arena_url, options.key, std::chrono::minutes(2));
  json::array models;
  for (const auto& m : options.models) models.emplace_back(m);
  const auto claim_body = json::serialize(json::object{{"worker", options.name}, {"models", models}});
  std::string open_name;
  std::unique_ptr<model_backend> open_model;
  int unreachable = 0;

  while (!stop.load() && (!options.max_shards || stats.shards_done + stats.shards_lost < *options.max_shards)) {
    http_reply reply;
    try {
      reply = arena.call("POST", "/api/eval-shards/claim", claim_body);
      unreachable = 0;
    } catch (const backend_error& e) {
      if (++unreachable >= 30) throw;
      log::warn("worker {}: cannot reach the arena ({}); retrying", options.name, e.what());
      std::this_thread::sleep_for(options.idle_poll);
      continue;
    }
    if (reply.status == 204 || reply.status == 503) {
      if (options.exit_when_idle && reply.status == 204) break;
      std::this_thread::sleep_for(options.idle_poll);
      continue;
    }
    if (reply.status != 200)
      throw backend_error(fmt::format("{} refused a claim (HTTP {}): {}", options.arena_url, reply.status, reply_detail(reply)),
                          reply.status);
    const auto claim = parse_claim(reply.body);
    log::info("worker {}: shard {} of run {}: {} {} documents {}..{}", options.name, claim.shard, claim.run, claim.model,
              claim.task, claim.doc_begin, claim.doc_end - 1);

    // Heartbeats from the claim on: loading a model may take longer than a lease.
    eval_outcome outcome;
    bool lost = false;
    {
      heartbeat beats(options, claim);
      auto selection = load_suites(claim.spec.suites, options.suites_dirs);
      std::erase_if(selection.tasks, [&](const task_config& t) { return t.task != claim.task; });
      selection.groups.clear();
      if (selection.tasks.empty())
        throw input_error(fmt::format("run {} names task '{}', which suites {} here do not hold", claim.run, claim.task,
                                      fmt::join(claim.spec.suites, ",")));
      if (open_name != claim.model || !open_model) {
        open_model.reset();
        open_model = options.open_model(claim.model);
        open_name = claim.model;
        (void)open_model->fingerprint();  // hashes the weights once, under the lease
      }
      auto run_options = eval_options_for(claim.spec, options.data_dir, options.control_dir);
      run_options.doc_range = {claim.doc_begin, claim.doc_end};
      outcome = run_eval(*open_model, selection, run_options);
      lost = beats.lost();
    }
    if (lost) {
      ++stats.shards_lost;
      continue;
    }

    const auto& task = outcome.tasks.at(0);
    const auto fingerprint = fingerprint_json(outcome.fingerprint);
    bool refused = false;
    for (std::size_t begin = 0; begin < task.prepared.docs.size() && !refused;
         begin += static_cast<std::size_t>(options.items_per_post)) {
      const auto end = std::min(task.prepared.docs.size(), begin + static_cast<std::size_t>(options.items_per_post));
      json::array items;
      for (std::size_t i = begin; i < end; ++i) {
        json::array answers;
        for (const auto& r : task.scores[i].resps) answers.emplace_back(response_to_json(r));
        items.emplace_back(json::object{{"task", claim.task}, {"doc_id", task.prepared.docs[i].doc_id}, {"answers", std::move(answers)}});
      }
      const auto body = json::serialize(json::object{{"lease", claim.lease}, {"fingerprint", fingerprint}, {"items", std::move(items)}});
      const auto answer = post(arena, fmt::format("/api/eval-shards/{}/items", claim.shard), body);
      if (answer.status == 409 || answer.status == 404) {
        log::warn("worker {}: shard {} refused the answers: {}", options.name, claim.shard, reply_detail(answer));
        refused = true;
      } else if (answer.status != 200) {
        throw backend_error(fmt::format("{} refused the answers of shard {} (HTTP {}): {}", options.arena_url, claim.shard,
                                        answer.status, reply_detail(answer)),
                            answer.status);
      } else {
        stats.items_posted += static_cast<std::int64_t>(end - begin);
      }
    }
    if (!refused) {
      const auto body = json::serialize(json::object{{"lease", claim.lease}, {"records", shard_records_json(outcome)}});
      const auto answer = post(arena, fmt::format("/api/eval-shards/{}/complete", claim.shard), body);
      if (answer.status == 200) {
        ++stats.shards_done;
        continue;
      }
      if (answer.status != 409 && answer.status != 404)
        throw backend_error(fmt::format("{} refused to complete shard {} (HTTP {}): {}", options.arena_url, claim.shard,
                                        answer.status, reply_detail(answer)),
                            answer.status);
      log::warn("worker {}: shard {} not completed: {}", options.name, claim.shard, reply_detail(answer));
    }
    ++stats.shards_lost;
  }
  return stats;
}

}  // namespace huashan::harness::eval
