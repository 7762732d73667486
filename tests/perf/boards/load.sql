-- ./dev bench boards: staged battles -> the arena's tables, each row as the
-- API path writes it (arena/store/arena_store.cpp):
--   create_battle: battles(id, models, category, language, session, probability),
--   record_turn:   answered_at and the summed style vectors {tokens,header,list,bold},
--   record_vote:   votes(battle, winner, voter = session, address), the
--                  pair_outcome_counts row of (a, b, category, language, winner)
--                  with coalesce(.., '') keys, and one vote_events value per vote.
-- Languages are stored as the arena files them (arena/domain/language.hpp):
-- 'en', 'zh', and 'other' for anything else (here Russian).
-- sampling_probability stays NULL: these battles were not drawn by our sampler.
\set ON_ERROR_STOP on
\timing on

INSERT INTO models (name, display_name, organization, backend)
SELECT name, 'Model ' || split_part(name, '-', 2),
       'org-' || lpad((abs(hashtext(name)) % 25)::text, 2, '0'), 'local'
  FROM (SELECT model_a AS name FROM boards_stage UNION SELECT model_b FROM boards_stage) m
 ORDER BY name;

INSERT INTO battles (id, model_a_id, model_b_id, category, language, session_id, created_at,
                     sampling_probability, answered_at, style_a, style_b)
SELECT s.id, a.id, b.id, s.category,
       CASE s.language WHEN 'English' THEN 'en' WHEN 'Chinese' THEN 'zh' ELSE 'other' END,
       'bench', to_timestamp(s.tstamp), NULL, to_timestamp(s.tstamp) + interval '15 seconds',
       ARRAY[s.len_a, s.header_a, s.list_a, s.bold_a], ARRAY[s.len_b, s.header_b, s.list_b, s.bold_b]
  FROM boards_stage s JOIN models a ON a.name = s.model_a JOIN models b ON b.name = s.model_b
 ORDER BY s.n;

-- nextval in the outer query over the ordered rows: vote_events follow the
-- votes' time order, as they do when votes arrive one by one.
INSERT INTO votes (battle_id, winner, voter_id, client_addr, created_at, vote_event)
SELECT id, winner, 'bench', '127.0.0.1'::inet, voted_at, nextval('vote_events')
  FROM (SELECT id, winner, to_timestamp(tstamp) + interval '25 seconds' AS voted_at
          FROM boards_stage ORDER BY n) s;

INSERT INTO pair_outcome_counts (model_a_id, model_b_id, category, language, winner, votes)
SELECT t.model_a_id, t.model_b_id, coalesce(t.category, ''), coalesce(t.language, ''), v.winner, count(*)
  FROM votes v JOIN battles t ON t.id = v.battle_id
 WHERE NOT t.flagged
 GROUP BY 1, 2, 3, 4, 5;

DROP TABLE boards_stage;
