#include "registry/schema_v1.h"

namespace grove::registry {

// Timestamps are TEXT 'YYYY-MM-DDTHH:MM:SSZ' (UTC). The typed API binds them; the defaults serve plain-SQL inserts.
const std::string_view kSchemaV1 = R"SQL(
CREATE TABLE tokenizers (
  id           INTEGER PRIMARY KEY,
  hash         TEXT NOT NULL UNIQUE,
  kind         TEXT NOT NULL CHECK (kind IN ('bpe', 'unigram')),
  vocab_size   INTEGER CHECK (vocab_size > 0),
  model_path   TEXT NOT NULL,
  trained_on   TEXT NOT NULL CHECK (json_valid(trained_on) AND json_type(trained_on) = 'array'),
  sample_bytes INTEGER CHECK (sample_bytes >= 0),
  created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

CREATE TABLE runs (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE,
  strategy      TEXT NOT NULL,
  config_yaml   TEXT NOT NULL,
  status        TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'running', 'done', 'failed', 'interrupted')),
  seed          INTEGER NOT NULL,
  tokenizer_id  INTEGER REFERENCES tokenizers(id),
  work_dir      TEXT,
  created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
  updated_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
  grove_version TEXT NOT NULL
);

CREATE TABLE distributions (
  id               INTEGER PRIMARY KEY,
  name             TEXT NOT NULL,
  version          INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
  spec_yaml        TEXT NOT NULL,
  fingerprint      TEXT NOT NULL,
  source_kind      TEXT NOT NULL,
  n_docs           INTEGER CHECK (n_docs >= 0),
  n_bytes          INTEGER CHECK (n_bytes >= 0),
  n_docs_skipped   INTEGER CHECK (n_docs_skipped >= 0),
  n_docs_repaired  INTEGER CHECK (n_docs_repaired >= 0),
  n_tokens_train   INTEGER CHECK (n_tokens_train >= 0),
  n_tokens_holdout INTEGER CHECK (n_tokens_holdout >= 0),
  shard_dir        TEXT NOT NULL,
  ingested_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
  retired_at       TEXT,
  UNIQUE (name, version)
);
-- One current (not retired) row per name; retired rows keep the history that phases point at.
CREATE UNIQUE INDEX distributions_current_name ON distributions(name) WHERE retired_at IS NULL;
CREATE INDEX distributions_fingerprint ON distributions(fingerprint);

CREATE TABLE shards (
  id              INTEGER PRIMARY KEY,
  distribution_id INTEGER NOT NULL REFERENCES distributions(id),
  tokenizer_id    INTEGER NOT NULL REFERENCES tokenizers(id),
  split           TEXT NOT NULL CHECK (split IN ('train', 'holdout')),
  path            TEXT NOT NULL,
  n_docs          INTEGER NOT NULL CHECK (n_docs >= 0),
  n_tokens        INTEGER NOT NULL CHECK (n_tokens >= 0),
  n_bytes         INTEGER NOT NULL CHECK (n_bytes >= 0),
  xxh3            TEXT NOT NULL,
  created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
  UNIQUE (distribution_id, tokenizer_id, split)
);

CREATE TABLE phases (
  id              INTEGER PRIMARY KEY,
  run_id          INTEGER NOT NULL REFERENCES runs(id),
  idx             INTEGER NOT NULL CHECK (idx >= 0),
  distribution_id INTEGER NOT NULL REFERENCES distributions(id),
  decision        TEXT CHECK (decision IN ('base', 'grow', 'no_grow')),
  decision_reason TEXT,
  experts_added   INTEGER NOT NULL DEFAULT 0 CHECK (experts_added >= 0),
  status          TEXT NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'training', 'evaluating', 'done', 'interrupted', 'failed')),
  steps_done      INTEGER NOT NULL DEFAULT 0 CHECK (steps_done >= 0),
  steps_total     INTEGER NOT NULL CHECK (steps_total >= 0),
  started_at      TEXT,
  finished_at     TEXT,
  UNIQUE (run_id, idx)
);

CREATE TABLE experts (
  id                 INTEGER PRIMARY KEY,
  run_id             INTEGER NOT NULL REFERENCES runs(id),
  layer              INTEGER NOT NULL CHECK (layer >= 0),
  slot               INTEGER NOT NULL CHECK (slot >= 0),
  group_idx          INTEGER NOT NULL CHECK (group_idx >= 0),
  born_phase_id      INTEGER NOT NULL REFERENCES phases(id),
  parent_expert_id   INTEGER REFERENCES experts(id),
  init               TEXT NOT NULL CHECK (init IN ('base', 'copy', 'random')),
  frozen_at_phase_id INTEGER REFERENCES phases(id),
  rank               INTEGER NOT NULL DEFAULT 0 CHECK (rank >= 0),
  n_params           INTEGER CHECK (n_params >= 0),
  UNIQUE (run_id, layer, slot)
);
CREATE INDEX experts_parent ON experts(parent_expert_id);
CREATE INDEX experts_born ON experts(born_phase_id);

