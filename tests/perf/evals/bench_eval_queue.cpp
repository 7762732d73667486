// huashan_bench_evals --url URL --key KEY [--threads 16] [--duration 10] [--answers 4]
// Simulated eval workers on loopback: each thread holds one keep-alive
// connection and loops claim -> items -> complete (harness/eval/worker.cpp's
// protocol) as fast as the arena answers, with made-up but well-formed
// answers (--answers loglikelihood answers per document: the arena checks the
// count against the document's requests), for --duration seconds.
// Prints one line "BENCH {json}": shards completed, shards/s, requests,
// errors (any reply other than the one the protocol expects, the first one
// quoted) and the claim-to-complete latency per shard. Exit 1 on any error or
// when the queue ran dry (a 204 from claim): the caller queues enough runs.
#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <latch>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/error.hpp"
#include "harness/http_client.hpp"

namespace json = boost::json;
using clock_type = std::chrono::steady_clock;

namespace {

struct bench_options {
  std::string url;
  std::string key;
  int threads = 16;
  double duration_s = 10;
  int answers_per_doc = 4;
};

// What every thread adds up; the first error message is kept for the report.
struct tally {
  std::atomic<std::int64_t> shards{0};
  std::atomic<std::int64_t> requests{0};
  std::atomic<std::int64_t> errors{0};
  std::atomic<bool> queue_dry{false};
  std::mutex mutex;
  std::string first_error;
  std::vector<double> shard_ms;

  void error(std::string what) {
    errors.fetch_add(1);
    std::lock_guard lock(mutex);
    if (first_error.empty()) first_error = std::move(what);
  }
};

bench_options parse_args(int argc, char** argv) {
  bench_options o;
  const auto value = [&](int& i, const std::string& flag) -> std::string {
    if (i + 1 >= argc) throw huashan::input_error(fmt::format("flag {} needs a value", flag));
    return argv[++i];
  };
  const auto number = [](const std::string& flag, const std::string& text, double low, double high) {
    char* end = nullptr;
    const double x = std::strtod(text.c_str(), &end);
    if (end == text.c_str() || *end != '\0' || !(x >= low && x <= high))
      throw huashan::input_error(fmt::format("flag {}: '{}' is not a number from {} to {}", flag, text, low, high));
    return x;
  };
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--url") o.url = value(i, flag);
    else if (flag == "--key") o.key = value(i, flag);
    else if (flag == "--threads") o.threads = static_cast<int>(number(flag, value(i, flag), 1, 1024));
    else if (flag == "--duration") o.duration_s = number(flag, value(i, flag), 0.1, 3600);
    else if (flag == "--answers") o.answers_per_doc = static_cast<int>(number(flag, value(i, flag), 1, 1000));
    else throw huashan::input_error(fmt::format("unknown flag '{}' (expected --url, --key, --threads, --duration, --answers)", flag));
  }
  if (o.url.empty() || o.key.empty()) throw huashan::input_error("--url and --key are required");
  return o;
}

// The items post for documents [begin, end) of `task`: answers vary by
// document so that runs are not all ties, and stay valid loglikelihoods.
std::string items_body(const std::string& lease, const std::string& task, std::int64_t begin, std::int64_t end,
                       int answers_per_doc) {
  json::array items;
  for (std::int64_t doc = begin; doc < end; ++doc) {
    json::array answers;
    for (int k = 0; k < answers_per_doc; ++k)
      answers.emplace_back(json::object{{"kind", "loglikelihood"},
                                        {"logprob", fmt::format("-{}.{}", 1 + (doc + k) % 4, (doc * 7 + k) % 10)},
                                        {"is_greedy", k == doc % answers_per_doc},
                                        {"n_tokens", 1 + k % 3}});
    items.emplace_back(json::object{{"task", task}, {"doc_id", doc}, {"answers", std::move(answers)}});
  }
  return json::serialize(json::object{
      {"lease", lease},
      {"fingerprint", json::object{{"kind", "gguf"}, {"file", "bench.gguf"}, {"sha256", std::string(64, 'b')}}},
      {"items", std::move(items)}});
}

std::int64_t int_field(const json::object& o, const char* name) {
  const auto* v = o.if_contains(name);
  if (v == nullptr || !v->is_int64()) throw huashan::input_error(fmt::format("claim reply has no integer '{}'", name));
  return v->as_int64();
}

