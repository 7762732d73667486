#include "harness/eval/publish.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include "common/error.hpp"
#include "harness/eval/results.hpp"
#include "harness/http_client.hpp"
#include "harness/openai_client.hpp"

namespace huashan::harness::eval {

namespace json = boost::json;

published_run publish_run(const std::string& arena_url, const std::optional<std::string>& key, const std::string& model,
                          const std::string& results_text, const eval_outcome& outcome) {
  json::object samples;
  for (const auto& t : outcome.tasks) samples[t.config.task] = samples_jsonl(t);
  const json::object body{{"model", model}, {"results_json", results_text}, {"samples", std::move(samples)}};
  http_client arena(arena_url, key, std::chrono::minutes(5));
  const auto reply = arena.call("POST", "/api/evals", json::serialize(body));
  if (reply.status != 200 && reply.status != 201)
    throw backend_error(fmt::format("{} refused the results (HTTP {}): {}", arena_url, reply.status, reply_detail(reply)),
                        reply.status);
  const auto answer = json::parse(reply.body).as_object();
  published_run out;
  out.id = answer.at("id").to_number<std::int64_t>();
  out.created = answer.at("created").as_bool();
  out.results_url = arena_url + std::string(answer.at("results").as_string());
  return out;
}

}  // namespace huashan::harness::eval
