#include "arena/store/arena_store.hpp"

#include <fmt/format.h>

#include <cctype>

#include "arena/store/pg.hpp"
#include "arena/store/pool.hpp"
#include "common/error.hpp"

namespace huashan::arena::store {
namespace {

bool is_uuid(const std::string& text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? text[i] != '-' : !std::isxdigit(static_cast<unsigned char>(text[i]))) return false;
  }
  return true;
}

void require_battle_id(const std::string& id) {
  if (!is_uuid(id)) throw not_found_error(fmt::format("no battle '{}' (a battle id is a UUID)", id.substr(0, 64)));
}

void validate(const model_record& m) {
  if (!valid_model_name(m.name)) throw input_error(fmt::format("model name '{}' {}", m.name, model_name_rule));
  if (!valid_model_backend(m.backend))
    throw input_error(fmt::format("model '{}': backend '{}' is not one of local, openai", m.name, m.backend));
}

constexpr const char* model_columns =
    "id, name, display_name, organization, license, backend, backend_config::text, enabled";

model_record model_from_row(const pqxx::row& row) {
  model_record m;
  m.id = row[0].as<std::int64_t>();
  m.name = row[1].as<std::string>();
  m.display_name = row[2].as<std::string>();
  m.organization = row[3].as<std::string>();
  m.license = row[4].as<std::string>();
  m.backend = row[5].as<std::string>();
  m.backend_config_json = row[6].as<std::string>();
  m.enabled = row[7].as<bool>();
  return m;
}

std::string style_literal(const style_vector& s) { return fmt::format("{{{},{},{},{}}}", s[0], s[1], s[2], s[3]); }

// Adds `delta` votes to the counts row of a battle's pair/outcome; returns
// the vote event the change draws (votes.vote_event / battles.flagged_event).
std::int64_t add_to_counts(pqxx::work& tx, const pqxx::row& battle, const std::string& winner, int delta) {
  if (delta < 0) {
    // Taking a vote back: its row exists (the vote added it).
    tx.exec_params(
        "UPDATE pair_outcome_counts SET votes = votes + $6 WHERE model_a_id = $1 AND model_b_id = $2 "
        "AND category = $3 AND language = $4 AND winner = $5",
        battle[0].as<std::int64_t>(), battle[1].as<std::int64_t>(), battle[2].as<std::string>(),
        battle[3].as<std::string>(), winner, delta);
  } else {
    tx.exec_params(
        "INSERT INTO pair_outcome_counts (model_a_id, model_b_id, category, language, winner, votes) "
        "VALUES ($1, $2, $3, $4, $5, $6) "
        "ON CONFLICT (model_a_id, model_b_id, category, language, winner) "
        "DO UPDATE SET votes = pair_outcome_counts.votes + EXCLUDED.votes",
        battle[0].as<std::int64_t>(), battle[1].as<std::int64_t>(), battle[2].as<std::string>(),
        battle[3].as<std::string>(), winner, delta);
  }
  // Held to commit, so a board read as of an event sees every change up to it (pg.hpp).
  tx.exec_params("SELECT pg_advisory_xact_lock_shared($1)", vote_event_fence_key);
  return tx.exec1("SELECT nextval('vote_events')")[0].as<std::int64_t>();
}

// The newest vote event drawn (0 before the first), without drawing one.
std::int64_t current_vote_event(pqxx::work& tx) {
  return tx.exec1("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM vote_events")[0].as<std::int64_t>();
}

std::vector<pair_outcome_row> counts_from(const pqxx::result& rows) {
  std::vector<pair_outcome_row> out;
  out.reserve(rows.size());
  for (const auto& row : rows)
    out.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(),
                   row[3].as<std::string>(), row[4].as<std::string>(), row[5].as<std::int64_t>()});
  return out;
}

}  // namespace

struct arena_store::impl {
  connection_pool pool;
  explicit impl(const store_options& o) : pool(o.url, o.pool_size, o.acquire_timeout) {}
};

arena_store::arena_store(store_options options) : impl_(std::make_unique<impl>(options)) {}
arena_store::~arena_store() = default;

