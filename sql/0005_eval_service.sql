-- Evaluations as a service: runs (queued for workers, or published whole by
-- `huashan eval --publish`), their shards (the queue workers lease from), the
-- answers workers return per item, and the model fingerprints that tie eval
-- results and arena models to the same weights and settings.

CREATE TABLE model_fingerprints (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  digest      text NOT NULL UNIQUE,        -- sha256 of kind and fields but the file name: equal digests, same model
  kind        text NOT NULL,
  fields      jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
-- The arena model whose weights a fingerprint describes (local models; set by `huashan serve`).
ALTER TABLE models ADD COLUMN fingerprint_id bigint REFERENCES model_fingerprints (id);

CREATE TABLE eval_runs (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  model          text NOT NULL CHECK (length(model) BETWEEN 1 AND 256),
  suites         jsonb NOT NULL,            -- the names asked for, in order
  settings       jsonb NOT NULL,            -- num_fewshot, limit, seed, bootstrap_iters, batch_size, circular
  source         text NOT NULL CHECK (source IN ('queue', 'published')),
  state          text NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
  fingerprint_id bigint REFERENCES model_fingerprints (id),
  fingerprint_fields text,                  -- as the run's model reported them (its file name included)
  -- A published run: sha256 of what was sent, so publishing twice stores once.
  content_sha256 text UNIQUE,
  results        text,                      -- results.json, byte for byte as served
  failure        text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  finished_at    timestamptz
);

CREATE TABLE eval_shards (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id         bigint NOT NULL REFERENCES eval_runs (id) ON DELETE CASCADE,
  task           text NOT NULL,
  doc_begin      integer NOT NULL CHECK (doc_begin >= 0),
  doc_end        integer NOT NULL CHECK (doc_end > doc_begin),
  state          text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'leased', 'done', 'failed')),
  lease_token    text,
  worker         text,
  lease_expires  timestamptz,
  attempts       integer NOT NULL DEFAULT 0,
  records        text,                      -- the worker's determinism and contamination records (JSON)
  completed_at   timestamptz
);
CREATE INDEX eval_shards_run ON eval_shards (run_id);
-- What a claim scans: shards not done, oldest first.
CREATE INDEX eval_shards_open ON eval_shards (id) WHERE state IN ('queued', 'leased');
-- What a claim's check for leases expired too often scans.
CREATE INDEX eval_shards_lease_expires ON eval_shards (lease_expires) WHERE state = 'leased';

-- One row per (run, task, document): a second answer for an item must equal
-- the first (answer_sha256), so a shard run twice stores its items once.
CREATE TABLE eval_items (
  run_id         bigint NOT NULL REFERENCES eval_runs (id) ON DELETE CASCADE,
  task           text NOT NULL,
  doc_id         integer NOT NULL,
  shard_id       bigint NOT NULL REFERENCES eval_shards (id) ON DELETE CASCADE,
  answer         text NOT NULL,             -- the model's responses, canonical JSON
  answer_sha256  text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, task, doc_id)
);

-- A finished run's per-item samples (lm-evaluation-harness's samples JSONL), per task.
CREATE TABLE eval_samples (
  run_id   bigint NOT NULL REFERENCES eval_runs (id) ON DELETE CASCADE,
  task     text NOT NULL,
  samples  text NOT NULL,
  PRIMARY KEY (run_id, task)
);

-- A finished run's metrics, one row per task or group, metric and filter:
-- what GET /api/evals tabulates.
CREATE TABLE eval_metrics (
  run_id           bigint NOT NULL REFERENCES eval_runs (id) ON DELETE CASCADE,
  task             text NOT NULL,
  is_group         boolean NOT NULL,
  metric           text NOT NULL,
  filter           text NOT NULL,
  value            double precision,
  stderr           double precision,
  n                bigint NOT NULL,
  higher_is_better boolean NOT NULL,
  PRIMARY KEY (run_id, task, metric, filter)
);
CREATE INDEX eval_metrics_task ON eval_metrics (task, metric);
