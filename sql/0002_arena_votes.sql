-- The arena's vote path: sampling probability and flags on battles, style
-- features per battle, sufficient statistics kept as votes commit, API keys.

ALTER TABLE battles
  ADD COLUMN sampling_probability double precision
    CHECK (sampling_probability IS NULL OR (sampling_probability > 0 AND sampling_probability <= 1)),
  ADD COLUMN flagged boolean NOT NULL DEFAULT false,
  ADD COLUMN flag_reason text,
  ADD COLUMN answered_at timestamptz,
  -- LMArena's style features, summed over turns: answer tokens and markdown
  -- header / list / bold counts for each side.
  ADD COLUMN style_a integer[] CHECK (style_a IS NULL OR cardinality(style_a) = 4),
  ADD COLUMN style_b integer[] CHECK (style_b IS NULL OR cardinality(style_b) = 4);

-- Votes per (ordered pair, category, language, winner): what a leaderboard
-- recompute reads, so its cost does not grow with the number of votes. Kept in
-- the vote's own transaction; rebuildable from votes + battles at any time.
CREATE TABLE pair_outcome_counts (
  model_a_id  bigint NOT NULL REFERENCES models (id),
  model_b_id  bigint NOT NULL REFERENCES models (id),
  category    text NOT NULL DEFAULT '',
  language    text NOT NULL DEFAULT '',
  winner      text NOT NULL CHECK (winner IN ('model_a', 'model_b', 'tie', 'tie (bothbad)')),
  votes       bigint NOT NULL CHECK (votes >= 0),
  PRIMARY KEY (model_a_id, model_b_id, category, language, winner)
);

-- Advanced once per committed vote: a recompute runs only when it moved. A
-- sequence, not a counter row, so concurrent votes never wait on each other.
CREATE SEQUENCE vote_events;

CREATE TABLE api_keys (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name        text NOT NULL UNIQUE,
  -- SHA-256 (hex) of the key: keys are 256 random bits, so a fast hash is as
  -- safe as a slow one and keeps every admin request cheap. Shown once.
  key_hash    text NOT NULL UNIQUE,
  key_prefix  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);