std::string string_field(const json::object& o, const char* name) {
  const auto* v = o.if_contains(name);
  if (v == nullptr || !v->is_string()) throw huashan::input_error(fmt::format("claim reply has no string '{}'", name));
  return std::string(v->as_string());
}

// One simulated worker until `deadline`; stops early on a dry queue or after
// many errors (the run is void then anyway).
void worker_loop(const bench_options& o, int index, std::latch& start, clock_type::time_point& deadline, tally& t) {
  huashan::harness::http_client client(o.url, o.key, std::chrono::seconds(30));
  const auto claim_body = json::serialize(json::object{{"worker", fmt::format("bench-{}", index)}, {"models", json::array{}}});
  std::vector<double> latencies;
  start.arrive_and_wait();
  while (clock_type::now() < deadline && t.errors.load() < 100 && !t.queue_dry.load()) {
    const auto began = clock_type::now();
    try {
      const auto claimed = client.call("POST", "/api/eval-shards/claim", claim_body);
      t.requests.fetch_add(1);
      if (claimed.status == 204) {
        t.queue_dry.store(true);
        break;
      }
      if (claimed.status != 200) {
        t.error(fmt::format("claim: {} {}", claimed.status, huashan::harness::reply_detail(claimed)));
        continue;
      }
      const auto shard = json::parse(claimed.body).as_object();
      const auto id = int_field(shard, "shard");
      const auto lease = string_field(shard, "lease");
      const auto items = client.call(
          "POST", fmt::format("/api/eval-shards/{}/items", id),
          items_body(lease, string_field(shard, "task"), int_field(shard, "doc_begin"), int_field(shard, "doc_end"),
                     o.answers_per_doc));
      t.requests.fetch_add(1);
      if (items.status != 200) {
        t.error(fmt::format("items of shard {}: {} {}", id, items.status, huashan::harness::reply_detail(items)));
        continue;
      }
      const auto done = client.call("POST", fmt::format("/api/eval-shards/{}/complete", id),
                                    json::serialize(json::object{{"lease", lease}, {"records", json::object{}}}));
      t.requests.fetch_add(1);
      if (done.status != 200) {
        t.error(fmt::format("complete of shard {}: {} {}", id, done.status, huashan::harness::reply_detail(done)));
        continue;
      }
      t.shards.fetch_add(1);
      latencies.push_back(std::chrono::duration<double, std::milli>(clock_type::now() - began).count());
    } catch (const std::exception& e) {
      t.error(e.what());
    }
  }
  std::lock_guard lock(t.mutex);
  t.shard_ms.insert(t.shard_ms.end(), latencies.begin(), latencies.end());
}

double percentile(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const auto o = parse_args(argc, argv);
    tally t;
    std::latch start(o.threads + 1);
    clock_type::time_point deadline{};
    std::vector<std::thread> threads;
    for (int i = 0; i < o.threads; ++i)
      threads.emplace_back([&, i] { worker_loop(o, i, start, deadline, t); });
    // The deadline is written before the latch releases the threads that read it.
    const auto began = clock_type::now();
    deadline = began + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(o.duration_s));
    start.arrive_and_wait();
    for (auto& th : threads) th.join();
    const double seconds = std::chrono::duration<double>(clock_type::now() - began).count();

    json::object report{{"shards", t.shards.load()},
                        {"seconds", seconds},
                        {"shards_per_s", static_cast<double>(t.shards.load()) / seconds},
                        {"requests", t.requests.load()},
                        {"rps", static_cast<double>(t.requests.load()) / seconds},
                        {"errors", t.errors.load()},
                        {"queue_dry", t.queue_dry.load()},
                        {"threads", o.threads},
                        {"shard_p50_ms", percentile(t.shard_ms, 0.50)},
                        {"shard_p99_ms", percentile(t.shard_ms, 0.99)}};
    if (!t.first_error.empty()) report["first_error"] = t.first_error.substr(0, 500);
    std::printf("BENCH %s\n", json::serialize(report).c_str());
    return t.errors.load() == 0 && !t.queue_dry.load() ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "huashan_bench_evals: %s\n", e.what());
    return 2;
  }
}
