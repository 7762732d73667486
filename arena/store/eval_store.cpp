#include "arena/store/eval_store.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include "arena/store/pg.hpp"
#include "arena/store/pool.hpp"
#include "common/error.hpp"

namespace huashan::arena::store {

namespace json = boost::json;

namespace {

constexpr const char* iso_utc = "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'";

std::string optional_text(const pqxx::field& f) { return f.is_null() ? std::string() : f.as<std::string>(); }

std::string number_text(const std::optional<double>& x) { return x ? fmt::format("{}", *x) : std::string(); }

std::optional<double> optional_double(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<double>();
}

// The models a worker runs, one per line (SQL splits them; empty = any).
std::string model_list(const std::vector<std::string>& models) {
  std::string out;
  for (const auto& m : models) {
    if (!out.empty()) out += '\n';
    out += m;
  }
  return out;
}

std::int64_t lease_ms(std::chrono::milliseconds lease) { return std::max<std::int64_t>(1, lease.count()); }

shard_lease lease_from_row(const pqxx::row& row) {
  shard_lease s;
  s.shard_id = row[0].as<std::int64_t>();
  s.run_id = row[1].as<std::int64_t>();
  s.model = row[2].as<std::string>();
  s.task = row[3].as<std::string>();
  s.doc_begin = row[4].as<std::int32_t>();
  s.doc_end = row[5].as<std::int32_t>();
  s.settings_json = row[6].as<std::string>();
  s.lease_token = optional_text(row[7]);
  s.attempts = row[8].as<std::int32_t>();
  return s;
}

constexpr const char* lease_columns =
    "s.id, s.run_id, r.model, s.task, s.doc_begin, s.doc_end, r.settings::text, s.lease_token, s.attempts";

// Checks, inside `tx`, that `token` holds the shard (locking it against a
// concurrent reclaim until the transaction ends) and returns it.
shard_lease held_shard(pqxx::work& tx, std::int64_t shard_id, const std::string& token) {
  const auto rows = tx.exec_params(fmt::format("SELECT {}, s.state FROM eval_shards s JOIN eval_runs r ON r.id = s.run_id "
                                               "WHERE s.id = $1 FOR SHARE OF s",
                                               lease_columns),
                                   shard_id);
  if (rows.empty()) throw not_found_error(fmt::format("no eval shard {}", shard_id));
  auto s = lease_from_row(rows[0]);
  const auto state = rows[0][9].as<std::string>();
  if (s.lease_token != token)
    throw conflict_error(fmt::format("eval shard {} is not held with this lease (it was handed to another worker "
                                     "after the lease expired, or the token is wrong)",
                                     shard_id));
  if (state == "failed") throw conflict_error(fmt::format("eval shard {} has failed: its run no longer takes answers", shard_id));
  return s;
}

// The fingerprint's id, added when new. A concurrent insert of the same
// digest commits after this statement's snapshot: the second try sees it.
std::int64_t fingerprint_row(pqxx::work& tx, const fingerprint_value& fp) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    const auto rows = tx.exec_params(
        "WITH added AS (INSERT INTO model_fingerprints (digest, kind, fields) VALUES ($1, $2, $3::jsonb) "
        "ON CONFLICT (digest) DO NOTHING RETURNING id) "
        "SELECT id FROM added UNION ALL SELECT id FROM model_fingerprints WHERE digest = $1 LIMIT 1",
        fp.digest, fp.kind, fp.fields_json);
    if (!rows.empty()) return rows[0][0].as<std::int64_t>();
  }
  throw database_error(fmt::format("model fingerprint {} could not be stored", fp.digest.substr(0, 16)));
}