std::vector<model_record> arena_store::upsert_models(const std::vector<model_record>& models, enabled_rule rule) {
  for (const auto& m : models) validate(m);
  auto conn = impl_->pool.acquire();
  std::vector<model_record> out;
  try {
    pqxx::work tx(*conn);
    for (const auto& m : models) {
      const auto row = tx.exec_params1(
          fmt::format("INSERT INTO models (name, display_name, organization, license, backend, backend_config, enabled) "
                      "VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7) "
                      "ON CONFLICT (name) DO UPDATE SET display_name = EXCLUDED.display_name, "
                      "organization = EXCLUDED.organization, license = EXCLUDED.license, "
                      "backend = EXCLUDED.backend, backend_config = EXCLUDED.backend_config, "
                      "enabled = {}, updated_at = now() RETURNING {}",
                      rule == enabled_rule::set ? "EXCLUDED.enabled" : "EXCLUDED.enabled AND models.enabled",
                      model_columns),
          m.name, m.display_name.empty() ? m.name : m.display_name, m.organization, m.license, m.backend,
          m.backend_config_json.empty() ? "{}" : m.backend_config_json, m.enabled);
      out.push_back(model_from_row(row));
    }
    tx.commit();
  } catch (...) {
    rethrow_as_database_error("storing models");
  }
  return out;
}

model_record arena_store::insert_model(const model_record& m) {
  validate(m);
  auto conn = impl_->pool.acquire();
  try {
    pqxx::work tx(*conn);
    const auto row = tx.exec_params1(
        fmt::format("INSERT INTO models (name, display_name, organization, license, backend, backend_config, enabled) "
                    "VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7) RETURNING {}",
                    model_columns),
        m.name, m.display_name.empty() ? m.name : m.display_name, m.organization, m.license, m.backend,
        m.backend_config_json.empty() ? "{}" : m.backend_config_json, m.enabled);
    tx.commit();
    return model_from_row(row);
  } catch (const pqxx::unique_violation&) {
    // models.name is UNIQUE: the database, not a read before the insert, decides.
    throw conflict_error(fmt::format("a model named '{}' already exists; edit it instead of adding it again", m.name));
  } catch (...) {
    rethrow_as_database_error("adding model " + m.name);
  }
}

model_record arena_store::update_model(const std::string& name, const model_changes& c) {
  auto conn = impl_->pool.acquire();
  pqxx::result updated;
  try {
    pqxx::work tx(*conn);
    updated = tx.exec_params(
        // An empty display name shows the name, as when the model was stored.
        fmt::format("UPDATE models SET display_name = CASE WHEN $2::text IS NULL THEN display_name "
                    "WHEN $2::text = '' THEN name ELSE $2::text END, "
                    "organization = coalesce($3, organization), license = coalesce($4, license), "
                    "enabled = coalesce($5, enabled), updated_at = now() WHERE name = $1 RETURNING {}",
                    model_columns),
        name, c.display_name, c.organization, c.license, c.enabled);
    tx.commit();
  } catch (...) {
    rethrow_as_database_error("updating model " + name);
  }
  if (updated.empty()) throw not_found_error(fmt::format("no model named '{}'", name));
  return model_from_row(updated[0]);
}

std::vector<model_record> arena_store::list_models(bool enabled_only) const {
  auto conn = impl_->pool.acquire();
  std::vector<model_record> out;
  try {
    pqxx::read_transaction tx(*conn);
    for (const auto& row : tx.exec(fmt::format("SELECT {} FROM models {} ORDER BY name", model_columns,
                                               enabled_only ? "WHERE enabled" : "")))
      out.push_back(model_from_row(row));
  } catch (...) {
    rethrow_as_database_error("listing models");
  }
  return out;
}

void arena_store::set_model_enabled(const std::string& name, bool enabled) {
  auto conn = impl_->pool.acquire();
  pqxx::result updated;
  try {
    pqxx::work tx(*conn);
    updated = tx.exec_params("UPDATE models SET enabled = $2, updated_at = now() WHERE name = $1", name, enabled);
    tx.commit();
  } catch (...) {
    rethrow_as_database_error("updating model " + name);
  }
  if (updated.affected_rows() == 0) throw not_found_error(fmt::format("no model named '{}'", name));
}

std::string arena_store::create_battle(const new_battle& b) {
  if (b.model_a_id == b.model_b_id)
    throw input_error(fmt::format("a battle needs two different models (both sides are model {})", b.model_a_id));
  auto conn = impl_->pool.acquire();
  try {
    pqxx::work tx(*conn);
    const auto known = tx.exec_params1("SELECT count(*) FROM models WHERE id IN ($1, $2)", b.model_a_id, b.model_b_id);
    if (known[0].as<int>() != 2)
      throw input_error(fmt::format("battle models {} and {} are not both registered", b.model_a_id, b.model_b_id));
    const auto row = tx.exec_params1(
        "INSERT INTO battles (id, model_a_id, model_b_id, category, language, session_id, sampling_probability) "
        "VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6) RETURNING id::text",
        b.model_a_id, b.model_b_id, b.category, b.language, b.session_id, b.sampling_probability);
    tx.commit();
    return row[0].as<std::string>();
  } catch (...) {
    rethrow_as_database_error("creating a battle");
  }
}

