export const id = 366;
export const ids = [366];
export const modules = {

/***/ 13366:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  openPostgresStore: () => (/* binding */ openPostgresStore)
});

// UNUSED EXPORTS: PostgresStore

// EXTERNAL MODULE: external "node:events"
var external_node_events_ = __webpack_require__(78474);
// EXTERNAL MODULE: ./node_modules/postgres/src/index.js + 9 modules
var src = __webpack_require__(71534);
// EXTERNAL MODULE: ./runner-agent/src/ids.ts
var ids = __webpack_require__(78894);
;// CONCATENATED MODULE: ./runner-agent/src/store/postgres-schema.ts
// The shared store's schema, as numbered migrations: the schema_version table
// records the last one applied and nodes apply only the newer ones, one node
// at a time (an advisory lock). A new migration is appended, never edited.
// Times are milliseconds since the epoch, always from the database's clock
// (now_ms()), so nodes with skewed clocks agree on leases.
const POSTGRES_MIGRATIONS = [
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

// EXTERNAL MODULE: ./runner-agent/src/store/rows.ts
var store_rows = __webpack_require__(45821);
// EXTERNAL MODULE: ./runner-agent/src/store/types.ts
var types = __webpack_require__(66143);
;// CONCATENATED MODULE: ./runner-agent/src/store/postgres.ts
// The shared store: PostgreSQL through the `postgres` package, for several
// coordinator nodes. Every rule that must hold across nodes is the database's:
// a partial unique index allows one running task per tag, claims lock one row
// per tag (FOR UPDATE SKIP LOCKED) so nodes never race for a tag, a claim
// cannot take a node past its task cap, every write under a lease checks the
// node's epoch (the fencing token), and time is the database's clock.
// Wake-ups go out through NOTIFY; see onWake.






const RUNNING_COUNT = `(SELECT count(*) FROM tasks t WHERE t.node = n.name AND t.state = 'running')::int AS running`;
/**
 * A task's writes find it by its primary key. Spelled `state = 'running'`, the
 * check would let the planner walk a partial index over running tasks instead
 * (right after a big submission's ANALYZE that index looks empty), whole, on
 * every action start and task end. Spelled with IS TRUE it means the same but
 * matches no index's predicate, so the primary key is the only way in.
 */
const RUNNING = `(state = 'running') IS TRUE`;
/** Submissions of at least this many tasks refresh the planner's statistics of the queue. */
const ANALYZE_AFTER_TASKS = 500;
/** Opens a store on `url`; tables go to the first schema of the connection's search_path. */
async function openPostgresStore(url, opts = {}) {
    let sql;
    try {
        sql = (0,src/* default */.A)(url, {
            // Few connections: statements issued together then share one
            // connection's round trip (postgres.js pipelines them), and fewer
            // PostgreSQL backends are woken per task. In the cluster benchmark 2
            // instead of 8 cut PostgreSQL's CPU per task by about a tenth; a
            // transaction holds one connection, the other carries the rest.
            max: 2,
            onnotice: () => { },
            connect_timeout: 10,
            connection: { application_name: opts.applicationName ?? 'flotilla' },
        });
    }
    catch (err) {
        throw new Error(`databaseUrl ${redacted(url)} is not a PostgreSQL URL: ${err.message}`);
    }
    try {
        const [where] = await sql `SELECT current_schema() AS schema`;
        const schema = where?.schema;
        if (!schema) {
            throw new Error('the database has no schema to create tables in (check search_path in the database URL)');
        }
        await migrate(sql, schema);
        const store = new PostgresStore(sql, `flotilla:${schema}`);
        await store.listen();
        return store;
    }
    catch (err) {
        await sql.end({ timeout: 1 });
        throw new Error(`cannot use the database at ${redacted(url)}: ${err.message}`);
    }
}
/** The URL without its password, for messages and logs. */
function redacted(url) {
    try {
        const u = new URL(url);
        if (u.password)
            u.password = '***';
        return u.toString();
    }
    catch {
        return '(an unparsable URL)';
    }
}
async function migrate(sql, schema) {
    await sql.begin(async (tx) => {
        // Nodes that start together migrate one at a time.
        await tx `SELECT pg_advisory_xact_lock(hashtext(${`flotilla-migrate:${schema}`}))`;
        await tx `CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)`;
        const [row] = await tx `SELECT max(version) AS v FROM schema_version`;
        const current = Number(row?.v ?? 0);
        if (current > POSTGRES_MIGRATIONS.length) {
            throw new Error(`the database was written by a newer Flotilla (schema ${current}, this one knows ${POSTGRES_MIGRATIONS.length}); upgrade the agent`);
        }
        for (const [i, text] of POSTGRES_MIGRATIONS.slice(current).entries()) {
            await tx.unsafe(text);
            await tx `INSERT INTO schema_version (version) VALUES (${current + i + 1})`;
        }
    });
}
class PostgresStore {
    kind = 'postgres';
    sql;
    channel;
    wake = new external_node_events_.EventEmitter();
    unlisten = null;
    constructor(sql, channel) {
        this.sql = sql;
        this.channel = channel;
        this.wake.setMaxListeners(0);
    }
    /** LISTEN on the store's channel (postgres re-listens after a lost connection). */
    async listen() {
        const l = await this.sql.listen(this.channel, (payload) => this.wake.emit('wake', payload));
        this.unlisten = l.unlisten;
    }
    /**
     * Calls `listener` when any node changed the queue (new, finished or
     * requeued tasks) or a node's cap. Notifications can be lost with a
     * connection, so callers still poll.
     */
    onWake(listener) {
        this.wake.on('wake', listener);
        return () => this.wake.off('wake', listener);
    }
    notify(tx, reason) {
        // Inside a transaction, delivered at commit.
        return tx `SELECT pg_notify(${this.channel}, ${reason})`;
    }
    async close() {
        await this.unlisten?.().catch(() => { });
        await this.sql.end({ timeout: 5 });
    }
    async now() {
        const [r] = await this.sql `SELECT now_ms() AS t`;
        return Number(r.t);
    }
    // ---- nodes --------------------------------------------------------------
    async registerNode(name, defaultCap) {
        const [r] = await this.sql `
      INSERT INTO nodes AS n (name, task_cap, epoch, heartbeat_at, started_at)
      VALUES (${name}, ${defaultCap}, 1, now_ms(), now_ms())
      ON CONFLICT (name) DO UPDATE
        SET epoch = n.epoch + 1, heartbeat_at = excluded.heartbeat_at, started_at = excluded.started_at,
          stopped_at = NULL
      RETURNING n.*, ${this.sql.unsafe(RUNNING_COUNT)}`;
        return (0,store_rows/* toNode */.ye)(r);
    }
    async nodeRow(name) {
        const [r] = await this
            .sql `SELECT n.*, ${this.sql.unsafe(RUNNING_COUNT)} FROM nodes n WHERE n.name = ${name}`;
        return r ? (0,store_rows/* toNode */.ye)(r) : null;
    }
    async heartbeat(lease) {
        const r = await this.sql `
      UPDATE nodes SET heartbeat_at = now_ms() WHERE name = ${lease.node} AND epoch = ${lease.epoch}`;
        if (r.count === 0)
            throw new types/* StaleLeaseError */.Q2(`heartbeat of node ${lease.node}`);
    }
    async leaveNode(lease) {
        await this
            .sql `UPDATE nodes SET stopped_at = now_ms() WHERE name = ${lease.node} AND epoch = ${lease.epoch}`;
    }
    /** Runs a cap change and tells the node (wherever it runs) at commit. */
    async changeCap(name, change) {
        await this.sql.begin(async (tx) => {
            await change(tx);
            await this.notify(tx, `node:${name}`);
        });
        return this.nodeRow(name);
    }
    async setTaskCap(name, cap) {
        // Cap 0 is a drain: like drainNode, remember the cap to resume to. A cap
        // above 0 is the new cap to resume to later, so a stale one is forgotten.
        return this.changeCap(name, (tx) => tx `
        UPDATE nodes SET
          resume_cap = CASE WHEN ${cap}::int > 0 THEN NULL WHEN task_cap > 0 THEN task_cap ELSE resume_cap END,
          task_cap = ${cap}
        WHERE name = ${name}`);
    }
    async drainNode(name) {
        return this.changeCap(name, (tx) => tx `
        UPDATE nodes SET resume_cap = CASE WHEN task_cap > 0 THEN task_cap ELSE resume_cap END, task_cap = 0
        WHERE name = ${name}`);
    }
    async resumeNode(name, defaultCap) {
        return this.changeCap(name, (tx) => tx `
        UPDATE nodes SET task_cap = COALESCE(resume_cap, ${defaultCap}), resume_cap = NULL
        WHERE name = ${name} AND task_cap = 0`);
    }
    async listNodes() {
        return (await this.sql `SELECT n.*, ${this.sql.unsafe(RUNNING_COUNT)} FROM nodes n ORDER BY n.name`).map(store_rows/* toNode */.ye);
    }
    // ---- deployments ----------------------------------------------------------
    async createDeployment(input) {
        if (input.idempotencyKey) {
            const existing = await this.existingDeployment(input.idempotencyKey);
            if (existing)
                return existing;
        }
        const id = (0,ids/* newId */.S)('dep');
        const priority = input.plan.priority === 'high' ? 1 : 0;
        const inserted = await this.sql.begin(async (tx) => {
            const [d] = await tx `
        INSERT INTO deployments (id, idempotency_key, project, environment, release, plan, github, secret_values, max_running, state, created_at)
        VALUES (${id}, ${input.idempotencyKey ?? null}, ${input.project}, ${input.environment}, ${input.release},
          ${JSON.stringify(input.plan)}::text::jsonb, ${input.github ? JSON.stringify(input.github) : null}::text::jsonb,
          ${JSON.stringify(input.secrets)}::text::jsonb, ${input.plan.concurrency.maxRunningTasks}, 'queued', now_ms())
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING id`;
            // A concurrent submission with the same key won: answer with its deployment.
            if (!d)
                return false;
            if (input.tasks.length > 0) {
                // Sorted, so two submissions adding the same new tags cannot deadlock.
                const tagList = [...new Set(input.tasks.map((t) => t.concurrencyTag))].sort();
                await tx `INSERT INTO tags (tag) SELECT unnest(${tagList}::text[]) ON CONFLICT DO NOTHING`;
                const seqs = (await tx `SELECT nextval('task_seq') AS s FROM generate_series(1, ${input.tasks.length})`)
                    .map((r) => Number(r.s))
                    .sort((a, b) => a - b);
                await tx `
          INSERT INTO tasks (id, seq, deployment_id, tenant, concurrency_tag, priority, state, queued_at)
          SELECT u.id, u.seq, ${id}, u.tenant, u.tag, ${priority}, 'queued', now_ms()
          FROM unnest(${input.tasks.map(() => (0,ids/* newId */.S)('tsk'))}::text[], ${seqs}::bigint[],
                      ${input.tasks.map((t) => t.tenant)}::text[], ${input.tasks.map((t) => t.concurrencyTag)}::text[])
            AS u (id, seq, tenant, tag)`;
                await this.notify(tx, 'queue');
            }
            return true;
        });
        if (!inserted) {
            const existing = await this.existingDeployment(input.idempotencyKey);
            if (existing)
                return existing;
        }
        // The claim's queries are planned from the table's statistics. A big
        // submission changes the queue faster than autovacuum looks (a minute),
        // and plans made for an empty queue walk every queued row on each claim.
        if (input.tasks.length >= ANALYZE_AFTER_TASKS)
            await this.sql `ANALYZE tasks`;
        return { deployment: (await this.getDeployment(id)), tasks: await this.tasksOf(id), created: true };
    }
    async existingDeployment(key) {
        const [r] = await this.sql `SELECT * FROM deployments WHERE idempotency_key = ${key}`;
        if (!r)
            return null;
        const deployment = (0,store_rows/* toDeployment */.HG)(r);
        return { deployment, tasks: await this.tasksOf(deployment.id), created: false };
    }
    async getDeployment(id) {
        const [r] = await this.sql `SELECT * FROM deployments WHERE id = ${id}`;
        return r ? (0,store_rows/* toDeployment */.HG)(r) : null;
    }
    async listDeployments(limit) {
        return (await this.sql `SELECT * FROM deployments ORDER BY created_at DESC, id DESC LIMIT ${limit}`).map(store_rows/* toDeployment */.HG);
    }
    async setDeploymentState(id, state) {
        const terminal = !['queued', 'running'].includes(state);
        const r = await this.sql `
      UPDATE deployments SET state = ${state}, finished_at = CASE WHEN ${terminal}::boolean THEN now_ms() END
      WHERE id = ${id} AND state IN ('queued', 'running') AND state <> ${state}`;
        return r.count > 0;
    }
    // ---- tasks ----------------------------------------------------------------
    async getTask(id) {
        const [r] = await this.sql `SELECT * FROM tasks WHERE id = ${id}`;
        return r ? (0,store_rows/* toTask */.FM)(r) : null;
    }
    async tasksOf(deploymentId) {
        return (await this.sql `SELECT * FROM tasks WHERE deployment_id = ${deploymentId} ORDER BY seq`).map(store_rows/* toTask */.FM);
    }
    async hasOpenTasks(deploymentId) {
        const r = await this.sql `
      SELECT 1 FROM tasks WHERE deployment_id = ${deploymentId} AND state IN ('queued', 'running') LIMIT 1`;
        return r.length > 0;
    }
    async queuedTasks(limit = 100_000) {
        return (await this
            .sql `SELECT * FROM tasks WHERE state = 'queued' ORDER BY ${this.sql.unsafe(store_rows/* claimOrder */.Ln)} LIMIT ${limit}`).map(store_rows/* toTask */.FM);
    }
    async runningTasks() {
        return (await this.sql `SELECT * FROM tasks WHERE state = 'running' ORDER BY started_at, seq`).map(store_rows/* toTask */.FM);
    }
    /** One round trip: claim_tasks (postgres-schema.ts) holds the rules. */
    async claimTasks(lease, limit) {
        if (limit <= 0)
            return [];
        try {
            // A claim that leaves slots free marks the node hungry (see finishTask);
            // the row is written only when that changes.
            const rows = await this.sql `
        WITH claimed AS (SELECT * FROM claim_tasks(${lease.node}, ${lease.epoch}, ${limit})),
        hunger AS (
          UPDATE nodes SET hungry = NOT hungry
          WHERE name = ${lease.node} AND hungry <> ((SELECT count(*) FROM claimed) < ${limit})
        )
        SELECT * FROM claimed`;
            return rows.map(store_rows/* toTask */.FM).sort((a, b) => b.priority - a.priority || a.seq - b.seq);
        }
        catch (err) {
            if (err.code === 'FL001')
                throw new types/* StaleLeaseError */.Q2(`claim by node ${lease.node}`);
            throw err;
        }
    }
    async startAction(start, fence, insert = []) {
        if (!fence) {
            await this.insertActions(insert);
            await this.sql `
        UPDATE actions SET state = 'running', attempt = ${start.attempt}, started_at = ${start.startedAt},
          worker = ${start.worker}, waiting_on = NULL
        WHERE id = ${start.id}`;
            return;
        }
        // One statement: the fence, the task's action rows and the action's start
        // commit together or not at all. A row inserted here is written started
        // (a statement cannot update the rows it inserts).
        const started = insert.find((a) => a.id === start.id);
        const rows = insert.map((a) => a === started ? { ...a, state: 'running', attempt: start.attempt, worker: start.worker } : a);
        const [r] = await this.sql `
      WITH fenced AS (
        UPDATE tasks SET action_started = true
        WHERE id = ${start.taskId} AND ${this.sql.unsafe(RUNNING)} AND node = ${fence.node} AND epoch = ${fence.epoch}
          AND EXISTS (SELECT 1 FROM nodes WHERE name = ${fence.node} AND epoch = ${fence.epoch})
        RETURNING id
      ), inserted AS (
        INSERT INTO actions (id, task_id, step_index, step, target, worker, state, attempt, started_at)
        SELECT u.*, CASE WHEN u.id = ${start.id} THEN ${start.startedAt}::bigint END
        FROM ${this.unnestActions(rows)} WHERE EXISTS (SELECT 1 FROM fenced)
      ), started AS (
        UPDATE actions SET state = 'running', attempt = ${start.attempt}, started_at = ${start.startedAt},
          worker = ${start.worker}, waiting_on = NULL
        WHERE id = ${start.id} AND ${!started} AND EXISTS (SELECT 1 FROM fenced)
      )
      SELECT count(*)::int AS n FROM fenced`;
        if (!r || r.n === 0)
            throw new types/* StaleLeaseError */.Q2(`task ${start.taskId}`);
    }
    async finishTask(taskId, lease, state, message, actionEnds = [], handoffs = []) {
        const col = (k) => actionEnds.map((e) => e[k]);
        const passed = (k) => handoffs.map((h) => h[k]);
        // One statement (one round trip, its own transaction): the finish, its
        // last action ends, the release of the task's target locks (or their
        // passing to actions waiting for them) and, when a
        // node waits for work, the wake-up of other nodes. This node claims again
        // right after; busy nodes do after their own task ends.
        // Fencing: an epoch the node has since moved past (a re-registration, or
        // a lease taken from it) is stale even before recoverTasks moved the task.
        const [r] = await this.sql `
      WITH finished AS (
        UPDATE tasks SET state = ${state}, finished_at = now_ms(), message = ${message}
        WHERE id = ${taskId} AND ${this.sql.unsafe(RUNNING)} AND node = ${lease.node} AND epoch = ${lease.epoch}
          AND EXISTS (SELECT 1 FROM nodes WHERE name = ${lease.node} AND epoch = ${lease.epoch})
        RETURNING id
      ), ended AS (
        UPDATE actions a SET state = u.state, finished_at = u.finished_at, exit_code = u.exit_code, message = u.message,
          waiting_on = NULL
        FROM unnest(${col('id')}::text[], ${col('state')}::text[], ${col('finishedAt')}::bigint[],
          ${col('exitCode')}::int[], ${col('message')}::text[]) AS u (id, state, finished_at, exit_code, message)
        -- By the task's own actions: a join over a few ids is planned as a
        -- scan of every action while the statistics still count few.
        WHERE a.task_id = ${taskId} AND a.id = u.id AND EXISTS (SELECT 1 FROM finished)
      ), passed AS (
        UPDATE target_locks l SET task_id = h.task_id, action_id = h.action_id, since = now_ms()
        FROM unnest(${passed('target')}::text[], ${passed('taskId')}::text[], ${passed('actionId')}::text[])
          AS h (target, task_id, action_id)
        WHERE l.target = h.target AND l.task_id IN (SELECT id FROM finished)
      ), released AS (
        DELETE FROM target_locks WHERE task_id IN (SELECT id FROM finished)
          AND target <> ALL(${passed('target')}::text[])
      )
      SELECT count(*)::int AS n, (
        SELECT count(pg_notify(${this.channel}, 'queue')) FROM finished
        WHERE EXISTS (SELECT 1 FROM nodes WHERE hungry AND name <> ${lease.node})
      ) AS woke
      FROM finished`;
        if (!r || r.n === 0)
            throw new types/* StaleLeaseError */.Q2(`task ${taskId}`);
    }
    async cancelQueued(deploymentId, message) {
        return (await this.sql `
        UPDATE tasks SET state = 'cancelled', finished_at = now_ms(), message = ${message}
        WHERE deployment_id = ${deploymentId} AND state = 'queued' RETURNING *`).map(store_rows/* toTask */.FM);
    }
    async supersedeQueued(tags, beforeSeq, message) {
        if (tags.length === 0)
            return [];
        return (await this.sql `
        UPDATE tasks SET state = 'cancelled', finished_at = now_ms(), message = ${message}
        WHERE state = 'queued' AND seq < ${beforeSeq} AND concurrency_tag = ANY(${tags}::text[]) RETURNING *`).map(store_rows/* toTask */.FM);
    }
    /**
     * The crash rule. Nodes that recover at the same time split the work: each
     * task row is locked with SKIP LOCKED. A node whose tasks are taken for a
     * stale heartbeat also loses its epoch, so if it was only slow (not dead) it
     * finds out at its next heartbeat and can no longer claim under the old one.
     */
    async recoverTasks(opts) {
        const out = await this.sql.begin(async (tx) => {
            const stale = await tx `
        SELECT t.*, d.plan ->> 'onInterrupt' AS on_interrupt,
          (n.name IS NULL OR n.heartbeat_at < ${opts.staleBefore ?? null}::bigint) AS lease_expired
        FROM tasks t
        JOIN deployments d ON d.id = t.deployment_id
        LEFT JOIN nodes n ON n.name = t.node
        WHERE t.state = 'running' AND (
          (${opts.node ?? null}::text IS NOT NULL AND t.node = ${opts.node ?? null} AND t.epoch < ${opts.currentEpoch ?? 0}) OR
          (${opts.staleBefore ?? null}::bigint IS NOT NULL AND (n.heartbeat_at IS NULL OR n.heartbeat_at < ${opts.staleBefore ?? 0})))
        FOR UPDATE OF t SKIP LOCKED`;
            const recovered = [];
            for (const r of stale) {
                const task = (0,store_rows/* afterCrash */.QB)((0,store_rows/* toTask */.FM)(r), r.on_interrupt);
                if (task.state === 'queued') {
                    await tx `
            UPDATE tasks SET state = 'queued', node = NULL, epoch = NULL, started_at = NULL, action_started = false, message = ${task.message}
            WHERE id = ${task.id}`;
                    recovered.push(task);
                }
                else {
                    const [done] = await tx `
            UPDATE tasks SET state = 'interrupted', finished_at = now_ms(), message = ${task.message}
            WHERE id = ${task.id} RETURNING finished_at`;
                    recovered.push({ ...task, finishedAt: Number(done.finished_at) });
                }
            }
            const ids = recovered.map((t) => t.id);
            if (ids.length === 0)
                return recovered;
            await tx `
        UPDATE actions SET state = 'cancelled', finished_at = now_ms()
        WHERE task_id = ANY(${ids}::text[]) AND state IN ('pending', 'running')`;
            await tx `DELETE FROM target_locks WHERE task_id = ANY(${ids}::text[])`;
            const expired = [...new Set(stale.filter((r) => r.lease_expired).map((r) => String(r.node)))];
            if (expired.length > 0 && opts.staleBefore !== undefined) {
                await tx `
          UPDATE nodes SET epoch = epoch + 1, hungry = false
          WHERE name = ANY(${expired}::text[]) AND heartbeat_at < ${opts.staleBefore}`;
            }
            await this.insertEvents(tx, recovered.map(store_rows/* recoveryEvent */.Q6));
            await this.notify(tx, 'queue');
            return recovered;
        });
        return out;
    }
    // ---- actions and target locks ---------------------------------------------
    async insertActions(actions) {
        if (actions.length === 0)
            return;
        await this.sql `
      INSERT INTO actions (id, task_id, step_index, step, target, worker, state, attempt)
      SELECT * FROM ${this.unnestActions(actions)}`;
    }
    /** Action rows as a table `u` (id, task_id, step_index, step, target, worker, state, attempt). */
    unnestActions(actions) {
        const col = (k) => actions.map((a) => a[k]);
        return this.sql `
      unnest(${col('id')}::text[], ${col('taskId')}::text[], ${col('stepIndex')}::int[],
        ${col('step')}::text[], ${col('target')}::text[], ${col('worker')}::text[], ${col('state')}::text[],
        ${col('attempt')}::int[]) AS u (id, task_id, step_index, step, target, worker, state, attempt)`;
    }
    async updateAction(id, patch) {
        const set = {};
        for (const [k, v] of Object.entries(patch)) {
            const c = store_rows/* ACTION_COLUMNS */.Tw[k];
            if (c && v !== undefined)
                set[c] = v;
        }
        if (Object.keys(set).length === 0)
            return;
        await this.sql `UPDATE actions SET ${this.sql(set)} WHERE id = ${id}`;
    }
    async finishAction(end, heldTarget, next) {
        // One statement, one round trip: the end and the release (or passing on) of its target.
        const [r] = await this.sql `
      WITH ended AS (
        UPDATE actions SET state = ${end.state}, finished_at = ${end.finishedAt}, exit_code = ${end.exitCode},
          message = ${end.message}, waiting_on = NULL
        WHERE id = ${end.id}
      ), released AS (
        ${this.releaseLock(heldTarget, end.id, next)}
      )
      SELECT count(*)::int AS n FROM released`;
        if (next && heldTarget !== null && r?.n === 0)
            throw new types/* LockNotHeldError */.iV(heldTarget, end.id);
    }
    /** Deletes the target's lock row held by the action, or gives it to `next`: the row is never free. */
    releaseLock(target, actionId, next) {
        return next
            ? this
                .sql `UPDATE target_locks SET task_id = ${next.taskId}, action_id = ${next.actionId}, since = now_ms()
          WHERE target = ${target} AND action_id = ${actionId} RETURNING target`
            : this
                .sql `DELETE FROM target_locks WHERE target = ${target} AND action_id = ${actionId} RETURNING target`;
    }
    async actionsOf(taskIds) {
        if (taskIds.length === 0)
            return [];
        return (await this.sql `
        SELECT * FROM actions WHERE task_id = ANY(${taskIds}::text[])
        ORDER BY task_id, step_index, target NULLS FIRST`).map(store_rows/* toAction */.ih);
    }
    async lockTarget(target, taskId, actionId) {
        // The holder can let go between the refused insert and the look-up: try again then.
        for (;;) {
            const [r] = await this.sql `
        WITH ins AS (
          INSERT INTO target_locks (target, task_id, action_id, since) VALUES (${target}, ${taskId}, ${actionId}, now_ms())
          ON CONFLICT DO NOTHING RETURNING task_id
        )
        SELECT (SELECT task_id FROM ins) AS mine, (SELECT task_id FROM target_locks WHERE target = ${target}) AS holder`;
            if (r?.mine)
                return { ok: true };
            if (r?.holder)
                return { ok: false, holder: String(r.holder) };
        }
    }
    async unlockTarget(target, actionId, next) {
        const rows = await this.releaseLock(target, actionId, next);
        if (next && rows.length === 0)
            throw new types/* LockNotHeldError */.iV(target, actionId);
    }
    // ---- events -----------------------------------------------------------------
    async appendEvents(events) {
        await this.insertEvents(this.sql, events);
    }
    async insertEvents(sql, events) {
        if (events.length === 0)
            return;
        // Ids must be handed out in commit order: a reader paging by id past an
        // uncommitted lower id would skip it for good. So one writer at a time:
        // the advisory lock is taken before any row gets its id and held until
        // the transaction commits.
        await sql `
      WITH one_writer AS (SELECT pg_advisory_xact_lock(hashtext(${`${this.channel}:events`})))
      INSERT INTO events (deployment_id, task_id, type, data, at)
      SELECT u.deployment_id, u.task_id, u.type, u.data::jsonb, COALESCE(u.at, now_ms())
      FROM one_writer, unnest(${events.map((e) => e.deploymentId)}::text[], ${events.map((e) => e.taskId)}::text[],
        ${events.map((e) => e.type)}::text[], ${events.map((e) => JSON.stringify(e.data))}::text[],
        ${events.map((e) => e.at ?? null)}::bigint[])
        WITH ORDINALITY AS u (deployment_id, task_id, type, data, at, n)
      ORDER BY u.n`;
    }
    async eventsSince(deploymentId, afterId, limit) {
        return (await this.sql `
        SELECT * FROM events WHERE deployment_id = ${deploymentId} AND id > ${afterId} ORDER BY id LIMIT ${limit}`).map(store_rows/* toEvent */.IZ);
    }
    async taskLog(taskId) {
        return (await this.sql `SELECT * FROM events WHERE task_id = ${taskId} AND type = 'log' ORDER BY id`).map(store_rows/* toEvent */.IZ);
    }
    async useTokenId(jti, expiresAt) {
        const [r] = await this.sql `
      WITH expired AS (DELETE FROM token_ids WHERE expires_at < now_ms())
      INSERT INTO token_ids (jti, expires_at) VALUES (${jti}, ${expiresAt})
      ON CONFLICT DO NOTHING RETURNING 1 AS ok`;
        return r !== undefined;
    }
    // ---- the check-run outbox -------------------------------------------------
    async touchCheckRun(deploymentId) {
        await this.sql `
      INSERT INTO check_runs AS c (deployment_id, version, touched_at) VALUES (${deploymentId}, 1, now_ms())
      ON CONFLICT (deployment_id) DO UPDATE SET version = c.version + 1, touched_at = excluded.touched_at
      WHERE NOT c.completed`;
    }
    async pendingCheckRuns(limit) {
        return (await this.sql `SELECT * FROM check_runs WHERE version > sent_version ORDER BY touched_at LIMIT ${limit}`).map(store_rows/* toCheckRun */.N_);
    }
    async getCheckRun(deploymentId) {
        const [r] = await this.sql `SELECT * FROM check_runs WHERE deployment_id = ${deploymentId}`;
        return r ? (0,store_rows/* toCheckRun */.N_)(r) : null;
    }
    async markCheckRunSent(deploymentId, sent) {
        await this.sql `
      UPDATE check_runs SET sent_version = GREATEST(sent_version, ${sent.version}), check_run_id = ${sent.checkRunId},
        sent_at = ${sent.at}, annotations = ${sent.annotations}, completed = ${sent.completed}
      WHERE deployment_id = ${deploymentId}`;
    }
}


/***/ })

};