void store_fingerprint(pqxx::work& tx, std::int64_t run_id, const fingerprint_value& fp) {
  // Every answers post carries the fingerprint: once the run has one, compare
  // without writing (an UPDATE would make a run's workers queue on its row).
  const auto current = tx.exec_params1("SELECT f.digest FROM eval_runs r LEFT JOIN model_fingerprints f "
                                       "ON f.id = r.fingerprint_id WHERE r.id = $1",
                                       run_id);
  if (!current[0].is_null()) {
    if (current[0].as<std::string>() != fp.digest)
      throw conflict_error(fmt::format("eval run {} was answered by a model with fingerprint {}; this one is {} "
                                       "(different weights or settings)",
                                       run_id, current[0].as<std::string>().substr(0, 16), fp.digest.substr(0, 16)));
    return;
  }
  const auto id = fingerprint_row(tx, fp);
  const auto row = tx.exec_params1(
      "UPDATE eval_runs SET fingerprint_id = coalesce(fingerprint_id, $2), "
      "fingerprint_fields = coalesce(fingerprint_fields, $3) WHERE id = $1 "
      "RETURNING fingerprint_id, (SELECT digest FROM model_fingerprints f WHERE f.id = eval_runs.fingerprint_id)",
      run_id, id, fp.fields_json);
  if (row[0].as<std::int64_t>() != id)
    throw conflict_error(fmt::format("eval run {} was answered by a model with fingerprint {}; this one is {} "
                                     "(different weights or settings)",
                                     run_id, optional_text(row[1]).substr(0, 16), fp.digest.substr(0, 16)));
}

void store_finished(pqxx::work& tx, std::int64_t run_id, const finished_run& f) {
  for (const auto& [task, jsonl] : f.samples)
    tx.exec_params("INSERT INTO eval_samples (run_id, task, samples) VALUES ($1, $2, $3) "
                   "ON CONFLICT (run_id, task) DO UPDATE SET samples = EXCLUDED.samples",
                   run_id, task, jsonl);
  for (const auto& m : f.metrics)
    tx.exec_params("INSERT INTO eval_metrics (run_id, task, is_group, metric, filter, value, stderr, n, higher_is_better) "
                   "VALUES ($1, $2, $3, $4, $5, NULLIF($6, '')::double precision, NULLIF($7, '')::double precision, $8, $9) "
                   "ON CONFLICT (run_id, task, metric, filter) DO NOTHING",
                   run_id, m.task, m.is_group, m.metric, m.filter, number_text(m.value), number_text(m.stderr_value), m.n,
                   m.higher_is_better);
  if (f.fingerprint) store_fingerprint(tx, run_id, *f.fingerprint);
}

}  // namespace

struct eval_store::impl {
  connection_pool pool;
  impl(std::string url, std::size_t size) : pool(std::move(url), size, std::chrono::milliseconds(5000)) {}
};

eval_store::eval_store(std::string url, std::size_t pool_size) : impl_(std::make_unique<impl>(std::move(url), pool_size)) {}
eval_store::~eval_store() = default;

std::int64_t eval_store::create_queued_run(const std::string& model, const std::string& suites_json,
                                           const std::string& settings_json, const std::vector<new_shard>& shards) {
  auto conn = impl_->pool.acquire();
  try {
    pqxx::work tx(*conn);
    const auto id = tx.exec_params1("INSERT INTO eval_runs (model, suites, settings, source, state) "
                                    "VALUES ($1, $2::jsonb, $3::jsonb, 'queue', 'queued') RETURNING id",
                                    model, suites_json, settings_json)[0]
                        .as<std::int64_t>();
    json::array rows;
    for (const auto& s : shards) rows.emplace_back(json::object{{"task", s.task}, {"b", s.doc_begin}, {"e", s.doc_end}});
    tx.exec_params("INSERT INTO eval_shards (run_id, task, doc_begin, doc_end) "
                   "SELECT $1, x.task, x.b, x.e FROM json_to_recordset($2::json) AS x(task text, b int, e int)",
                   id, json::serialize(rows));
    tx.commit();
    return id;
  } catch (...) {
    rethrow_as_database_error("queueing an eval run");
  }
}