void arena_store::record_turn(const battle_turn& t, const style_vector& style_a, const style_vector& style_b) {
  require_battle_id(t.battle_id);
  if (t.turn < 1) throw input_error(fmt::format("turn {} of battle {} must be >= 1", t.turn, t.battle_id));
  auto conn = impl_->pool.acquire();
  try {
    pqxx::work tx(*conn);
    const auto updated = tx.exec_params(
        "UPDATE battles SET answered_at = now(), "
        "style_a = CASE WHEN style_a IS NULL THEN $2::integer[] ELSE ARRAY[style_a[1] + ($2::integer[])[1], "
        "  style_a[2] + ($2::integer[])[2], style_a[3] + ($2::integer[])[3], style_a[4] + ($2::integer[])[4]] END, "
        "style_b = CASE WHEN style_b IS NULL THEN $3::integer[] ELSE ARRAY[style_b[1] + ($3::integer[])[1], "
        "  style_b[2] + ($3::integer[])[2], style_b[3] + ($3::integer[])[3], style_b[4] + ($3::integer[])[4]] END "
        "WHERE id = $1::uuid",
        t.battle_id, style_literal(style_a), style_literal(style_b));
    if (updated.affected_rows() == 0) throw not_found_error(fmt::format("no battle with id {}", t.battle_id));
    tx.exec_params(
        "INSERT INTO battle_turns (battle_id, turn, prompt, answer_a, answer_b, tokens_a, tokens_b, latency_ms_a, "
        "latency_ms_b) VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8, $9)",
        t.battle_id, t.turn, t.prompt, t.answer_a, t.answer_b, t.tokens_a, t.tokens_b, t.latency_ms_a, t.latency_ms_b);
    tx.commit();
  } catch (...) {
    rethrow_as_database_error(fmt::format("storing turn {} of battle {}", t.turn, t.battle_id));
  }
}

void arena_store::flag_battle(const std::string& battle_id, const std::string& reason) {
  require_battle_id(battle_id);
  auto conn = impl_->pool.acquire();
  try {
    pqxx::work tx(*conn);
    const auto battle = tx.exec_params(
        "SELECT model_a_id, model_b_id, coalesce(category, ''), coalesce(language, ''), flagged "
        "FROM battles WHERE id = $1::uuid FOR UPDATE",
        battle_id);
    if (battle.empty()) throw not_found_error(fmt::format("no battle with id {}", battle_id));
    if (battle[0][4].as<bool>()) return;
    // A vote already counted leaves the counts with the flag, drawing the
    // event that dates the flag. Without a vote nothing counted changes: the
    // flag takes the current event (no recompute is due), and a later vote on
    // the battle takes one at least as high, so no snapshot counts it.
    const auto vote = tx.exec_params("SELECT winner FROM votes WHERE battle_id = $1::uuid", battle_id);
    const std::int64_t event = vote.empty() ? current_vote_event(tx)
                                            : add_to_counts(tx, battle[0], vote[0][0].as<std::string>(), -1);
    tx.exec_params("UPDATE battles SET flagged = true, flag_reason = $2, flagged_event = $3 WHERE id = $1::uuid",
                   battle_id, reason, event);
    tx.commit();
  } catch (...) {
    rethrow_as_database_error("flagging battle " + battle_id);
  }
}

std::optional<std::chrono::system_clock::time_point> arena_store::answered_at(const std::string& battle_id) const {
  require_battle_id(battle_id);
  auto conn = impl_->pool.acquire();
  try {
    pqxx::read_transaction tx(*conn);
    const auto rows =
        tx.exec_params("SELECT extract(epoch FROM answered_at)::float8 FROM battles WHERE id = $1::uuid", battle_id);
    if (rows.empty()) throw not_found_error(fmt::format("no battle with id {}", battle_id));
    if (rows[0][0].is_null()) return std::nullopt;
    const auto micros = static_cast<std::int64_t>(rows[0][0].as<double>() * 1e6);
    return std::chrono::system_clock::time_point(std::chrono::microseconds(micros));
  } catch (...) {
    rethrow_as_database_error("reading battle " + battle_id);
  }
}

