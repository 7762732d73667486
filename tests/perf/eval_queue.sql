-- pgbench script for ./dev bench evals: one simulated worker's claim ->
-- items -> complete of one shard, as the three transactions eval_store sends
-- for them (arena/store/eval_store.cpp: claim_shard, store_items,
-- complete_shard), with the same statements and parameters; run with
-- -M extended like libpqxx. tests/perf/evals.sh queues the runs through the
-- arena first, so the tables have the very shape the arena's run had.
-- The workers take any model: the models parameter is the empty string, a
-- literal here (pgbench has no empty variables); the arena's unnamed
-- statements are planned with their values too, so the plans are the same.
-- Variables: lease_ms, max_attempts, answer (one
-- document's answers as the canonical JSON the arena stores), sha (its sha256),
-- digest (unused since the fingerprint is only compared). A dry queue fails the transaction (\gset wants a row).

-- claim_shard
BEGIN;
UPDATE eval_shards SET state = 'failed' WHERE id IN (SELECT id FROM eval_shards
  WHERE state = 'leased' AND lease_expires < now() AND attempts >= :max_attempts FOR UPDATE SKIP LOCKED) RETURNING run_id, id;
WITH next AS (SELECT s.id FROM eval_shards s JOIN eval_runs r ON r.id = s.run_id
    WHERE (s.state = 'queued' OR (s.state = 'leased' AND s.lease_expires < now()))
      AND r.state IN ('queued', 'running')
      AND ('' = '' OR r.model = ANY (string_to_array('', E'\n')))
    ORDER BY s.id LIMIT 1 FOR UPDATE OF s SKIP LOCKED),
  leased AS (UPDATE eval_shards s SET state = 'leased', lease_token = gen_random_uuid()::text, worker = 'pgbench-' || :client_id,
    lease_expires = now() + :lease_ms * interval '1 millisecond', attempts = s.attempts + 1
    FROM next WHERE s.id = next.id RETURNING s.*)
SELECT s.id AS shard, s.run_id AS run, r.model, s.task, s.doc_begin, s.doc_end, r.settings::text AS settings,
       s.lease_token AS lease, s.attempts
  FROM leased s JOIN eval_runs r ON r.id = s.run_id \gset
UPDATE eval_runs SET state = 'running' WHERE id = :run AND state = 'queued';
COMMIT;

-- store_items: the held-shard check, the fingerprint compared with the run's
-- (the first post of a run also stores it: the arena does that once per run,
-- this script never), the conflict check, the insert
BEGIN;
SELECT s.id, s.run_id, r.model, s.task, s.doc_begin, s.doc_end, r.settings::text, s.lease_token, s.attempts, s.state
  FROM eval_shards s JOIN eval_runs r ON r.id = s.run_id WHERE s.id = :shard FOR SHARE OF s;
SELECT f.digest FROM eval_runs r LEFT JOIN model_fingerprints f ON f.id = r.fingerprint_id WHERE r.id = :run;
SELECT x.task, x.doc FROM json_to_recordset((SELECT json_agg(json_build_object('task', :task::text, 'doc', d, 'sha', :sha::text))
    FROM generate_series(:doc_begin::int, :doc_end::int - 1) AS d)) AS x(task text, doc int, sha text)
  JOIN eval_items i ON i.run_id = :run AND i.task = x.task AND i.doc_id = x.doc
  WHERE i.answer_sha256 <> x.sha ORDER BY x.task, x.doc LIMIT 1;
INSERT INTO eval_items (run_id, task, doc_id, shard_id, answer, answer_sha256)
  SELECT :run, x.task, x.doc, :shard, x.answer, x.sha
  FROM json_to_recordset((SELECT json_agg(json_build_object('task', :task::text, 'doc', d, 'answer', :answer::text, 'sha', :sha::text))
    FROM generate_series(:doc_begin::int, :doc_end::int - 1) AS d)) AS x(task text, doc int, answer text, sha text)
  ON CONFLICT (run_id, task, doc_id) DO NOTHING;
COMMIT;

-- complete_shard: the held-shard check, the item count, done; after the commit, the run's open shards
BEGIN;
SELECT s.id, s.run_id, r.model, s.task, s.doc_begin, s.doc_end, r.settings::text, s.lease_token, s.attempts, s.state
  FROM eval_shards s JOIN eval_runs r ON r.id = s.run_id WHERE s.id = :shard FOR SHARE OF s;
SELECT count(*) FROM eval_items WHERE run_id = :run AND task = :task AND doc_id >= :doc_begin AND doc_id < :doc_end;
UPDATE eval_shards SET state = 'done', records = '{}', completed_at = coalesce(completed_at, now()) WHERE id = :shard;
COMMIT;
SELECT count(*) FROM eval_shards WHERE run_id = :run AND state <> 'done';
