#include <doctest/doctest.h>

#include "arena/service/metrics.hpp"

using namespace huashan::arena;

TEST_CASE("metrics render in the Prometheus text format with their labels") {
  arena_metrics m;
  m.observe_request("GET", "/api/leaderboard", 200, 0.004);
  m.observe_request("GET", "/api/leaderboard", 200, 0.2);
  m.observe_request("POST", "unmatched", 404, 0.001);
  m.count_vote(true);
  m.count_vote(false);
  m.count_vote(false);
  m.count_battle();
  m.count_backend_error("alpha");
  m.observe_recompute(1.5);
  const auto text = m.render();
  CHECK(text.find("huashan_http_requests_total{method=\"GET\",route=\"/api/leaderboard\",status=\"200\"} 2") !=
        std::string::npos);
  CHECK(text.find("huashan_http_requests_total{method=\"POST\",route=\"unmatched\",status=\"404\"} 1") !=
        std::string::npos);
  CHECK(text.find("huashan_http_request_duration_seconds_bucket{route=\"/api/leaderboard\",le=\"0.005\"} 1") !=
        std::string::npos);
  CHECK(text.find("huashan_votes_total{result=\"repeat\"} 2") != std::string::npos);
  CHECK(text.find("huashan_battles_total 1") != std::string::npos);
  CHECK(text.find("huashan_backend_errors_total{model=\"alpha\"} 1") != std::string::npos);
  CHECK(text.find("huashan_leaderboard_recompute_seconds_count 1") != std::string::npos);
  CHECK(text.find("# TYPE huashan_http_request_duration_seconds histogram") != std::string::npos);
}
