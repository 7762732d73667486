#include "arena/store/leaderboard_store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <string_view>
#include <unordered_map>

#include "arena/store/pg.hpp"
#include "arena/store/pool.hpp"
#include "common/error.hpp"

namespace huashan::arena::store {
namespace {

// "1,2,3,4" (array_to_string of a style column) -> the four counts; zeros when empty.
style_vector parse_style(std::string_view text) {
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

// The votes counted as of vote event $1 (see read_votes in the header); a
// vote's flagged_event is 0 for flags from before sql/0004: out at every event.
constexpr const char* counted_votes =
    "(v.vote_event IS NULL OR v.vote_event <= $1) AND (v.flagged_event IS NULL OR v.flagged_event > $1)";

// counted_votes with the event written in (a cursor's query takes no parameters).
std::string counted_as_of(std::int64_t event) {
  std::string where = counted_votes;
  for (auto at = where.find("$1"); at != std::string::npos; at = where.find("$1")) where.replace(at, 2, std::to_string(event));
  return where;
}

// A number of COPY's text output; throws database_error on anything else.
template <class T>
T number(std::string_view text) {
  T out{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || end != text.data() + text.size())
    throw database_error(fmt::format("reading votes: '{}' is not a number", text));
  return out;
}

// A text column of COPY's text format with its backslash escapes decoded
// (into `buffer`).
std::string_view copy_text_unescaped(std::string_view text, std::string& buffer) {
  if (text.find('\\') == std::string_view::npos) return text;
  buffer.clear();
  for (std::size_t k = 0; k < text.size(); ++k) {
    if (text[k] != '\\' || k + 1 == text.size()) {
      buffer += text[k];
      continue;
    }
    const char c = text[++k];
    switch (c) {
      case 'b': buffer += '\b'; break;
      case 'f': buffer += '\f'; break;
      case 'n': buffer += '\n'; break;
      case 'r': buffer += '\r'; break;
      case 't': buffer += '\t'; break;
      case 'v': buffer += '\v'; break;
      default:
        if (c >= '0' && c <= '7') {  // \ooo
          int v = 0, digits = 0;
          for (; digits < 3 && k < text.size() && text[k] >= '0' && text[k] <= '7'; ++digits, ++k) v = v * 8 + (text[k] - '0');
          --k;
          buffer += static_cast<char>(v);
        } else {
          buffer += c;  // \\ and any other escaped character stand for themselves
        }
    }
  }
  return buffer;
}

// "{1,2,3,4}" (an integer[] in COPY's text format) -> the four counts; zeros for NULL.
style_vector style_from_array(std::string_view text) {
  if (text == "\\N") return {};
  if (text.size() < 2 || text.front() != '{' || text.back() != '}')
    throw database_error(fmt::format("reading votes: style counts '{}' are not an integer array", text));
  return parse_style(text.substr(1, text.size() - 2));
}

// Index of `name` in `names`, adding it when new.
std::uint16_t tag_index(std::vector<std::string>& names, std::map<std::string, std::uint16_t, std::less<>>& index,
                        std::string_view name) {
  if (name.empty()) return 0;
  const auto it = index.find(name);
  if (it != index.end()) return it->second;
  names.emplace_back(name);
  const auto id = static_cast<std::uint16_t>(names.size());
  index.emplace(std::string(name), id);
  return id;
}

// Renumbers tags (1-based, first-seen) so that `names` is sorted.
void sort_tags(std::vector<std::string>& names, std::vector<std::uint16_t>& ids) {
  std::vector<std::uint16_t> order(names.size());
  for (std::size_t k = 0; k < order.size(); ++k) order[k] = static_cast<std::uint16_t>(k);
  std::sort(order.begin(), order.end(), [&](auto x, auto y) { return names[x] < names[y]; });
  std::vector<std::uint16_t> renumber(names.size() + 1, 0);
  std::vector<std::string> sorted;
  for (std::size_t k = 0; k < order.size(); ++k) {
    renumber[order[k] + 1u] = static_cast<std::uint16_t>(k + 1);
    sorted.push_back(std::move(names[order[k]]));
  }
  for (auto& id : ids) id = renumber[id];
  names = std::move(sorted);
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

// The newest vote event, settled: taken under the fence's exclusive lock
// (pg.hpp), so every transaction that drew an event up to it has finished and
// a snapshot taken after this returns sees all of them.
std::int64_t settled_vote_event(pqxx::connection& conn) {
  pqxx::work tx(conn);
  tx.exec_params("SELECT pg_advisory_xact_lock($1)", vote_event_fence_key);
  const auto event = tx.exec1(vote_event_value)[0].as<std::int64_t>();
  tx.commit();
  return event;
}

using read_only_snapshot =
    pqxx::transaction<pqxx::isolation_level::repeatable_read, pqxx::readwrite_policy::read_only>;


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
    // The event is settled before the snapshot opens, so the snapshot holds
    // every vote and flag up to it.
    out.last_vote_event = as_of ? *as_of : settled_vote_event(*conn);
    read_only_snapshot tx(*conn);
    // The votes counted as of event $1 (see the header); flagged_event is NULL
    // only for flags from before sql/0004: out at every event.
    const auto rows = tx.exec_params(
        "SELECT a.name, b.name, v.winner, coalesce(v.category, ''), coalesce(v.language, ''), "
        "coalesce(array_to_string(v.style_a, ','), ''), coalesce(array_to_string(v.style_b, ','), ''), "
        "v.sampling_probability, extract(epoch FROM v.created_at)::float8 "
        "FROM votes v JOIN models a ON a.id = v.model_a_id JOIN models b ON b.id = v.model_b_id WHERE " +
            std::string(counted_votes) + " ORDER BY v.vote_event, v.battle_id",
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
    std::set<std::string> playing;
    for (const auto& v : out.votes) {
      playing.insert(v.model_a);
      playing.insert(v.model_b);
    }
    for (const auto& row : tx.exec("SELECT name, display_name, organization FROM models ORDER BY name"))
      if (playing.count(row[0].as<std::string>()) != 0)
        out.models.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>()});
    tx.commit();
  } catch (...) {
    rethrow_as_database_error("reading votes for the leaderboards");
  }
  return out;
}

namespace {

// The votes `where` selects, as columns in read_vote_columns' order, their
// models by name and tags sorted; `expected` sizes the columns up front.
vote_columns read_columns(read_only_snapshot& tx, const std::string& where, std::size_t expected) {
  vote_columns out;
  auto& event = out.event;
  std::unordered_map<std::size_t, std::string> legacy_id;  // row -> battle id, for votes without an event
  std::vector<std::int64_t> model_ids;                       // index -> models.id, first seen first
  std::unordered_map<std::int64_t, ranked_model> models;
  for (const auto& row : tx.exec("SELECT id, name, display_name, organization FROM models"))
    models[row[0].as<std::int64_t>()] = {row[1].as<std::string>(), row[2].as<std::string>(), row[3].as<std::string>()};
  // models.id -> index, as a flat table: ids are a small identity range, and
  // a hash lookup per vote and side was a third of the read's time.
  std::int64_t max_id = 0;
  for (const auto& [id, model] : models) max_id = std::max(max_id, id);
  std::vector<std::uint32_t> model_index(static_cast<std::size_t>(max_id) + 1, ~0u);
  const auto index_of = [&](std::int64_t id) {
    if (id < 0 || id > max_id) throw database_error(fmt::format("reading votes: no model with id {}", id));
    auto& index = model_index[static_cast<std::size_t>(id)];
    if (index == ~0u) {
      index = static_cast<std::uint32_t>(model_ids.size());
      model_ids.push_back(id);
    }
    return index;
  };
  std::map<std::string, std::uint16_t, std::less<>> category_index, language_index;
  // Growing columns of millions of rows by doubling copied each several times.
  for (auto* column : {&out.model_a, &out.model_b}) column->reserve(expected);
  for (auto* column : {&out.category, &out.language}) column->reserve(expected);
  for (auto* column : {&out.style_a, &out.style_b}) column->reserve(expected);
  out.winner.reserve(expected);
  out.sampling_probability.reserve(expected);
  event.reserve(expected);
  // COPY (query) TO STDOUT: libpqxx 6 puts stream_from's table name into
  // the COPY statement as given, so a parenthesised query streams its rows
  // as text lines, without holding them all in one result (libpqxx 7 names
  // this stream_from::query). The integration tests read through it.
  pqxx::stream_from stream(
      tx, fmt::format("(SELECT v.vote_event, v.model_a_id, v.model_b_id, "
                      "CASE v.winner WHEN 'model_a' THEN 0 WHEN 'model_b' THEN 1 WHEN 'tie' THEN 2 ELSE 3 END, "
                      "coalesce(v.category, ''), coalesce(v.language, ''), v.style_a, v.style_b, "
                      "v.sampling_probability, CASE WHEN v.vote_event IS NULL THEN v.battle_id::text END "
                      "FROM votes v WHERE {})",
                      where));
  std::string line;
  std::string_view field[10];
  std::string category, language;
  while (stream.get_raw_line(line)) {
    std::size_t n = 0, from = 0;
    for (std::size_t k = 0; k <= line.size() && n < 10; ++k)
      if (k == line.size() || line[k] == '\t') {
        field[n++] = std::string_view(line).substr(from, k - from);
        from = k + 1;
      }
    if (n != 10) throw database_error(fmt::format("reading votes: a row with {} columns, expected 10", n));
    const std::size_t row = event.size();
    event.push_back(field[0] == "\\N" ? vote_columns::no_event : number<std::int64_t>(field[0]));
    if (field[9] != "\\N") legacy_id.emplace(row, std::string(field[9]));
    out.model_a.push_back(index_of(number<std::int64_t>(field[1])));
    out.model_b.push_back(index_of(number<std::int64_t>(field[2])));
    out.winner.push_back(static_cast<std::uint8_t>(number<int>(field[3])));
    out.category.push_back(tag_index(out.categories, category_index, copy_text_unescaped(field[4], category)));
    out.language.push_back(tag_index(out.languages, language_index, copy_text_unescaped(field[5], language)));
    out.style_a.push_back(style_from_array(field[6]));
    out.style_b.push_back(style_from_array(field[7]));
    out.sampling_probability.push_back(field[8] == "\\N" ? std::nan("") : number<double>(field[8]));
  }
  stream.complete();
  for (const auto id : model_ids) out.models.push_back(models[id]);

  // Votes by (event, battle id), the order read_votes gives. Sorted here,
  // since PostgreSQL's sort of millions of rows took longer than the scan.
  const std::size_t n = event.size();
  std::vector<std::uint32_t> order(n);
  for (std::size_t k = 0; k < n; ++k) order[k] = static_cast<std::uint32_t>(k);
  const auto before = [&](std::uint32_t x, std::uint32_t y) {
    if (event[x] != event[y]) return event[x] < event[y];
    const auto ix = legacy_id.find(x), iy = legacy_id.find(y);
    return ix != legacy_id.end() && iy != legacy_id.end() && ix->second < iy->second;
  };
  if (!std::is_sorted(order.begin(), order.end(), before)) {
    std::sort(order.begin(), order.end(), before);
    const auto permute = [&](auto& column) {
      std::remove_reference_t<decltype(column)> sorted(n);
      for (std::size_t k = 0; k < n; ++k) sorted[k] = column[order[k]];
      column = std::move(sorted);
    };
    permute(event);
    permute(out.model_a);
    permute(out.model_b);
    permute(out.winner);
    permute(out.category);
    permute(out.language);
    permute(out.style_a);
    permute(out.style_b);
    permute(out.sampling_probability);
  }
  // Models by name, as read_votes lists them.
  std::vector<std::uint32_t> by_name(out.models.size());
  for (std::size_t k = 0; k < by_name.size(); ++k) by_name[k] = static_cast<std::uint32_t>(k);
  std::sort(by_name.begin(), by_name.end(), [&](auto x, auto y) { return out.models[x].name < out.models[y].name; });
  std::vector<std::uint32_t> renumber(by_name.size());
  std::vector<ranked_model> sorted_models;
  for (std::size_t k = 0; k < by_name.size(); ++k) {
    renumber[by_name[k]] = static_cast<std::uint32_t>(k);
    sorted_models.push_back(std::move(out.models[by_name[k]]));
  }
  out.models = std::move(sorted_models);
  for (auto& m : out.model_a) m = renumber[m];
  for (auto& m : out.model_b) m = renumber[m];
  sort_tags(out.categories, out.category);
  sort_tags(out.languages, out.language);
  return out;
}

}  // namespace

vote_columns leaderboard_store::read_vote_columns(std::optional<std::int64_t> as_of) const {
  auto conn = impl_->pool.acquire();
  try {
    const std::int64_t event = as_of ? *as_of : settled_vote_event(*conn);
    read_only_snapshot tx(*conn);
    // Sized from the planner's row estimate.
    const auto estimate = static_cast<std::size_t>(std::max<std::int64_t>(
        0, tx.exec1("SELECT reltuples::bigint FROM pg_class WHERE oid = 'votes'::regclass")[0].as<std::int64_t>()));
    auto out = read_columns(tx, counted_as_of(event), estimate);
    tx.commit();
    out.last_vote_event = event;
    return out;
  } catch (const database_error&) {
    throw;
  } catch (...) {
    rethrow_as_database_error("reading votes for the leaderboards");
  }
}

vote_changes leaderboard_store::read_vote_changes(std::int64_t after) const {
  auto conn = impl_->pool.acquire();
  try {
    vote_changes out;
    out.after = after;
    out.last_vote_event = settled_vote_event(*conn);
    read_only_snapshot tx(*conn);
    const auto to = std::to_string(out.last_vote_event), from = std::to_string(after);
    // Both reads go by index: votes_vote_event, and the partial votes_flagged_event (sql/0007).
    out.added = read_columns(tx, counted_as_of(out.last_vote_event) + " AND v.vote_event > " + from, 0);
    out.added.last_vote_event = out.last_vote_event;
    for (const auto& row : tx.exec("SELECT vote_event FROM votes WHERE flagged_event > " + from +
                                   " AND flagged_event <= " + to + " AND (vote_event IS NULL OR vote_event <= " +
                                   from + ") ORDER BY vote_event"))
      if (row[0].is_null())
        ++out.removed_without_event;
      else
        out.removed.push_back(row[0].as<std::int64_t>());
    for (const auto& row : tx.exec("SELECT name, display_name, organization FROM models ORDER BY name"))
      out.models.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>()});
    tx.commit();
    return out;
  } catch (const database_error&) {
    throw;
  } catch (...) {
    rethrow_as_database_error("reading the votes changed since the last leaderboards");
  }
}

