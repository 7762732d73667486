-- Leaderboard snapshots: every recompute stores one row per variant (overall,
-- per category, per language; each with and without style control). Derived
-- data: rebuildable from votes + battles with the parameters and seed stored.
-- category = '' and language = '' mean "all".

CREATE TABLE leaderboard_snapshots (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  category         text NOT NULL DEFAULT '',
  language         text NOT NULL DEFAULT '',
  style_control    boolean NOT NULL,
  computed_at      timestamptz NOT NULL DEFAULT now(),
  vote_count       bigint NOT NULL CHECK (vote_count >= 0),  -- unflagged votes the fit saw
  last_vote_event  bigint NOT NULL,                          -- vote_events value read before the votes
  computed_by      text NOT NULL DEFAULT '',                 -- host:pid of the recomputing process
  seed             bigint NOT NULL,
  parameters       jsonb NOT NULL,  -- bootstrap rounds, seed, tie model, inverse propensity, ...
  body             jsonb NOT NULL   -- the leaderboard as the API serves it: rows and matrices
);

-- "The latest snapshot of each variant" walks this index backwards.
CREATE INDEX leaderboard_snapshots_variant ON leaderboard_snapshots (category, language, style_control, id DESC);