std::optional<shard_lease> eval_store::claim_shard(const std::string& worker, const std::vector<std::string>& models,
                                                   std::chrono::milliseconds lease, std::int32_t max_attempts) {
  auto conn = impl_->pool.acquire();
  try {
    pqxx::work tx(*conn);
    // Shards leased too often (a worker that dies on them) fail rather than
    // poison every worker; their run fails with them.
    const auto failed = tx.exec_params(
        "UPDATE eval_shards SET state = 'failed' WHERE id IN (SELECT id FROM eval_shards "
        "WHERE state = 'leased' AND lease_expires < now() AND attempts >= $1 FOR UPDATE SKIP LOCKED) RETURNING run_id, id",
        max_attempts);
    for (const auto& row : failed)
      tx.exec_params("UPDATE eval_runs SET state = 'failed', finished_at = now(), "
                     "failure = format('shard %s was leased %s times without finishing', $2::bigint, $3::int) "
                     "WHERE id = $1 AND state IN ('queued', 'running')",
                     row[0].as<std::int64_t>(), row[1].as<std::int64_t>(), max_attempts);
    const auto rows = tx.exec_params(
        fmt::format(
            "WITH next AS (SELECT s.id FROM eval_shards s JOIN eval_runs r ON r.id = s.run_id "
            "  WHERE (s.state = 'queued' OR (s.state = 'leased' AND s.lease_expires < now())) "
            "    AND r.state IN ('queued', 'running') "
            "    AND ($2 = '' OR r.model = ANY (string_to_array($2, E'\\n'))) "
            "  ORDER BY s.id LIMIT 1 FOR UPDATE OF s SKIP LOCKED), "
            "leased AS (UPDATE eval_shards s SET state = 'leased', lease_token = gen_random_uuid()::text, worker = $1, "
            "  lease_expires = now() + $3 * interval '1 millisecond', attempts = s.attempts + 1 "
            "  FROM next WHERE s.id = next.id RETURNING s.*) "
            "SELECT {} FROM leased s JOIN eval_runs r ON r.id = s.run_id",
            lease_columns),
        worker, model_list(models), lease_ms(lease));
    if (rows.empty()) {
      tx.commit();
      return std::nullopt;
    }
    auto s = lease_from_row(rows[0]);
    tx.exec_params("UPDATE eval_runs SET state = 'running' WHERE id = $1 AND state = 'queued'", s.run_id);
    tx.commit();
    return s;
  } catch (...) {
    rethrow_as_database_error("leasing an eval shard");
  }
}

void eval_store::extend_lease(std::int64_t shard_id, const std::string& token, std::chrono::milliseconds lease) {
  auto conn = impl_->pool.acquire();
  try {
    pqxx::work tx(*conn);
    const auto s = held_shard(tx, shard_id, token);
    tx.exec_params("UPDATE eval_shards SET lease_expires = now() + $2 * interval '1 millisecond' "
                   "WHERE id = $1 AND state = 'leased'",
                   s.shard_id, lease_ms(lease));
    tx.commit();
  } catch (const input_error&) {
    throw;
  } catch (...) {
    rethrow_as_database_error(fmt::format("extending the lease of eval shard {}", shard_id));
  }
}

shard_lease eval_store::shard(std::int64_t shard_id) {
  auto conn = impl_->pool.acquire();
  try {
    pqxx::work tx(*conn);
    const auto rows = tx.exec_params(
        fmt::format("SELECT {} FROM eval_shards s JOIN eval_runs r ON r.id = s.run_id WHERE s.id = $1", lease_columns),
        shard_id);
    if (rows.empty()) throw not_found_error(fmt::format("no eval shard {}", shard_id));
    return lease_from_row(rows[0]);
  } catch (const input_error&) {
    throw;
  } catch (...) {
    rethrow_as_database_error(fmt::format("reading eval shard {}", shard_id));
  }
}

eval_store::items_stored eval_store::store_items(std::int64_t shard_id, const std::string& token,
                                                 const fingerprint_value& fingerprint,
                                                 const std::vector<item_answer>& items) {
  auto conn = impl_->pool.acquire();
  try {
    pqxx::work tx(*conn);
    const auto s = held_shard(tx, shard_id, token);
    store_fingerprint(tx, s.run_id, fingerprint);
    json::array rows;
    for (const auto& item : items)
      rows.emplace_back(
          json::object{{"task", item.task}, {"doc", item.doc_id}, {"answer", item.answer}, {"sha", item.answer_sha256}});
    const auto rows_text = json::serialize(rows);
    const auto differing = tx.exec_params(
        "SELECT x.task, x.doc FROM json_to_recordset($2::json) AS x(task text, doc int, sha text) "
        "JOIN eval_items i ON i.run_id = $1 AND i.task = x.task AND i.doc_id = x.doc "
        "WHERE i.answer_sha256 <> x.sha ORDER BY x.task, x.doc LIMIT 1",
        s.run_id, rows_text);
    if (!differing.empty())
      throw conflict_error(fmt::format("eval run {} already has a different answer for task '{}' document {}; "
                                       "an item is stored once and never changed",
                                       s.run_id, differing[0][0].as<std::string>(), differing[0][1].as<std::int32_t>()));
    const auto inserted = tx.exec_params(
        "INSERT INTO eval_items (run_id, task, doc_id, shard_id, answer, answer_sha256) "
        "SELECT $1, x.task, x.doc, $2, x.answer, x.sha "
        "FROM json_to_recordset($3::json) AS x(task text, doc int, answer text, sha text) "
        "ON CONFLICT (run_id, task, doc_id) DO NOTHING",
        s.run_id, shard_id, rows_text);
    tx.commit();
    items_stored out;
    out.stored = static_cast<std::int64_t>(inserted.affected_rows());
    out.unchanged = static_cast<std::int64_t>(items.size()) - out.stored;
    return out;
  } catch (const input_error&) {
    throw;
  } catch (...) {
    rethrow_as_database_error(fmt::format("storing the answers of eval shard {}", shard_id));
  }
}