vote_result arena_store::record_vote(const vote_request& v) {
  require_battle_id(v.battle_id);
  auto conn = impl_->pool.acquire();
  vote_result result;
  try {
    pqxx::work tx(*conn);
    // Columns 5-6 serve the require_* checks: the owner, and the milliseconds
    // since its last answer by the database's clock (null before any answer).
    const auto battle = tx.exec_params(
        "SELECT model_a_id, model_b_id, coalesce(category, ''), coalesce(language, ''), flagged, "
        "coalesce(session_id, ''), floor(extract(epoch FROM now() - answered_at) * 1000)::bigint "
        "FROM battles WHERE id = $1::uuid",
        v.battle_id);
    if (battle.empty()) throw not_found_error(fmt::format("no battle with id {}", v.battle_id));
    if (v.require_session && battle[0][5].as<std::string>() != *v.require_session)
      throw not_found_error(fmt::format("no battle {} in this session", v.battle_id));
    if (v.require_answered_before) {
      // A battle with a vote passed this check when it was voted on (answers stop once it has a vote).
      // Failed answers are never stored, so a stored answer is a complete one.
      const bool answered = !battle[0][6].is_null();
      require_votable({answered, false,
                       std::chrono::milliseconds(answered ? battle[0][6].as<std::int64_t>() : 0)},
                      *v.require_answered_before);
    }
    const auto inserted = tx.exec_params(
        "INSERT INTO votes (battle_id, winner, voter_id, client_addr) VALUES ($1::uuid, $2, $3, $4::inet) "
        "ON CONFLICT (battle_id) DO NOTHING RETURNING winner",
        v.battle_id, std::string(winner_name(v.choice)), v.voter_id, v.client_address);
    if (!inserted.empty()) {
      result.recorded_now = true;
      result.winner = inserted[0][0].as<std::string>();
      // The vote's event: the one its count draws; a vote on a flagged battle
      // counts nowhere and draws none, so it takes the sequence's current value
      // (at least the flag's event: never counted by a snapshot before the flag).
      const std::int64_t event = !battle[0][4].as<bool>()
                                     ? add_to_counts(tx, battle[0], result.winner, +1)
                                     : current_vote_event(tx);
      tx.exec_params("UPDATE votes SET vote_event = $2 WHERE battle_id = $1::uuid", v.battle_id, event);
    } else {
      // A repeat of the stored vote is a retry and gets its reply; another
      // choice would change a vote, which no one may.
      result.winner = tx.exec_params1("SELECT winner FROM votes WHERE battle_id = $1::uuid", v.battle_id)[0]
                          .as<std::string>();
      if (result.winner != winner_name(v.choice))
        throw conflict_error(fmt::format("battle {} already has a different vote; a vote cannot be changed",
                                         v.battle_id));
    }
    const auto models = tx.exec_params(fmt::format("SELECT {} FROM models WHERE id IN ($1, $2)", model_columns),
                                       battle[0][0].as<std::int64_t>(), battle[0][1].as<std::int64_t>());
    for (const auto& row : models) {
      auto m = model_from_row(row);
      if (m.id == battle[0][0].as<std::int64_t>()) result.model_a = m;
      if (m.id == battle[0][1].as<std::int64_t>()) result.model_b = m;
    }
    tx.commit();  // acknowledged only after this returns
  } catch (...) {
    rethrow_as_database_error("recording the vote on battle " + v.battle_id);
  }
  return result;
}

std::vector<pair_outcome_row> arena_store::pair_outcome_counts() const {
  auto conn = impl_->pool.acquire();
  try {
    pqxx::read_transaction tx(*conn);
    return counts_from(tx.exec(
        "SELECT a.name, b.name, c.category, c.language, c.winner, c.votes FROM pair_outcome_counts c "
        "JOIN models a ON a.id = c.model_a_id JOIN models b ON b.id = c.model_b_id WHERE c.votes > 0 "
        "ORDER BY 1, 2, 3, 4, 5"));
  } catch (...) {
    rethrow_as_database_error("reading pair outcome counts");
  }
}

std::vector<pair_outcome_row> arena_store::pair_outcome_counts_from_votes() const {
  auto conn = impl_->pool.acquire();
  try {
    pqxx::read_transaction tx(*conn);
    return counts_from(tx.exec(
        "SELECT a.name, b.name, coalesce(t.category, ''), coalesce(t.language, ''), v.winner, count(*) "
        "FROM votes v JOIN battles t ON t.id = v.battle_id "
        "JOIN models a ON a.id = t.model_a_id JOIN models b ON b.id = t.model_b_id "
        "WHERE NOT t.flagged GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5"));
  } catch (...) {
    rethrow_as_database_error("counting votes");
  }
}

std::int64_t arena_store::vote_events() const {
  auto conn = impl_->pool.acquire();
  try {
    pqxx::read_transaction tx(*conn);
    const auto row = tx.exec1("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM vote_events");
    return row[0].as<std::int64_t>();
  } catch (...) {
    rethrow_as_database_error("reading the vote event counter");
  }
}

}  // namespace huashan::arena::store
