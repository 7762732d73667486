// Seeded samples of document positions for the checks that look at a few
// documents of each task (the determinism record, the contamination hint).
// A sample depends only on the task's size, its name and the run's seed, never
// on which shard asks, so every shard picks the same positions and answers
// those that fall in its own range.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace huashan::harness::eval {

// Up to `count` distinct positions of [0, size), ascending: one from each of
// `count` equal strata, so the sample covers the whole task (a task's
// documents are often ordered by topic or difficulty). All of them when
// size <= count.
std::vector<std::int64_t> spread_sample(std::int64_t size, std::int64_t count, std::uint64_t seed);

// A sample's seed from the run's seed, the task's name and what the sample is for.
std::uint64_t sample_seed(std::uint64_t run_seed, std::string_view task, std::string_view purpose);

}  // namespace huashan::harness::eval
