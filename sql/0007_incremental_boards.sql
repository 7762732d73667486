-- What lets a recompute read only the votes that changed since the last one
-- and store only the boards they change.
--
-- votes_flagged_event: the votes a flag took out after a given event are
-- found by index (flags are few; the partial index stays small).
CREATE INDEX votes_flagged_event ON votes (flagged_event) WHERE flagged_event IS NOT NULL;

-- The board each variant serves: a recompute stores the variants whose votes
-- changed and points their rows here in the same transaction; a variant whose
-- votes are gone leaves. The served set is read in O(variants), whatever the
-- number of stored snapshots.
CREATE TABLE leaderboard_latest (
  category      text NOT NULL,
  language      text NOT NULL,
  style_control boolean NOT NULL,
  snapshot_id   bigint NOT NULL REFERENCES leaderboard_snapshots (id),
  PRIMARY KEY (category, language, style_control)
);

-- What was served before: the newest overall plain board and the other
-- variants of the newest complete recompute (those sharing computed_at with
-- the newest overall style-controlled board).
INSERT INTO leaderboard_latest (category, language, style_control, snapshot_id)
SELECT s.category, s.language, s.style_control, max(s.id)
FROM leaderboard_snapshots s
WHERE (s.category = '' AND s.language = '' AND NOT s.style_control)
   OR (s.computed_at = (SELECT computed_at FROM leaderboard_snapshots
                        WHERE category = '' AND language = '' AND style_control ORDER BY id DESC LIMIT 1)
       AND NOT (s.category = '' AND s.language = '' AND NOT s.style_control))
GROUP BY s.category, s.language, s.style_control;
