#include "arena/store/leaderboard_store.hpp"

#include <fmt/format.h>

#include <charconv>

#include "arena/store/pg.hpp"
#include "arena/store/pool.hpp"
#include "common/error.hpp"

namespace huashan::arena::store {
namespace {

// "1,2,3,4" (array_to_string of a style column) -> the four counts; zeros when empty.
style_vector parse_style(const std::string& text) {
  style_vector out{};
  std::size_t k = 0;
  const char* p = text.data();
  const char* end = text.data() + text.size();
  while (p < end && k < out.size()) {
    auto [next, ec] = std::from_chars(p, end, out[k]);
    if (ec != std::errc()) break;
    ++k;
    p = next < end && *next == ',' ? next + 1 : next;
  }
  return out;
}

constexpr const char* snapshot_columns =
    "id, category, language, style_control, "
    "to_char(computed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), vote_count, last_vote_event, "
    "computed_by, seed, parameters::text, body::text, (body - 'matrices')::text, "
    "coalesce(body -> 'matrices', '{}'::jsonb)::text";

snapshot_record snapshot_from_row(const pqxx::row& row) {
  snapshot_record s;
  s.id = row[0].as<std::int64_t>();
  s.category = row[1].as<std::string>();
  s.language = row[2].as<std::string>();
  s.style_control = row[3].as<bool>();
  s.computed_at = row[4].as<std::string>();
  s.vote_count = row[5].as<std::int64_t>();
  s.last_vote_event = row[6].as<std::int64_t>();
  s.computed_by = row[7].as<std::string>();
  s.seed = row[8].as<std::int64_t>();
  s.parameters_json = row[9].as<std::string>();
  s.body_json = row[10].as<std::string>();
  s.board_json = row[11].as<std::string>();
  s.matrices_json = row[12].as<std::string>();
  return s;
}

constexpr const char* vote_event_value = "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM vote_events";

}  // namespace

struct advisory_lock::impl {
  std::unique_ptr<pqxx::connection> conn;
  std::int64_t key = 0;
};

advisory_lock::advisory_lock(std::unique_ptr<impl> held) : impl_(std::move(held)) {}
advisory_lock::advisory_lock(advisory_lock&&) noexcept = default;
advisory_lock::~advisory_lock() {
  if (!impl_ || !impl_->conn) return;
  try {
    pqxx::nontransaction tx(*impl_->conn);
    tx.exec_params("SELECT pg_advisory_unlock($1)", impl_->key);
  } catch (...) {
    // Closing the connection below releases a session lock anyway.
  }
}

struct leaderboard_store::impl {
  connection_pool pool;
  impl(const std::string& url, std::size_t size) : pool(url, size, std::chrono::milliseconds(5000)) {}
};

leaderboard_store::leaderboard_store(std::string url, std::size_t pool_size)
    : impl_(std::make_unique<impl>(url, pool_size)) {}
leaderboard_store::~leaderboard_store() = default;

bool leaderboard_store::recompute_due() const {
  auto conn = impl_->pool.acquire();
  try {
    pqxx::read_transaction tx(*conn);
    const auto events = tx.exec1(vote_event_value)[0].as<std::int64_t>();
    const auto newest = tx.exec(
        "SELECT last_vote_event, vote_count FROM leaderboard_snapshots WHERE category = '' AND language = '' "
        "AND NOT style_control ORDER BY id DESC LIMIT 1");
    if (newest.empty()) return events > 0;
    if (events > newest[0][0].as<std::int64_t>()) return true;
    const auto counted = tx.exec1("SELECT coalesce(sum(votes), 0)::bigint FROM pair_outcome_counts")[0].as<std::int64_t>();
    return counted != newest[0][1].as<std::int64_t>();
  } catch (...) {
    rethrow_as_database_error("checking whether the leaderboards are due");
  }
}

std::optional<advisory_lock> leaderboard_store::try_lock(std::int64_t key) const {
  auto held = std::make_unique<advisory_lock::impl>();
  held->key = key;
  held->conn = open_connection(impl_->pool.url());
  try {
    pqxx::nontransaction tx(*held->conn);
    if (!tx.exec_params1("SELECT pg_try_advisory_lock($1)", key)[0].as<bool>()) return std::nullopt;
  } catch (...) {
    rethrow_as_database_error("taking the leaderboard lock");
  }
  return advisory_lock(std::move(held));
}

vote_data leaderboard_store::read_votes(std::optional<std::int64_t> as_of) const {
  auto conn = impl_->pool.acquire();
  vote_data out;
  try {
    // One snapshot for the counter and the votes: the counter is read first,
    // so a vote it counts either is in the snapshot or commits later (and
    // then moves the counted votes, which recompute_due() notices).
    pqxx::transaction<pqxx::isolation_level::repeatable_read, pqxx::readwrite_policy::read_only> tx(*conn);
    out.last_vote_event = as_of ? *as_of : tx.exec1(vote_event_value)[0].as<std::int64_t>();
    // The votes counted as of event $1 (see the header); flagged_event is NULL
    // only for flags from before sql/0004: out at every event.
    const std::string counted =
        "votes v JOIN battles t ON t.id = v.battle_id "
        "WHERE (v.vote_event IS NULL OR v.vote_event <= $1) AND (NOT t.flagged OR t.flagged_event > $1)";
    const auto rows = tx.exec_params(
        "SELECT a.name, b.name, v.winner, coalesce(t.category, ''), coalesce(t.language, ''), "
        "coalesce(array_to_string(t.style_a, ','), ''), coalesce(array_to_string(t.style_b, ','), ''), "
        "t.sampling_probability, extract(epoch FROM v.created_at)::float8 "
        "FROM models a, models b, " + counted + " AND a.id = t.model_a_id AND b.id = t.model_b_id "
        "ORDER BY v.created_at, v.battle_id",
        out.last_vote_event);
    out.votes.reserve(rows.size());
    for (const auto& row : rows) {
      ranked_vote v;
      v.model_a = row[0].as<std::string>();
      v.model_b = row[1].as<std::string>();
      v.winner = row[2].as<std::string>();
      v.category = row[3].as<std::string>();
      v.language = row[4].as<std::string>();
      v.style_a = parse_style(row[5].as<std::string>());
      v.style_b = parse_style(row[6].as<std::string>());
      if (!row[7].is_null()) v.sampling_probability = row[7].as<double>();
      v.voted_at = row[8].as<double>();
      out.votes.push_back(std::move(v));
    }
    for (const auto& row : tx.exec_params(
             "SELECT m.name, m.display_name, m.organization FROM models m WHERE m.id IN ("
             "SELECT t.model_a_id FROM " + counted + " UNION SELECT t.model_b_id FROM " + counted + ") "
             "ORDER BY m.name",
             out.last_vote_event))
      out.models.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>()});
    tx.commit();
  } catch (...) {
    rethrow_as_database_error("reading votes for the leaderboards");
  }
  return out;
}

