// lm-evaluation-harness's aggregations over a task's documents and their
// standard errors, and the group rule that pools its members' errors.
// (aggregate() and aggregate_group() themselves are declared in task.hpp.)
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

namespace huashan::harness::eval {

double mean(const std::vector<double>& values);
// Standard deviation with ddof 1; needs two values.
double sample_stddev(const std::vector<double>& values);
// sample_stddev / sqrt(n); nullopt under two values.
std::optional<double> mean_stderr(const std::vector<double>& values);

// Items of a weighted aggregation: (log-likelihood, words or bytes).
using weighted_item = std::pair<double, double>;
double perplexity(const std::vector<double>& logprobs);                 // exp(-mean)
double weighted_perplexity(const std::vector<weighted_item>& items);   // exp(-Σll / Σw)
double bits_per_byte(const std::vector<weighted_item>& items);         // -Σll / Σw / ln 2

// The sample standard deviation of `statistic` over `iterations` resamples
// (with replacement, same size) of `n` documents; round r draws from
// xoshiro256++ seeded with stream r of `seed`, so the result repeats.
// nullopt when n < 2 or iterations < 2.
std::optional<double> bootstrap_stderr(std::size_t n, std::int32_t iterations, std::uint64_t seed,
                                       const std::function<double(const std::vector<std::size_t>&)>& statistic);

// A group's value: Σ value·size / Σ size (sizes all 1 when not weighted).
double aggregate_subtask_metrics(const std::vector<double>& values, const std::vector<double>& sizes,
                                 bool weight_by_size);
// sqrt(Σ (n_i - 1)·se_i²·n_i / (Σn - k) / Σn).
double pooled_sample_stderr(const std::vector<double>& stderrs, const std::vector<double>& sizes);

}  // namespace huashan::harness::eval