eval_store::shard_completion eval_store::complete_shard(std::int64_t shard_id, const std::string& token,
                                                        const std::string& records_json) {
  auto conn = impl_->pool.acquire();
  try {
    pqxx::work tx(*conn);
    const auto s = held_shard(tx, shard_id, token);
    const auto have = tx.exec_params1("SELECT count(*) FROM eval_items WHERE run_id = $1 AND task = $2 "
                                      "AND doc_id >= $3 AND doc_id < $4",
                                      s.run_id, s.task, s.doc_begin, s.doc_end)[0]
                          .as<std::int64_t>();
    const std::int64_t want = s.doc_end - s.doc_begin;
    if (have != want)
      throw conflict_error(fmt::format("eval shard {} has {} of its {} items stored; post the rest before completing it",
                                       shard_id, have, want));
    tx.exec_params("UPDATE eval_shards SET state = 'done', records = $2, completed_at = coalesce(completed_at, now()) "
                   "WHERE id = $1",
                   shard_id, records_json);
    tx.commit();
    // Counted after the commit, in a fresh snapshot: of two last shards
    // completed at once, the one committed second sees both done (a count
    // inside each transaction would see the other's shard open, and neither
    // would finish the run).
    pqxx::read_transaction after(*conn);
    const auto open = after.exec_params1("SELECT count(*) FROM eval_shards WHERE run_id = $1 AND state <> 'done'", s.run_id)[0]
                          .as<std::int64_t>();
    return {s.run_id, open == 0};
  } catch (const input_error&) {
    throw;
  } catch (...) {
    rethrow_as_database_error(fmt::format("completing eval shard {}", shard_id));
  }
}

std::optional<eval_run_record> eval_store::run(std::int64_t run_id) {
  auto conn = impl_->pool.acquire();
  try {
    pqxx::work tx(*conn);
    const auto rows = tx.exec_params(
        fmt::format("SELECT r.id, r.model, r.suites::text, r.settings::text, r.source, r.state, f.digest, r.results, "
                    "r.failure, to_char(r.created_at AT TIME ZONE 'UTC', {0}), extract(epoch FROM r.created_at)::float8, "
                    "to_char(r.finished_at AT TIME ZONE 'UTC', {0}), f.kind, coalesce(r.fingerprint_fields, f.fields::text) "
                    "FROM eval_runs r LEFT JOIN model_fingerprints f ON f.id = r.fingerprint_id WHERE r.id = $1",
                    iso_utc),
        run_id);
    if (rows.empty()) return std::nullopt;
    const auto& row = rows[0];
    eval_run_record r;
    r.id = row[0].as<std::int64_t>();
    r.model = row[1].as<std::string>();
    r.suites_json = row[2].as<std::string>();
    r.settings_json = row[3].as<std::string>();
    r.source = row[4].as<std::string>();
    r.state = row[5].as<std::string>();
    if (!row[6].is_null())
      r.fingerprint = fingerprint_value{row[6].as<std::string>(), row[12].as<std::string>(), row[13].as<std::string>()};
    if (!row[7].is_null()) r.results = row[7].as<std::string>();
    if (!row[8].is_null()) r.failure = row[8].as<std::string>();
    r.created_at = row[9].as<std::string>();
    r.created_unix = row[10].as<double>();
    if (!row[11].is_null()) r.finished_at = row[11].as<std::string>();
    return r;
  } catch (...) {
    rethrow_as_database_error(fmt::format("reading eval run {}", run_id));
  }
}

