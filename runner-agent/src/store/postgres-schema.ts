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
  `
-- A claim in one round trip (design, scheduling rules 1 and 2). It walks the
-- queue in claim order a page at a time, as the embedded store does; a tag is
-- started only once its row in tags is locked, with SKIP LOCKED, so a tag
-- another node is claiming right now is passed over, not waited for. Once
-- locked, a tag's head and whether the tag runs are read again (each statement
-- here sees every claim committed before its lock was granted), so the unique
-- index over running tags is never the one to refuse. Raises FL001 when the
-- lease is stale.
CREATE FUNCTION claim_tasks(p_node text, p_epoch bigint, p_limit integer) RETURNS SETOF tasks
LANGUAGE plpgsql AS $$
DECLARE
  want integer;
  claimed integer := 0;
  after_priority integer := 2;
  after_seq bigint := 0;
  page_size integer;
  page_rows integer;
  seen text[] := '{}';
  fresh text[];
  batch text[];
  locked text[];
  limited text[];
  running_of jsonb;
  chosen text[];
  started integer;
  r record;
BEGIN
  -- The node row lock serializes this node's claims, so the cap holds.
  SELECT least(p_limit, n.task_cap - (SELECT count(*) FROM tasks t WHERE t.node = n.name AND t.state = 'running'))
    INTO want FROM nodes n WHERE n.name = p_node AND n.epoch = p_epoch FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'claim by node %: the lease is no longer held', p_node USING ERRCODE = 'FL001';
  END IF;
  -- Usually the first rows are claimable: read a little more than needed, and more if not.
  page_size := want + 8;
  WHILE claimed < want LOOP
    fresh := '{}';
    page_rows := 0;
    FOR r IN
      SELECT t.concurrency_tag AS tag, t.priority, t.seq FROM tasks t
      WHERE t.state = 'queued' AND (t.priority < after_priority OR (t.priority = after_priority AND t.seq > after_seq))
        AND NOT EXISTS (SELECT 1 FROM tasks x WHERE x.state = 'running' AND x.concurrency_tag = t.concurrency_tag)
      ORDER BY t.priority DESC, t.seq LIMIT page_size
    LOOP
      page_rows := page_rows + 1;
      after_priority := r.priority;
      after_seq := r.seq;
      IF NOT r.tag = ANY (seen) THEN
        seen := seen || r.tag;
        fresh := fresh || r.tag;
      END IF;
    END LOOP;
    -- Lock only about as many tags as there are free slots, so other nodes find the rest free.
    WHILE cardinality(fresh) > 0 AND claimed < want LOOP
      batch := fresh[1:want - claimed];
      fresh := fresh[want - claimed + 1:];
      SELECT coalesce(array_agg(l.tag), '{}') INTO locked
        FROM (SELECT g.tag FROM tags g WHERE g.tag = ANY (batch) ORDER BY g.tag FOR UPDATE SKIP LOCKED) l;
      CONTINUE WHEN cardinality(locked) = 0;
      -- maxRunningTasks across nodes: the limited deployments' rows are locked
      -- (in id order, so claims cannot deadlock) before their running tasks are counted.
      SELECT coalesce(array_agg(DISTINCT t.deployment_id ORDER BY t.deployment_id), '{}') INTO limited
        FROM tasks t JOIN deployments d ON d.id = t.deployment_id
        WHERE t.state = 'queued' AND t.concurrency_tag = ANY (locked) AND d.max_running > 0;
      running_of := '{}';
      IF cardinality(limited) > 0 THEN
        PERFORM 1 FROM deployments d WHERE d.id = ANY (limited) ORDER BY d.id FOR UPDATE;
        SELECT coalesce(jsonb_object_agg(c.deployment_id, c.n), '{}') INTO running_of
          FROM (SELECT t.deployment_id, count(*) AS n FROM tasks t
                WHERE t.deployment_id = ANY (limited) AND t.state = 'running' GROUP BY t.deployment_id) c;
      END IF;
      chosen := '{}';
      FOR r IN
        SELECT h.id, h.deployment_id, h.max_running FROM (
          SELECT DISTINCT ON (t.concurrency_tag) t.id, t.deployment_id, t.priority, t.seq, d.max_running
          FROM tasks t JOIN deployments d ON d.id = t.deployment_id
          WHERE t.state = 'queued' AND t.concurrency_tag = ANY (locked)
            AND NOT EXISTS (SELECT 1 FROM tasks x WHERE x.state = 'running' AND x.concurrency_tag = t.concurrency_tag)
          ORDER BY t.concurrency_tag, t.priority DESC, t.seq) h
        ORDER BY h.priority DESC, h.seq
      LOOP
        EXIT WHEN claimed + cardinality(chosen) >= want;
        IF r.max_running > 0 THEN
          -- A deployment that was not locked above (submitted meanwhile) waits for the next claim.
          CONTINUE WHEN NOT r.deployment_id = ANY (limited)
            OR coalesce((running_of ->> r.deployment_id)::int, 0) >= r.max_running;
          running_of := jsonb_set(running_of, ARRAY[r.deployment_id],
            to_jsonb(coalesce((running_of ->> r.deployment_id)::int, 0) + 1));
        END IF;
        chosen := chosen || r.id;
      END LOOP;
      CONTINUE WHEN cardinality(chosen) = 0;
      RETURN QUERY
        UPDATE tasks t SET state = 'running', node = p_node, epoch = p_epoch, started_at = now_ms(), message = NULL
        WHERE t.id = ANY (chosen) AND t.state = 'queued'
        RETURNING t.*;
      GET DIAGNOSTICS started = ROW_COUNT;
      claimed := claimed + started;
    END LOOP;
    EXIT WHEN page_rows < page_size;
    page_size := least(page_size * 4, 1024);
  END LOOP;
END $$;
`,
  `
-- Whether the node's last claim left slots free for want of claimable tasks.
-- Only then does another node's task end wake it: a NOTIFY serializes every
-- committing transaction that sends one, and a busy node claims again after
-- each of its own task ends anyway.
ALTER TABLE nodes ADD COLUMN hungry boolean NOT NULL DEFAULT false;
`,
  `
-- When an agent stopped (set by its stop, cleared when it registers again).
ALTER TABLE nodes ADD COLUMN stopped_at bigint;
`,
  `
-- OIDC token ids (jti) already accepted, by any node, until the token expires.
CREATE TABLE token_ids (
  jti        text PRIMARY KEY,
  expires_at bigint NOT NULL
);
CREATE INDEX token_ids_expiry ON token_ids (expires_at);
`,
  `
-- The claim's statements are planned once per connection, not on every call:
-- a custom plan per call cost a sixth of PostgreSQL's CPU under a busy queue,
-- and the queue's partial indexes serve generic plans as well.
ALTER FUNCTION claim_tasks(text, bigint, integer) SET plan_cache_mode = force_generic_plan;
`,
];
