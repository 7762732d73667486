#include "harness/eval/aggregate.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "common/error.hpp"
#include "common/xoshiro256.hpp"
#include "harness/eval/task.hpp"

namespace huashan::harness::eval {

double mean(const std::vector<double>& values) {
  double sum = 0.0;
  for (double v : values) sum += v;
  return sum / static_cast<double>(values.size());
}

double sample_stddev(const std::vector<double>& values) {
  const double mu = mean(values);
  double squares = 0.0;
  for (double v : values) squares += (v - mu) * (v - mu);
  return std::sqrt(squares / static_cast<double>(values.size() - 1));
}

std::optional<double> mean_stderr(const std::vector<double>& values) {
  if (values.size() < 2) return std::nullopt;
  return sample_stddev(values) / std::sqrt(static_cast<double>(values.size()));
}

double perplexity(const std::vector<double>& logprobs) { return std::exp(-mean(logprobs)); }

namespace {
double weighted_mean(const std::vector<weighted_item>& items) {
  double a = 0.0;
  double b = 0.0;
  for (const auto& [value, weight] : items) {
    a += value;
    b += weight;
  }
  return a / b;
}
}  // namespace

double weighted_perplexity(const std::vector<weighted_item>& items) { return std::exp(-weighted_mean(items)); }

double bits_per_byte(const std::vector<weighted_item>& items) { return -weighted_mean(items) / std::numbers::ln2; }

std::optional<double> bootstrap_stderr(std::size_t n, std::int32_t iterations, std::uint64_t seed,
                                       const std::function<double(const std::vector<std::size_t>&)>& statistic) {
  if (n < 2 || iterations < 2) return std::nullopt;
  std::vector<double> replicates;
  replicates.reserve(static_cast<std::size_t>(iterations));
  std::vector<std::size_t> picks(n);
  for (std::int32_t round = 0; round < iterations; ++round) {
    xoshiro256pp generator(xoshiro_stream_seed(seed, static_cast<std::uint64_t>(round)));
    for (auto& p : picks) p = static_cast<std::size_t>(generator.below(n));
    replicates.push_back(statistic(picks));
  }
  return sample_stddev(replicates);
}

double aggregate_subtask_metrics(const std::vector<double>& values, const std::vector<double>& sizes,
                                 bool weight_by_size) {
  double weighted = 0.0;
  double total = 0.0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double size = weight_by_size ? sizes[i] : 1.0;
    weighted += values[i] * size;
    total += size;
  }
  return weighted / total;
}

double pooled_sample_stderr(const std::vector<double>& stderrs, const std::vector<double>& sizes) {
  double pooled = 0.0;
  double total = 0.0;
  for (std::size_t i = 0; i < stderrs.size(); ++i) {
    pooled += (sizes[i] - 1.0) * stderrs[i] * stderrs[i] * sizes[i];
    total += sizes[i];
  }
  pooled /= total - static_cast<double>(sizes.size());
  return std::sqrt(pooled / total);
}