shard_counts eval_store::counts(std::int64_t run_id) {
  auto conn = impl_->pool.acquire();
  try {
    pqxx::work tx(*conn);
    const auto row = tx.exec_params1(
        "SELECT count(*) FILTER (WHERE state = 'queued'), count(*) FILTER (WHERE state = 'leased'), "
        "count(*) FILTER (WHERE state = 'done'), count(*) FILTER (WHERE state = 'failed'), "
        "coalesce(sum(doc_end - doc_begin), 0), (SELECT count(*) FROM eval_items WHERE run_id = $1) "
        "FROM eval_shards WHERE run_id = $1",
        run_id);
    return {row[0].as<std::int64_t>(), row[1].as<std::int64_t>(), row[2].as<std::int64_t>(),
            row[3].as<std::int64_t>(), row[4].as<std::int64_t>(), row[5].as<std::int64_t>()};
  } catch (...) {
    rethrow_as_database_error(fmt::format("counting the shards of eval run {}", run_id));
  }
}

std::vector<stored_item> eval_store::items(std::int64_t run_id) {
  auto conn = impl_->pool.acquire();
  try {
    pqxx::work tx(*conn);
    std::vector<stored_item> out;
    for (const auto& row :
         tx.exec_params("SELECT task, doc_id, answer FROM eval_items WHERE run_id = $1 ORDER BY task, doc_id", run_id))
      out.push_back({row[0].as<std::string>(), row[1].as<std::int32_t>(), row[2].as<std::string>()});
    return out;
  } catch (...) {
    rethrow_as_database_error(fmt::format("reading the items of eval run {}", run_id));
  }
}

std::vector<std::pair<std::string, std::string>> eval_store::shard_records(std::int64_t run_id) {
  auto conn = impl_->pool.acquire();
  try {
    pqxx::work tx(*conn);
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& row : tx.exec_params("SELECT task, records FROM eval_shards WHERE run_id = $1 AND state = 'done' "
                                          "AND records IS NOT NULL ORDER BY task, doc_begin",
                                          run_id))
      out.emplace_back(row[0].as<std::string>(), row[1].as<std::string>());
    return out;
  } catch (...) {
    rethrow_as_database_error(fmt::format("reading the shard records of eval run {}", run_id));
  }
}

bool eval_store::finish_run(std::int64_t run_id, const finished_run& finished) {
  auto conn = impl_->pool.acquire();
  try {
    pqxx::work tx(*conn);
    // The row lock makes two arena processes finishing the same run take turns; the second sees 'done'.
    const auto state = tx.exec_params1("SELECT state FROM eval_runs WHERE id = $1 FOR UPDATE", run_id)[0].as<std::string>();
    if (state == "done" || state == "failed") return false;
    store_finished(tx, run_id, finished);
    tx.exec_params("UPDATE eval_runs SET state = 'done', results = $2, finished_at = now() WHERE id = $1", run_id,
                   finished.results);
    tx.commit();
    return true;
  } catch (const input_error&) {
    throw;
  } catch (...) {
    rethrow_as_database_error(fmt::format("storing the results of eval run {}", run_id));
  }
}

void eval_store::fail_run(std::int64_t run_id, const std::string& why) {
  auto conn = impl_->pool.acquire();
  try {
    pqxx::work tx(*conn);
    tx.exec_params("UPDATE eval_runs SET state = 'failed', failure = $2, finished_at = now() "
                   "WHERE id = $1 AND state IN ('queued', 'running')",
                   run_id, why);
    tx.commit();
  } catch (...) {
    rethrow_as_database_error(fmt::format("marking eval run {} failed", run_id));
  }
}

eval_store::published eval_store::publish_run(const std::string& model, const std::string& suites_json,
                                              const std::string& settings_json, const std::string& content_sha256,
                                              const finished_run& finished) {
  auto conn = impl_->pool.acquire();
  try {
    pqxx::work tx(*conn);
    const auto added = tx.exec_params(
        "INSERT INTO eval_runs (model, suites, settings, source, state, content_sha256, results, finished_at) "
        "VALUES ($1, $2::jsonb, $3::jsonb, 'published', 'done', $4, $5, now()) "
        "ON CONFLICT (content_sha256) DO NOTHING RETURNING id",
        model, suites_json, settings_json, content_sha256, finished.results);
    if (added.empty()) {
      const auto id = tx.exec_params1("SELECT id FROM eval_runs WHERE content_sha256 = $1", content_sha256)[0].as<std::int64_t>();
      tx.commit();
      return {id, false};
    }
    const auto id = added[0][0].as<std::int64_t>();
    store_finished(tx, id, finished);
    tx.commit();
    return {id, true};
  } catch (const input_error&) {
    throw;
  } catch (...) {
    rethrow_as_database_error("storing a published eval run");
  }
}