vote_columns leaderboard_store::read_counted_outcomes() const {
  auto conn = impl_->pool.acquire();
  vote_columns out;
  try {
    out.last_vote_event = settled_vote_event(*conn);
    read_only_snapshot tx(*conn);
    // The totals are the snapshot's, which may hold a vote or flag committed
    // after E was settled: those few (found by index) are taken back out, so
    // the totals are the votes counted as of E, as read_vote_columns reads them.
    const auto rows = tx.exec_params(
        "SELECT a.name, b.name, a.display_name, a.organization, b.display_name, b.organization, c.winner, c.votes "
        "FROM (SELECT model_a_id, model_b_id, winner, sum(votes)::bigint AS votes FROM ("
        "  SELECT model_a_id, model_b_id, winner, votes FROM pair_outcome_counts WHERE votes > 0"
        "  UNION ALL SELECT model_a_id, model_b_id, winner, -1 FROM votes WHERE vote_event > $1 AND flagged_event IS NULL"
        "  UNION ALL SELECT model_a_id, model_b_id, winner, 1 FROM votes WHERE flagged_event > $1"
        "    AND (vote_event IS NULL OR vote_event <= $1)) t "
        "GROUP BY 1, 2, 3 HAVING sum(votes) > 0) c JOIN models a ON a.id = c.model_a_id JOIN models b ON b.id = c.model_b_id",
        out.last_vote_event);
    tx.commit();
    std::map<std::string, ranked_model> playing;
    for (const auto& row : rows) {
      playing.try_emplace(row[0].as<std::string>(), ranked_model{row[0].as<std::string>(), row[2].as<std::string>(),
                                                                 row[3].as<std::string>()});
      playing.try_emplace(row[1].as<std::string>(), ranked_model{row[1].as<std::string>(), row[4].as<std::string>(),
                                                                 row[5].as<std::string>()});
    }
    std::map<std::string, std::uint32_t, std::less<>> index;
    for (auto& [name, model] : playing) {
      index.emplace(name, static_cast<std::uint32_t>(out.models.size()));
      out.models.push_back(std::move(model));
    }
    for (const auto& row : rows) {
      const auto a = index.find(std::string_view(row[0].c_str(), row[0].size()))->second;
      const auto b = index.find(std::string_view(row[1].c_str(), row[1].size()))->second;
      const std::string_view w(row[6].c_str(), row[6].size());
      const std::uint8_t winner = w == "model_a" ? 0 : w == "model_b" ? 1 : w == "tie" ? 2 : 3;
      for (auto n = row[7].as<std::int64_t>(); n > 0; --n) {
        out.model_a.push_back(a);
        out.model_b.push_back(b);
        out.winner.push_back(winner);
      }
    }
  } catch (...) {
    rethrow_as_database_error("reading the vote totals for the overall leaderboard");
  }
  const std::size_t n = out.winner.size();
  out.category.assign(n, 0);
  out.language.assign(n, 0);
  out.style_a.assign(n, {});
  out.style_b.assign(n, {});
  out.sampling_probability.assign(n, std::nan(""));
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

std::vector<std::int64_t> leaderboard_store::insert_snapshots(const std::vector<new_snapshot>& snapshots,
                                                             other_variants others) {
  auto conn = impl_->pool.acquire();
  std::vector<std::int64_t> ids;
  try {
    pqxx::work tx(*conn);
    for (const auto& s : snapshots) {
      ids.push_back(tx.exec_params1(
                          "INSERT INTO leaderboard_snapshots (category, language, style_control, vote_count, "
                          "last_vote_event, computed_by, seed, parameters, body) "
                          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb) RETURNING id",
                          s.category, s.language, s.style_control, s.vote_count, s.last_vote_event, s.computed_by,
                          s.seed, s.parameters_json, s.body_json)[0]
                        .as<std::int64_t>());
      tx.exec_params(
          "INSERT INTO leaderboard_latest (category, language, style_control, snapshot_id) VALUES ($1, $2, $3, $4) "
          "ON CONFLICT (category, language, style_control) DO UPDATE SET snapshot_id = EXCLUDED.snapshot_id",
          s.category, s.language, s.style_control, ids.back());
    }
    if (others == other_variants::retired) {
      // The overall plain board is stored on its own, first: it stays.
      std::string keep = "'{}'::bigint[]";
      if (!ids.empty()) {
        keep = "ARRAY[";
        for (std::size_t k = 0; k < ids.size(); ++k) keep += (k ? "," : "") + std::to_string(ids[k]);
        keep += "]::bigint[]";
      }
      tx.exec("DELETE FROM leaderboard_latest WHERE NOT (category = '' AND language = '' AND NOT style_control) "
              "AND snapshot_id <> ALL (" + keep + ")");
    }
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

std::vector<snapshot_record> leaderboard_store::latest_snapshots(const std::set<std::int64_t>& loaded) const {
  auto conn = impl_->pool.acquire();
  std::vector<snapshot_record> out;
  try {
    pqxx::read_transaction tx(*conn);
    // leaderboard_latest names each variant's served board (sql/0007).
    for (const auto& row : tx.exec(
             "SELECT l.snapshot_id, l.category, l.language, l.style_control FROM leaderboard_latest l ORDER BY 1")) {
      snapshot_record s;
      s.id = row[0].as<std::int64_t>();
      s.category = row[1].as<std::string>();
      s.language = row[2].as<std::string>();
      s.style_control = row[3].as<bool>();
      out.push_back(std::move(s));
    }
    std::string wanted;
    for (const auto& s : out)
      if (loaded.count(s.id) == 0) wanted += (wanted.empty() ? "" : ",") + std::to_string(s.id);
    if (!wanted.empty()) {
      std::map<std::int64_t, snapshot_record> read;
      for (const auto& row : tx.exec(fmt::format("SELECT {} FROM leaderboard_snapshots WHERE id IN ({})",
                                                 snapshot_columns, wanted))) {
        auto s = snapshot_from_row(row);
        read.emplace(s.id, std::move(s));
      }
      for (auto& s : out)
        if (const auto it = read.find(s.id); it != read.end()) s = std::move(it->second);
    }
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