namespace {

std::string default_aggregation(const std::string& metric) {
  if (metric == "perplexity") return "perplexity";
  if (metric == "word_perplexity" || metric == "byte_perplexity") return "weighted_perplexity";
  if (metric == "bits_per_byte") return "bits_per_byte";
  return "mean";
}

metric_summary summarise(const task_config& task, const metric_spec& spec, const std::string& filter,
                         const std::vector<doc_scores>& docs, std::int32_t bootstrap_iters, std::uint64_t seed) {
  metric_summary summary;
  summary.metric = spec.metric;
  summary.filter = filter;
  summary.higher_is_better = spec.higher_is_better;
  const std::string aggregation = spec.aggregation.empty() ? default_aggregation(spec.metric) : spec.aggregation;
  const auto where = [&] {
    return fmt::format("task '{}', metric '{}' (filter '{}'), aggregation '{}'", task.task, spec.metric, filter,
                       aggregation);
  };

  if (aggregation == "mean" || aggregation == "perplexity") {
    std::vector<double> values;
    for (std::size_t i = 0; i < docs.size(); ++i) {
      const auto value = docs[i].values.find(filter);
      if (value == docs[i].values.end() || !value->second.contains(spec.metric)) {
        throw input_error(fmt::format("{}: document {} has no value for it", where(), i));
      }
      values.push_back(value->second.at(spec.metric));
    }
    summary.n = static_cast<std::int64_t>(values.size());
    if (values.empty()) throw input_error(fmt::format("{}: no documents", where()));
    if (aggregation == "mean") {
      summary.value = mean(values);
      summary.stderr_value = mean_stderr(values);
    } else {
      summary.value = perplexity(values);
      summary.stderr_value =
          bootstrap_stderr(values.size(), bootstrap_iters, seed, [&](const std::vector<std::size_t>& picks) {
            std::vector<double> resampled;
            resampled.reserve(picks.size());
            for (auto p : picks) resampled.push_back(values[p]);
            return perplexity(resampled);
          });
    }
    return summary;
  }

  if (aggregation == "weighted_perplexity" || aggregation == "bits_per_byte") {
    std::vector<weighted_item> items;
    for (std::size_t i = 0; i < docs.size(); ++i) {
      const auto by_filter = docs[i].weighted.find(filter);
      if (by_filter == docs[i].weighted.end() || !by_filter->second.contains(spec.metric)) {
        throw input_error(fmt::format("{}: document {} has no (log-likelihood, weight) for it", where(), i));
      }
      items.push_back(by_filter->second.at(spec.metric));
    }
    summary.n = static_cast<std::int64_t>(items.size());
    if (items.empty()) throw input_error(fmt::format("{}: no documents", where()));
    const auto statistic = aggregation == "bits_per_byte" ? bits_per_byte : weighted_perplexity;
    summary.value = statistic(items);
    summary.stderr_value =
        bootstrap_stderr(items.size(), bootstrap_iters, seed, [&](const std::vector<std::size_t>& picks) {
          std::vector<weighted_item> resampled;
          resampled.reserve(picks.size());
          for (auto p : picks) resampled.push_back(items[p]);
          return statistic(resampled);
        });
    return summary;
  }
  throw input_error(fmt::format(
      "{}: unknown aggregation (expected mean, perplexity, weighted_perplexity or bits_per_byte)", where()));
}

}  // namespace

std::vector<metric_summary> aggregate(const task_config& task, const std::vector<doc_scores>& docs,
                                      std::int32_t bootstrap_iters, std::uint64_t seed) {
  std::vector<metric_summary> summaries;
  const std::vector<filter_pipeline> identity = {filter_pipeline{"none", {}}};
  for (const auto& pipeline : task.filters.empty() ? identity : task.filters) {
    for (const auto& spec : task.metrics) {
      summaries.push_back(summarise(task, spec, pipeline.name, docs, bootstrap_iters, seed));
    }
  }
  return summaries;
}

metric_summary aggregate_group(const group_metric& spec, const std::vector<metric_summary>& members) {
  if (spec.aggregation != "mean") {
    throw input_error(fmt::format("group metric '{}': aggregation '{}' is not supported across a group's members "
                                  "(expected mean)",
                                  spec.metric, spec.aggregation));
  }
  std::vector<const metric_summary*> matched;
  for (const auto& m : members) {
    if (m.metric != spec.metric) continue;
    if (std::find(spec.filter_list.begin(), spec.filter_list.end(), m.filter) == spec.filter_list.end()) continue;
    if (!matched.empty() && matched.front()->filter != m.filter) {
      throw input_error(fmt::format("group metric '{}': members report filters '{}' and '{}'; aggregate one filter "
                                    "at a time",
                                    spec.metric, matched.front()->filter, m.filter));
    }
    matched.push_back(&m);
  }
  if (matched.empty()) {
    throw input_error(fmt::format("group metric '{}' with filters [{}]: no member reports it", spec.metric,
                                  fmt::join(spec.filter_list, ", ")));
  }
  std::vector<double> values;
  std::vector<double> sizes;
  std::vector<double> stderrs;
  bool every_stderr = true;
  for (const auto* m : matched) {
    values.push_back(m->value);
    sizes.push_back(static_cast<double>(m->n));
    if (m->stderr_value) stderrs.push_back(*m->stderr_value);
    else every_stderr = false;
  }
  metric_summary summary;
  summary.metric = spec.metric;
  summary.filter = matched.front()->filter;
  summary.higher_is_better = matched.front()->higher_is_better;
  summary.value = aggregate_subtask_metrics(values, sizes, spec.weight_by_size);
  double total = 0.0;
  for (double s : sizes) total += s;
  summary.n = static_cast<std::int64_t>(total);
  // A member without an error makes the group's N/A, as lm-evaluation-harness.
  if (every_stderr && total > static_cast<double>(sizes.size())) {
    summary.stderr_value = pooled_sample_stderr(stderrs, sizes);
  }
  return summary;
}

}  // namespace huashan::harness::eval