std::vector<eval_table_row> eval_store::latest_metrics() {
  auto conn = impl_->pool.acquire();
  try {
    pqxx::work tx(*conn);
    std::vector<eval_table_row> out;
    for (const auto& row : tx.exec(fmt::format(
             "SELECT DISTINCT ON (r.model, m.task, m.metric, m.filter) r.id, r.model, m.task, m.is_group, m.metric, "
             "m.filter, m.value, m.stderr, m.n, m.higher_is_better, f.digest, "
             "to_char(r.finished_at AT TIME ZONE 'UTC', {}), "
             "(SELECT string_agg(am.name, ',' ORDER BY am.name) FROM models am WHERE am.fingerprint_id = r.fingerprint_id) "
             "FROM eval_metrics m JOIN eval_runs r ON r.id = m.run_id "
             "LEFT JOIN model_fingerprints f ON f.id = r.fingerprint_id WHERE r.state = 'done' "
             "ORDER BY r.model, m.task, m.metric, m.filter, r.finished_at DESC, r.id DESC",
             iso_utc))) {
      eval_table_row r;
      r.run_id = row[0].as<std::int64_t>();
      r.model = row[1].as<std::string>();
      r.metric.task = row[2].as<std::string>();
      r.metric.is_group = row[3].as<bool>();
      r.metric.metric = row[4].as<std::string>();
      r.metric.filter = row[5].as<std::string>();
      r.metric.value = optional_double(row[6]);
      r.metric.stderr_value = optional_double(row[7]);
      r.metric.n = row[8].as<std::int64_t>();
      r.metric.higher_is_better = row[9].as<bool>();
      if (!row[10].is_null()) r.fingerprint_digest = row[10].as<std::string>();
      r.finished_at = optional_text(row[11]);
      r.arena_models = optional_text(row[12]);
      out.push_back(std::move(r));
    }
    return out;
  } catch (...) {
    rethrow_as_database_error("reading eval metrics");
  }
}

std::vector<std::pair<std::string, std::string>> eval_store::samples(std::int64_t run_id,
                                                                      const std::optional<std::string>& task) {
  auto conn = impl_->pool.acquire();
  try {
    pqxx::work tx(*conn);
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& row : tx.exec_params("SELECT task, samples FROM eval_samples WHERE run_id = $1 "
                                          "AND ($2 = '' OR task = $2) ORDER BY task",
                                          run_id, task.value_or("")))
      out.emplace_back(row[0].as<std::string>(), row[1].as<std::string>());
    return out;
  } catch (...) {
    rethrow_as_database_error(fmt::format("reading the samples of eval run {}", run_id));
  }
}

std::optional<fingerprint_value> eval_store::model_fingerprint(const std::string& model_name) {
  auto conn = impl_->pool.acquire();
  try {
    pqxx::read_transaction tx(*conn);
    const auto rows = tx.exec_params(
        "SELECT f.digest, f.kind, f.fields::text FROM models m JOIN model_fingerprints f ON f.id = m.fingerprint_id "
        "WHERE m.name = $1",
        model_name);
    if (rows.empty()) return std::nullopt;
    return fingerprint_value{rows[0][0].as<std::string>(), rows[0][1].as<std::string>(), rows[0][2].as<std::string>()};
  } catch (...) {
    rethrow_as_database_error(fmt::format("reading the fingerprint of model {}", model_name));
  }
}

void eval_store::link_model_fingerprint(const std::string& model_name, const fingerprint_value& fp) {
  auto conn = impl_->pool.acquire();
  try {
    pqxx::work tx(*conn);
    tx.exec_params("UPDATE models SET fingerprint_id = $1 WHERE name = $2", fingerprint_row(tx, fp), model_name);
    tx.commit();
  } catch (...) {
    rethrow_as_database_error(fmt::format("recording the fingerprint of model {}", model_name));
  }
}

}  // namespace huashan::arena::store
