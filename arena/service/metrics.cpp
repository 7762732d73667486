#include "arena/service/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <sstream>

namespace huashan::arena {

struct arena_metrics::impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Counter>& requests = prometheus::BuildCounter()
                                                          .Name("huashan_http_requests_total")
                                                          .Help("HTTP requests by method, route and status")
                                                          .Register(*registry);
  prometheus::Family<prometheus::Histogram>& latency = prometheus::BuildHistogram()
                                                           .Name("huashan_http_request_duration_seconds")
                                                           .Help("Time from a complete request to its response")
                                                           .Register(*registry);
  prometheus::Family<prometheus::Counter>& votes =
      prometheus::BuildCounter().Name("huashan_votes_total").Help("Votes answered, by result").Register(*registry);
  prometheus::Family<prometheus::Counter>& battles =
      prometheus::BuildCounter().Name("huashan_battles_total").Help("Battles started").Register(*registry);
  prometheus::Family<prometheus::Counter>& backend_errors = prometheus::BuildCounter()
                                                                .Name("huashan_backend_errors_total")
                                                                .Help("Model backend failures by model")
                                                                .Register(*registry);
  prometheus::Family<prometheus::Histogram>& recompute = prometheus::BuildHistogram()
                                                             .Name("huashan_leaderboard_recompute_seconds")
                                                             .Help("Duration of leaderboard recomputes")
                                                             .Register(*registry);
  // Latency buckets in seconds: 1 ms .. 60 s (model answers stream for long).
  const prometheus::Histogram::BucketBoundaries request_buckets{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                                0.25,  0.5,    1,     2.5,  5,     10,   30, 60};
  const prometheus::Histogram::BucketBoundaries recompute_buckets{0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120};
};

arena_metrics::arena_metrics() : impl_(std::make_unique<impl>()) {}
arena_metrics::~arena_metrics() = default;

void arena_metrics::observe_request(std::string_view method, std::string_view route, int status, double seconds) {
  const std::string m(method), r(route), s = std::to_string(status);
  impl_->requests.Add({{"method", m}, {"route", r}, {"status", s}}).Increment();
  impl_->latency.Add({{"route", r}}, impl_->request_buckets).Observe(seconds);
}

void arena_metrics::count_vote(bool recorded_now) {
  impl_->votes.Add({{"result", recorded_now ? "recorded" : "repeat"}}).Increment();
}

void arena_metrics::count_battle() { impl_->battles.Add({}).Increment(); }

void arena_metrics::count_backend_error(std::string_view model) {
  impl_->backend_errors.Add({{"model", std::string(model)}}).Increment();
}

void arena_metrics::observe_recompute(double seconds) {
  impl_->recompute.Add({}, impl_->recompute_buckets).Observe(seconds);
}

std::string arena_metrics::render() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, impl_->registry->Collect());
  return out.str();
}

}  // namespace huashan::arena