std::optional<std::int64_t> leaderboard_store::newest_overall_vote_event() const {
  auto conn = impl_->pool.acquire();
  try {
    pqxx::read_transaction tx(*conn);
    const auto rows = tx.exec(
        "SELECT last_vote_event FROM leaderboard_snapshots WHERE category = '' AND language = '' "
        "AND NOT style_control ORDER BY id DESC LIMIT 1");
    if (rows.empty()) return std::nullopt;
    return rows[0][0].as<std::int64_t>();
  } catch (...) {
    rethrow_as_database_error("reading the newest overall leaderboard snapshot");
  }
}

std::string leaderboard_store::as_stored_json(const std::string& json) const {
  auto conn = impl_->pool.acquire();
  try {
    pqxx::read_transaction tx(*conn);
    return tx.exec_params1("SELECT $1::jsonb::text", json)[0].as<std::string>();
  } catch (...) {
    rethrow_as_database_error("normalising a leaderboard body as jsonb");
  }
}

std::vector<std::int64_t> leaderboard_store::insert_snapshots(const std::vector<new_snapshot>& snapshots) {
  auto conn = impl_->pool.acquire();
  std::vector<std::int64_t> ids;
  try {
    pqxx::work tx(*conn);
    for (const auto& s : snapshots)
      ids.push_back(tx.exec_params1(
                          "INSERT INTO leaderboard_snapshots (category, language, style_control, vote_count, "
                          "last_vote_event, computed_by, seed, parameters, body) "
                          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb) RETURNING id",
                          s.category, s.language, s.style_control, s.vote_count, s.last_vote_event, s.computed_by,
                          s.seed, s.parameters_json, s.body_json)[0]
                        .as<std::int64_t>());
    tx.commit();
  } catch (...) {
    rethrow_as_database_error("storing leaderboard snapshots");
  }
  return ids;
}