CREATE TABLE checkpoints (
  id         INTEGER PRIMARY KEY,
  run_id     INTEGER NOT NULL REFERENCES runs(id),
  phase_id   INTEGER NOT NULL REFERENCES phases(id),
  step       INTEGER NOT NULL CHECK (step >= 0),
  path       TEXT NOT NULL,
  bytes      INTEGER CHECK (bytes >= 0),
  xxh3       TEXT NOT NULL,
  kind       TEXT NOT NULL CHECK (kind IN ('periodic', 'phase_end', 'interrupt')),
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX checkpoints_run ON checkpoints(run_id, phase_id, step);

CREATE TABLE evals (
  id              INTEGER PRIMARY KEY,
  run_id          INTEGER NOT NULL REFERENCES runs(id),
  after_phase_id  INTEGER NOT NULL REFERENCES phases(id),
  stage           TEXT NOT NULL CHECK (stage IN ('before', 'after')),
  distribution_id INTEGER NOT NULL REFERENCES distributions(id),
  split           TEXT NOT NULL,
  bpb             REAL,
  loss            REAL,
  ppl             REAL,
  tokens          INTEGER CHECK (tokens >= 0),
  bytes           INTEGER CHECK (bytes >= 0),
  created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
  UNIQUE (run_id, after_phase_id, stage, distribution_id, split)
);

CREATE TABLE routing (
  run_id          INTEGER NOT NULL REFERENCES runs(id),
  after_phase_id  INTEGER NOT NULL REFERENCES phases(id),
  distribution_id INTEGER NOT NULL REFERENCES distributions(id),
  layer           INTEGER NOT NULL,
  expert_id       INTEGER NOT NULL REFERENCES experts(id),
  token_fraction  REAL NOT NULL CHECK (token_fraction >= 0 AND token_fraction <= 1),
  PRIMARY KEY (run_id, after_phase_id, distribution_id, layer, expert_id)
);

CREATE TABLE train_metrics (
  run_id       INTEGER NOT NULL REFERENCES runs(id),
  phase_id     INTEGER NOT NULL REFERENCES phases(id),
  step         INTEGER NOT NULL CHECK (step >= 0),
  loss         REAL,
  aux_loss     REAL,
  kd_loss      REAL,
  lr           REAL,
  grad_norm    REAL,
  tokens_per_s REAL,
  at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
  PRIMARY KEY (run_id, phase_id, step)
);

CREATE TABLE events (
  id       INTEGER PRIMARY KEY,
  run_id   INTEGER REFERENCES runs(id),
  phase_id INTEGER REFERENCES phases(id),
  at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
  level    TEXT NOT NULL CHECK (level IN ('debug', 'info', 'warn', 'error')),
  kind     TEXT NOT NULL,
  message  TEXT NOT NULL
);
CREATE INDEX events_run ON events(run_id, at);

-- Every evaluation with names instead of ids: the forgetting matrix R[i][j] is the rows with stage = 'after'
-- (phase_idx = i, distribution_phase_idx = j); stage = 'before' holds R[init] (phase 0) and forward transfer.
CREATE VIEW forgetting_matrix AS
SELECT r.name AS run, p.idx AS phase_idx, e.stage, d.name AS distribution, d.version AS distribution_version,
       (SELECT MIN(p2.idx) FROM phases p2 WHERE p2.run_id = e.run_id AND p2.distribution_id = e.distribution_id)
         AS distribution_phase_idx,
       e.split, e.bpb, e.loss, e.ppl, e.tokens, e.bytes, e.created_at
FROM evals e
JOIN runs r ON r.id = e.run_id
JOIN phases p ON p.id = e.after_phase_id
JOIN distributions d ON d.id = e.distribution_id;

-- Every expert with its parent's position and the phases (by index) that created and froze it.
CREATE VIEW expert_lineage AS
SELECT r.name AS run, x.layer, x.slot, x.group_idx, x.init, born.idx AS born_phase_idx,
       parent.layer AS parent_layer, parent.slot AS parent_slot, frozen.idx AS frozen_at_phase_idx,
       x.rank, x.n_params, x.id AS expert_id, x.parent_expert_id
FROM experts x
JOIN runs r ON r.id = x.run_id
JOIN phases born ON born.id = x.born_phase_id
LEFT JOIN experts parent ON parent.id = x.parent_expert_id
LEFT JOIN phases frozen ON frozen.id = x.frozen_at_phase_id;
)SQL";

}  // namespace grove::registry
