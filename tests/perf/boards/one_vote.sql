-- ./dev bench boards: one more vote, the statements of a vote through the API
-- (arena_store::create_battle, record_turn, record_vote) on a fresh battle
-- between the first two models, so a leaderboard recompute falls due.
\set ON_ERROR_STOP on
BEGIN;
SELECT min(id) AS a, max(id) AS b FROM models \gset
INSERT INTO battles (id, model_a_id, model_b_id, category, language, session_id, sampling_probability,
                     answered_at, style_a, style_b)
VALUES (gen_random_uuid(), :a, :b, 'coding', 'en', 'bench', NULL, now() - interval '10 seconds',
        '{512,2,3,4}', '{400,1,2,0}')
RETURNING id AS battle \gset
INSERT INTO votes (battle_id, winner, voter_id, client_addr)
VALUES (:'battle', 'model_a', 'bench', '127.0.0.1'::inet)
ON CONFLICT (battle_id) DO NOTHING;
INSERT INTO pair_outcome_counts (model_a_id, model_b_id, category, language, winner, votes)
VALUES (:a, :b, 'coding', 'en', 'model_a', 1)
ON CONFLICT (model_a_id, model_b_id, category, language, winner)
DO UPDATE SET votes = pair_outcome_counts.votes + EXCLUDED.votes;
SELECT pg_advisory_xact_lock_shared(x'48756145766e7431'::bigint);  -- the vote-event fence (arena/store/pg.hpp)
UPDATE votes SET vote_event = nextval('vote_events') WHERE battle_id = :'battle';
COMMIT;
