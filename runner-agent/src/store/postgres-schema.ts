// The shared store's schema, as numbered migrations: the schema_version table
// records the last one applied and nodes apply only the newer ones, one node
// at a time (an advisory lock). A new migration is appended, never edited.
// Times are milliseconds since the epoch, always from the database's clock
// (now_ms()), so nodes with skewed clocks agree on leases.
export const POSTGRES_MIGRATIONS: readonly string[] = [
  `
CREATE FUNCTION now_ms() RETURNS bigint
  LANGUAGE sql VOLATILE AS $$ SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint $$;

CREATE TABLE nodes (
  name         text PRIMARY KEY,
  task_cap     integer NOT NULL CHECK (task_cap >= 0),
  resume_cap   integer,
  -- The fencing token: bumped on every registration and when the node's lease
  -- is taken from it; every write under a lease checks it.
  epoch        bigint NOT NULL,
  heartbeat_at bigint NOT NULL,
  started_at   bigint NOT NULL
);

CREATE TABLE deployments (
  id              text PRIMARY KEY,
  idempotency_key text UNIQUE,
  project         text NOT NULL,
  environment     text NOT NULL,
  release         text NOT NULL,
  plan            jsonb NOT NULL,
  github          jsonb,
  secret_values   jsonb NOT NULL,
  max_running     integer NOT NULL DEFAULT 0,
  state           text NOT NULL,
  created_at      bigint NOT NULL,
  finished_at     bigint
);

CREATE SEQUENCE task_seq;

CREATE TABLE tasks (
  id              text PRIMARY KEY,
  seq             bigint NOT NULL UNIQUE,
  deployment_id   text NOT NULL REFERENCES deployments (id),
  tenant          text,
  concurrency_tag text NOT NULL,
  priority        integer NOT NULL,
  state           text NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted')),
  node            text,
  epoch           bigint,
  action_started  boolean NOT NULL DEFAULT false,
  queued_at       bigint NOT NULL,
  started_at      bigint,
  finished_at     bigint,
  message         text,
  CHECK (state <> 'running' OR (node IS NOT NULL AND epoch IS NOT NULL))
);
-- Rule 2 of the design, enforced by the database: one running task per tag in
-- the whole cluster, whichever node writes it.
CREATE UNIQUE INDEX tasks_running_tag ON tasks (concurrency_tag) WHERE state = 'running';
CREATE INDEX tasks_queue ON tasks (priority DESC, seq) WHERE state = 'queued';
CREATE INDEX tasks_tag_queue ON tasks (concurrency_tag, priority DESC, seq) WHERE state = 'queued';
CREATE INDEX tasks_deployment ON tasks (deployment_id, seq);
CREATE INDEX tasks_deployment_open ON tasks (deployment_id) WHERE state IN ('queued', 'running');
CREATE INDEX tasks_node ON tasks (node) WHERE state = 'running';

-- One row per concurrency tag ever submitted. A claim locks the rows of the
-- tags it starts (FOR UPDATE SKIP LOCKED), so two nodes never race for one tag:
-- the second skips it and claims other tags instead of failing on the index.
CREATE TABLE tags (
  tag text PRIMARY KEY
);

CREATE TABLE actions (
  id          text PRIMARY KEY,
  task_id     text NOT NULL REFERENCES tasks (id),
  step_index  integer NOT NULL,
  step        text NOT NULL,
  target      text,
  worker      text,
  state       text NOT NULL CHECK (state IN ('pending', 'running', 'succeeded', 'failed', 'skipped', 'cancelled')),
  attempt     integer NOT NULL,
  started_at  bigint,
  finished_at bigint,
  exit_code   integer,
  message     text,
  waiting_on  text
);
CREATE INDEX actions_task ON actions (task_id, step_index);

-- Rule 3: the per-target mutex, one row per held target.
CREATE TABLE target_locks (
  target    text PRIMARY KEY,
  task_id   text NOT NULL,
  action_id text NOT NULL,
  since     bigint NOT NULL
);
CREATE INDEX target_locks_task ON target_locks (task_id);

CREATE TABLE events (
  id            bigserial PRIMARY KEY,
  deployment_id text NOT NULL,
  task_id       text,
  type          text NOT NULL,
  data          jsonb NOT NULL,
  at            bigint NOT NULL
);
CREATE INDEX events_deployment ON events (deployment_id, id);
CREATE INDEX events_task_log ON events (task_id, id) WHERE type = 'log';
`,
  `
-- The check-run outbox: one row per deployment that reports to GitHub.
CREATE TABLE check_runs (
  deployment_id text PRIMARY KEY REFERENCES deployments (id),
  check_run_id  bigint,
  version       integer NOT NULL,
  sent_version  integer NOT NULL DEFAULT 0,
  sent_at       bigint,
  annotations   integer NOT NULL DEFAULT 0,
  completed     boolean NOT NULL DEFAULT false,
  touched_at    bigint NOT NULL
);
CREATE INDEX check_runs_pending ON check_runs (touched_at) WHERE version > sent_version;
`,
];
