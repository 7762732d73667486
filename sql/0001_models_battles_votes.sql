-- Models, battles and votes: the arena's raw record. Votes are append-only;
-- every derived number (ratings, counts, snapshots) is rebuilt from them.

CREATE TABLE models (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name          text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$'),
  display_name  text NOT NULL,
  organization  text NOT NULL DEFAULT '',
  license       text NOT NULL DEFAULT '',
  backend       text NOT NULL CHECK (backend IN ('local', 'openai')),
  backend_config jsonb NOT NULL DEFAULT '{}'::jsonb,
  enabled       boolean NOT NULL DEFAULT true,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE battles (
  id            uuid PRIMARY KEY,
  model_a_id    bigint NOT NULL REFERENCES models (id),
  model_b_id    bigint NOT NULL REFERENCES models (id),
  category      text,
  language      text,
  session_id    text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  CHECK (model_a_id <> model_b_id)
);
CREATE INDEX battles_created_at ON battles (created_at);

-- One row per turn: the prompt and both answers with their measurements.
CREATE TABLE battle_turns (
  battle_id     uuid NOT NULL REFERENCES battles (id) ON DELETE CASCADE,
  turn          smallint NOT NULL CHECK (turn >= 1),
  prompt        text NOT NULL,
  answer_a      text,
  answer_b      text,
  tokens_a      integer,
  tokens_b      integer,
  latency_ms_a  integer,
  latency_ms_b  integer,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (battle_id, turn)
);

-- At most one vote per battle: the primary key makes a repeated vote a no-op.
CREATE TABLE votes (
  battle_id     uuid PRIMARY KEY REFERENCES battles (id),
  winner        text NOT NULL CHECK (winner IN ('model_a', 'model_b', 'tie', 'tie (bothbad)')),
  voter_id      text,
  client_addr   inet,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX votes_created_at ON votes (created_at);
