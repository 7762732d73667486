-- pgbench script for ./dev bench arena: the statements arena_store::record_vote
-- sends for one vote on a stored battle (arena/store/arena_store.cpp), in one
-- transaction, with the same parameters. Each client votes on its own fresh
-- battles: ids 00000000-0000-4000-8000-<run><client:2><counter:6> made by
-- tests/perf/arena.sh. Winners rotate as the wrk script's choices do.
\set i :i + 1
\set k :run * 100000000 + :client_id * 1000000 + :i
\set w :i % 6
BEGIN;
SELECT model_a_id AS a, model_b_id AS b, coalesce(category, '') AS category, coalesce(language, '') AS language,
       flagged, coalesce(session_id, '') AS owner, answered_at IS NOT NULL AS answered,
       coalesce(answered_at <= now() - 0 * interval '1 millisecond', false) AS old_enough
  FROM battles WHERE id = ('00000000-0000-4000-8000-' || lpad(:k::text, 12, '0'))::uuid \gset
INSERT INTO votes (battle_id, winner, voter_id, client_addr)
  VALUES (('00000000-0000-4000-8000-' || lpad(:k::text, 12, '0'))::uuid,
          (ARRAY['model_b', 'tie', 'model_a', 'model_b', 'tie (bothbad)', 'model_a'])[:w + 1], :session, '127.0.0.1'::inet)
  ON CONFLICT (battle_id) DO NOTHING RETURNING winner \gset
INSERT INTO pair_outcome_counts (model_a_id, model_b_id, category, language, winner, votes)
  VALUES (:a, :b, :category, :language, :winner, 1)
  ON CONFLICT (model_a_id, model_b_id, category, language, winner)
  DO UPDATE SET votes = pair_outcome_counts.votes + EXCLUDED.votes;
SELECT nextval('vote_events');
SELECT id, name, display_name, organization, license, backend, backend_config::text, enabled
  FROM models WHERE id IN (:a, :b);
COMMIT;