std::int64_t leaderboard_store::newest_snapshot_id() const {
  auto conn = impl_->pool.acquire();
  try {
    pqxx::read_transaction tx(*conn);
    return tx.exec1("SELECT coalesce(max(id), 0) FROM leaderboard_snapshots")[0].as<std::int64_t>();
  } catch (...) {
    rethrow_as_database_error("reading the newest leaderboard snapshot id");
  }
}

std::vector<snapshot_record> leaderboard_store::latest_snapshots() const {
  auto conn = impl_->pool.acquire();
  std::vector<snapshot_record> out;
  try {
    pqxx::read_transaction tx(*conn);
    // One recompute writes all its variants in one transaction: they share computed_at.
    for (const auto& row : tx.exec(fmt::format(
             "SELECT {} FROM leaderboard_snapshots WHERE computed_at = "
             "(SELECT computed_at FROM leaderboard_snapshots ORDER BY id DESC LIMIT 1) ORDER BY id",
             snapshot_columns)))
      out.push_back(snapshot_from_row(row));
  } catch (...) {
    rethrow_as_database_error("reading the latest leaderboard snapshots");
  }
  return out;
}

std::vector<rating_point> leaderboard_store::rating_history(const std::string& category, const std::string& language,
                                                           bool style_control, std::size_t limit,
                                                           const std::optional<std::string>& model) const {
  auto conn = impl_->pool.acquire();
  try {
    pqxx::read_transaction tx(*conn);
    // The variant index walks the newest snapshots; their rows are unpacked in SQL.
    const auto rows = tx.exec_params(
        "SELECT s.id, to_char(s.computed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), r->>'model', "
        "COALESCE((r->>'rating')::float8, 'NaN'), COALESCE((r->>'ci_lo')::float8, 'NaN'), "
        "COALESCE((r->>'ci_hi')::float8, 'NaN') "
        "FROM (SELECT id, computed_at, body FROM leaderboard_snapshots "
        "      WHERE category = $1 AND language = $2 AND style_control = $3 ORDER BY id DESC LIMIT $4) s "
        "CROSS JOIN LATERAL jsonb_array_elements(s.body->'rows') r "
        "WHERE $5 = '' OR r->>'model' = $5 ORDER BY s.id, r->>'model'",
        category, language, style_control, static_cast<std::int64_t>(limit), model.value_or(""));
    std::vector<rating_point> out;
    out.reserve(rows.size());
    for (const auto& row : rows)
      out.push_back({row[0].as<std::int64_t>(), row[1].as<std::string>(), row[2].as<std::string>(),
                     row[3].as<double>(), row[4].as<double>(), row[5].as<double>()});
    return out;
  } catch (...) {
    rethrow_as_database_error(fmt::format("reading the rating history of variant '{}'/'{}'", category, language));
  }
}

std::optional<snapshot_record> leaderboard_store::snapshot(std::int64_t id) const {
  auto conn = impl_->pool.acquire();
  try {
    pqxx::read_transaction tx(*conn);
    const auto rows =
        tx.exec_params(fmt::format("SELECT {} FROM leaderboard_snapshots WHERE id = $1", snapshot_columns), id);
    if (rows.empty()) return std::nullopt;
    return snapshot_from_row(rows[0]);
  } catch (...) {
    rethrow_as_database_error(fmt::format("reading leaderboard snapshot {}", id));
  }
}

}  // namespace huashan::arena::store
