#include "arena/service/snapshot_recompute.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "arena/service/leaderboard_json.hpp"
#include "arena/service/snapshot_compute.hpp"
#include "common/error.hpp"

namespace huashan::arena {
namespace {

constexpr std::size_t excerpt_bytes = 60;

// Where `a` and `b` first differ and the text from a little before there, or "" when equal.
std::string first_difference(const std::string& what, const std::string& stored, const std::string& recomputed) {
  if (stored == recomputed) return {};
  const auto at = static_cast<std::size_t>(
      std::mismatch(stored.begin(), stored.begin() + static_cast<std::ptrdiff_t>(std::min(stored.size(), recomputed.size())),
                    recomputed.begin())
          .first -
      stored.begin());
  const std::size_t from = at > 20 ? at - 20 : 0;
  return fmt::format("{} differs at byte {} (of {} stored, {} recomputed): stored '…{}…', recomputed '…{}…'", what, at,
                     stored.size(), recomputed.size(), stored.substr(from, excerpt_bytes),
                     recomputed.substr(from, excerpt_bytes));
}

}  // namespace

snapshot_check recompute_snapshot(const store::leaderboard_store& store, std::int64_t id, unsigned threads) {
  const auto record = store.snapshot(id);
  if (!record) throw not_found_error(fmt::format("no leaderboard snapshot {}", id));
  auto params = snapshot_parameters_from_json(record->parameters_json);
  if (params.category != record->category || params.language != record->language ||
      params.options.style_control != record->style_control)
    throw input_error(fmt::format(
        "leaderboard snapshot {}: its parameters (category '{}', language '{}', style_control {}) disagree with its "
        "row (category '{}', language '{}', style_control {})",
        id, params.category, params.language, params.options.style_control, record->category, record->language,
        record->style_control));
  if (params.options.seed != static_cast<std::uint64_t>(record->seed))
    throw input_error(fmt::format("leaderboard snapshot {}: parameters seed {} disagrees with its row's seed {}", id,
                                  params.options.seed, record->seed));
  params.options.threads = threads;

  const auto data = store.read_vote_columns(record->last_vote_event);
  const auto computed = compute_snapshot(data, params.category, params.language, params.options);

  snapshot_check out;
  out.id = id;
  out.last_vote_event = record->last_vote_event;
  out.stored_votes = record->vote_count;
  out.recomputed_votes = computed.vote_count;
  out.difference = first_difference("parameters", record->parameters_json, store.as_stored_json(computed.parameters_json));
  if (out.difference.empty())
    out.difference = first_difference("body", record->body_json, store.as_stored_json(computed.body_json));
  if (out.difference.empty() && out.stored_votes != out.recomputed_votes)
    out.difference = fmt::format("vote_count: stored {}, recomputed {}", out.stored_votes, out.recomputed_votes);
  out.identical = out.difference.empty();
  return out;
}

}  // namespace huashan::arena
