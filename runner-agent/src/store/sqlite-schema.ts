// The embedded store's schema, as numbered migrations: a data dir records the
// last one applied (PRAGMA user_version) and gets only the newer ones. A new
// migration is appended, never edited. Times are milliseconds since the epoch.
export const SQLITE_MIGRATIONS: readonly string[] = [
  `
CREATE TABLE IF NOT EXISTS nodes (
  name         TEXT PRIMARY KEY,
  task_cap     INTEGER NOT NULL CHECK (task_cap >= 0),
  resume_cap   INTEGER,
  epoch        INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL,
  started_at   INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS deployments (
  id              TEXT PRIMARY KEY,
  idempotency_key TEXT UNIQUE,
  project         TEXT NOT NULL,
  environment     TEXT NOT NULL,
  release         TEXT NOT NULL,
  plan            TEXT NOT NULL,
  github          TEXT,
  secret_values   TEXT NOT NULL,
  max_running     INTEGER NOT NULL DEFAULT 0,
  state           TEXT NOT NULL,
  created_at      INTEGER NOT NULL,
  finished_at     INTEGER
);

CREATE TABLE IF NOT EXISTS tasks (
  id              TEXT PRIMARY KEY,
  seq             INTEGER NOT NULL UNIQUE,
  deployment_id   TEXT NOT NULL REFERENCES deployments (id),
  tenant          TEXT,
  concurrency_tag TEXT NOT NULL,
  priority        INTEGER NOT NULL,
  state           TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted')),
  node            TEXT,
  epoch           INTEGER,
  action_started  INTEGER NOT NULL DEFAULT 0,
  queued_at       INTEGER NOT NULL,
  started_at      INTEGER,
  finished_at     INTEGER,
  message         TEXT,
  CHECK (state <> 'running' OR (node IS NOT NULL AND epoch IS NOT NULL))
);
-- Rule 2 of the design, enforced by the database: one running task per tag.
CREATE UNIQUE INDEX IF NOT EXISTS tasks_running_tag ON tasks (concurrency_tag) WHERE state = 'running';
CREATE INDEX IF NOT EXISTS tasks_queue ON tasks (priority DESC, seq) WHERE state = 'queued';
CREATE INDEX IF NOT EXISTS tasks_deployment ON tasks (deployment_id, seq);
CREATE INDEX IF NOT EXISTS tasks_deployment_open ON tasks (deployment_id) WHERE state IN ('queued', 'running');
CREATE INDEX IF NOT EXISTS tasks_node ON tasks (node) WHERE state = 'running';

CREATE TABLE IF NOT EXISTS actions (
  id          TEXT PRIMARY KEY,
  task_id     TEXT NOT NULL REFERENCES tasks (id),
  step_index  INTEGER NOT NULL,
  step        TEXT NOT NULL,
  target      TEXT,
  worker      TEXT,
  state       TEXT NOT NULL CHECK (state IN ('pending', 'running', 'succeeded', 'failed', 'skipped', 'cancelled')),
  attempt     INTEGER NOT NULL,
  started_at  INTEGER,
  finished_at INTEGER,
  exit_code   INTEGER,
  message     TEXT,
  waiting_on  TEXT
);
CREATE INDEX IF NOT EXISTS actions_task ON actions (task_id, step_index);

-- Rule 3: the per-target mutex, one row per held target.
CREATE TABLE IF NOT EXISTS target_locks (
  target    TEXT PRIMARY KEY,
  task_id   TEXT NOT NULL,
  action_id TEXT NOT NULL,
  since     INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS target_locks_task ON target_locks (task_id);

CREATE TABLE IF NOT EXISTS events (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  deployment_id TEXT NOT NULL,
  task_id       TEXT,
  type          TEXT NOT NULL,
  data          TEXT NOT NULL,
  at            INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS events_deployment ON events (deployment_id, id);
CREATE INDEX IF NOT EXISTS events_task_log ON events (task_id, id) WHERE type = 'log';
`,
  // 2: the check-run outbox (design: Check runs).
  `
CREATE TABLE IF NOT EXISTS check_runs (
  deployment_id TEXT PRIMARY KEY REFERENCES deployments (id),
  check_run_id  INTEGER,
  version       INTEGER NOT NULL,
  sent_version  INTEGER NOT NULL DEFAULT 0,
  sent_at       INTEGER,
  annotations   INTEGER NOT NULL DEFAULT 0,
  completed     INTEGER NOT NULL DEFAULT 0,
  touched_at    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS check_runs_pending ON check_runs (touched_at) WHERE version > sent_version;
`,
  `
-- When an agent stopped (set by its stop, cleared when it registers again).
ALTER TABLE nodes ADD COLUMN stopped_at INTEGER;
`,
  `
-- OIDC token ids (jti) already accepted, until the token expires.
CREATE TABLE token_ids (
  jti        TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
);
CREATE INDEX token_ids_expiry ON token_ids (expires_at);
`,
];
