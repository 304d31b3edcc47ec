// The shared store: PostgreSQL through the `postgres` package, for several
// coordinator nodes. Every rule that must hold across nodes is the database's:
// a partial unique index allows one running task per tag, claims lock one row
// per tag (FOR UPDATE SKIP LOCKED) so nodes never race for a tag, a claim
// cannot take a node past its task cap, every write under a lease checks the
// node's epoch (the fencing token), and time is the database's clock.
// Wake-ups go out through NOTIFY; see onWake.
import { EventEmitter } from 'node:events';
import postgres from 'postgres';
import { newId } from '../ids.ts';
import { POSTGRES_MIGRATIONS } from './postgres-schema.ts';
import {
  ACTION_COLUMNS,
  afterCrash,
  claimOrder,
  recoveryEvent,
  toAction,
  toCheckRun,
  toDeployment,
  toEvent,
  toNode,
  toTask,
} from './rows.ts';
import {
  type ActionEnd,
  type ActionRow,
  type ActionStart,
  type CheckRunRow,
  type DeploymentRow,
  type DeploymentState,
  type EventRow,
  type Lease,
  type LockHolder,
  LockNotHeldError,
  type NewAction,
  type NewDeployment,
  type NewEvent,
  type NodeRow,
  StaleLeaseError,
  type Store,
  type TargetHandoff,
  type TaskRow,
  type TaskState,
} from './types.ts';

type Sql = postgres.Sql | postgres.TransactionSql;

/** What a NOTIFY on the store's channel says: the queue changed, or a node's cap did. */
type WakeReason = 'queue' | `node:${string}`;

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
export async function openPostgresStore(
  url: string,
  opts: { applicationName?: string } = {},
): Promise<PostgresStore> {
  let sql: postgres.Sql;
  try {
    sql = postgres(url, {
      // Few connections: statements issued together then share one
      // connection's round trip (postgres.js pipelines them), and fewer
      // PostgreSQL backends are woken per task. In the cluster benchmark 2
      // instead of 8 cut PostgreSQL's CPU per task by about a tenth; a
      // transaction holds one connection, the other carries the rest.
      max: 2,
      onnotice: () => {},
      connect_timeout: 10,
      connection: { application_name: opts.applicationName ?? 'flotilla' },
    });
  } catch (err) {
    throw new Error(`databaseUrl ${redacted(url)} is not a PostgreSQL URL: ${(err as Error).message}`);
  }
  try {
    const [where] = await sql`SELECT current_schema() AS schema`;
    const schema = where?.schema as string | null;
    if (!schema) {
      throw new Error(
        'the database has no schema to create tables in (check search_path in the database URL)',
      );
    }
    await migrate(sql, schema);
    const store = new PostgresStore(sql, `flotilla:${schema}`);
    await store.listen();
    return store;
  } catch (err) {
    await sql.end({ timeout: 1 });
    throw new Error(`cannot use the database at ${redacted(url)}: ${(err as Error).message}`);
  }
}

/** The URL without its password, for messages and logs. */
function redacted(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(an unparsable URL)';
  }
}

async function migrate(sql: postgres.Sql, schema: string): Promise<void> {
  await sql.begin(async (tx) => {
    // Nodes that start together migrate one at a time.
    await tx`SELECT pg_advisory_xact_lock(hashtext(${`flotilla-migrate:${schema}`}))`;
    await tx`CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)`;
    const [row] = await tx`SELECT max(version) AS v FROM schema_version`;
    const current = Number(row?.v ?? 0);
    if (current > POSTGRES_MIGRATIONS.length) {
      throw new Error(
        `the database was written by a newer Flotilla (schema ${current}, this one knows ${POSTGRES_MIGRATIONS.length}); upgrade the agent`,
      );
    }
    for (const [i, text] of POSTGRES_MIGRATIONS.slice(current).entries()) {
      await tx.unsafe(text);
      await tx`INSERT INTO schema_version (version) VALUES (${current + i + 1})`;
    }
  });
}

export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  private readonly sql: postgres.Sql;
  private readonly channel: string;
  private readonly wake = new EventEmitter();
  private unlisten: (() => Promise<void>) | null = null;

  constructor(sql: postgres.Sql, channel: string) {
    this.sql = sql;
    this.channel = channel;
    this.wake.setMaxListeners(0);
  }

  /** LISTEN on the store's channel (postgres re-listens after a lost connection). */
  async listen(): Promise<void> {
    const l = await this.sql.listen(this.channel, (payload) => this.wake.emit('wake', payload));
    this.unlisten = l.unlisten;
  }

  /**
   * Calls `listener` when any node changed the queue (new, finished or
   * requeued tasks) or a node's cap. Notifications can be lost with a
   * connection, so callers still poll.
   */
  onWake(listener: (reason: string) => void): () => void {
    this.wake.on('wake', listener);
    return () => this.wake.off('wake', listener);
  }

  private notify(tx: Sql, reason: WakeReason) {
    // Inside a transaction, delivered at commit.
    return tx`SELECT pg_notify(${this.channel}, ${reason})`;
  }

  async close(): Promise<void> {
    await this.unlisten?.().catch(() => {});
    await this.sql.end({ timeout: 5 });
  }

  async now(): Promise<number> {
    const [r] = await this.sql`SELECT now_ms() AS t`;
    return Number(r!.t);
  }

  // ---- nodes --------------------------------------------------------------

  async registerNode(name: string, defaultCap: number): Promise<NodeRow> {
    const [r] = await this.sql`
      INSERT INTO nodes AS n (name, task_cap, epoch, heartbeat_at, started_at)
      VALUES (${name}, ${defaultCap}, 1, now_ms(), now_ms())
      ON CONFLICT (name) DO UPDATE
        SET epoch = n.epoch + 1, heartbeat_at = excluded.heartbeat_at, started_at = excluded.started_at,
          stopped_at = NULL
      RETURNING n.*, ${this.sql.unsafe(RUNNING_COUNT)}`;
    return toNode(r!);
  }

  private async nodeRow(name: string): Promise<NodeRow | null> {
    const [r] = await this
      .sql`SELECT n.*, ${this.sql.unsafe(RUNNING_COUNT)} FROM nodes n WHERE n.name = ${name}`;
    return r ? toNode(r) : null;
  }

  async heartbeat(lease: Lease): Promise<void> {
    const r = await this.sql`
      UPDATE nodes SET heartbeat_at = now_ms() WHERE name = ${lease.node} AND epoch = ${lease.epoch}`;
    if (r.count === 0) throw new StaleLeaseError(`heartbeat of node ${lease.node}`);
  }

  async leaveNode(lease: Lease): Promise<void> {
    await this
      .sql`UPDATE nodes SET stopped_at = now_ms() WHERE name = ${lease.node} AND epoch = ${lease.epoch}`;
  }

  /** Runs a cap change and tells the node (wherever it runs) at commit. */
  private async changeCap(name: string, change: (tx: Sql) => Promise<unknown>): Promise<NodeRow | null> {
    await this.sql.begin(async (tx) => {
      await change(tx);
      await this.notify(tx, `node:${name}`);
    });
    return this.nodeRow(name);
  }

  async setTaskCap(name: string, cap: number): Promise<NodeRow | null> {
    // Cap 0 is a drain: like drainNode, remember the cap to resume to. A cap
    // above 0 is the new cap to resume to later, so a stale one is forgotten.
    return this.changeCap(
      name,
      (tx) => tx`
        UPDATE nodes SET
          resume_cap = CASE WHEN ${cap}::int > 0 THEN NULL WHEN task_cap > 0 THEN task_cap ELSE resume_cap END,
          task_cap = ${cap}
        WHERE name = ${name}`,
    );
  }

  async drainNode(name: string): Promise<NodeRow | null> {
    return this.changeCap(
      name,
      (tx) => tx`
        UPDATE nodes SET resume_cap = CASE WHEN task_cap > 0 THEN task_cap ELSE resume_cap END, task_cap = 0
        WHERE name = ${name}`,
    );
  }

  async resumeNode(name: string, defaultCap: number): Promise<NodeRow | null> {
    return this.changeCap(
      name,
      (tx) => tx`
        UPDATE nodes SET task_cap = COALESCE(resume_cap, ${defaultCap}), resume_cap = NULL
        WHERE name = ${name} AND task_cap = 0`,
    );
  }

  async listNodes(): Promise<NodeRow[]> {
    return (await this.sql`SELECT n.*, ${this.sql.unsafe(RUNNING_COUNT)} FROM nodes n ORDER BY n.name`).map(
      toNode,
    );
  }

  // ---- deployments ----------------------------------------------------------

  async createDeployment(input: NewDeployment) {
    if (input.idempotencyKey) {
      const existing = await this.existingDeployment(input.idempotencyKey);
      if (existing) return existing;
    }
    const id = newId('dep');
    const priority = input.plan.priority === 'high' ? 1 : 0;
    const inserted = await this.sql.begin(async (tx) => {
      const [d] = await tx`
        INSERT INTO deployments (id, idempotency_key, project, environment, release, plan, github, secret_values, max_running, state, created_at)
        VALUES (${id}, ${input.idempotencyKey ?? null}, ${input.project}, ${input.environment}, ${input.release},
          ${JSON.stringify(input.plan)}::text::jsonb, ${input.github ? JSON.stringify(input.github) : null}::text::jsonb,
          ${JSON.stringify(input.secrets)}::text::jsonb, ${input.plan.concurrency.maxRunningTasks}, 'queued', now_ms())
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING id`;
      // A concurrent submission with the same key won: answer with its deployment.
      if (!d) return false;
      if (input.tasks.length > 0) {
        // Sorted, so two submissions adding the same new tags cannot deadlock.
        const tagList = [...new Set(input.tasks.map((t) => t.concurrencyTag))].sort();
        await tx`INSERT INTO tags (tag) SELECT unnest(${tagList}::text[]) ON CONFLICT DO NOTHING`;
        const seqs = (
          await tx`SELECT nextval('task_seq') AS s FROM generate_series(1, ${input.tasks.length})`
        )
          .map((r) => Number(r.s))
          .sort((a, b) => a - b);
        await tx`
          INSERT INTO tasks (id, seq, deployment_id, tenant, concurrency_tag, priority, state, queued_at)
          SELECT u.id, u.seq, ${id}, u.tenant, u.tag, ${priority}, 'queued', now_ms()
          FROM unnest(${input.tasks.map(() => newId('tsk'))}::text[], ${seqs}::bigint[],
                      ${input.tasks.map((t) => t.tenant)}::text[], ${input.tasks.map((t) => t.concurrencyTag)}::text[])
            AS u (id, seq, tenant, tag)`;
        await this.notify(tx, 'queue');
      }
      return true;
    });
    if (!inserted) {
      const existing = await this.existingDeployment(input.idempotencyKey!);
      if (existing) return existing;
    }
    // The claim's queries are planned from the table's statistics. A big
    // submission changes the queue faster than autovacuum looks (a minute),
    // and plans made for an empty queue walk every queued row on each claim.
    if (input.tasks.length >= ANALYZE_AFTER_TASKS) await this.sql`ANALYZE tasks`;
    return { deployment: (await this.getDeployment(id))!, tasks: await this.tasksOf(id), created: true };
  }

  private async existingDeployment(key: string) {
    const [r] = await this.sql`SELECT * FROM deployments WHERE idempotency_key = ${key}`;
    if (!r) return null;
    const deployment = toDeployment(r);
    return { deployment, tasks: await this.tasksOf(deployment.id), created: false };
  }

  async getDeployment(id: string): Promise<DeploymentRow | null> {
    const [r] = await this.sql`SELECT * FROM deployments WHERE id = ${id}`;
    return r ? toDeployment(r) : null;
  }

  async listDeployments(limit: number): Promise<DeploymentRow[]> {
    return (await this.sql`SELECT * FROM deployments ORDER BY created_at DESC, id DESC LIMIT ${limit}`).map(
      toDeployment,
    );
  }

  async setDeploymentState(id: string, state: DeploymentState): Promise<boolean> {
    const terminal = !['queued', 'running'].includes(state);
    const r = await this.sql`
      UPDATE deployments SET state = ${state}, finished_at = CASE WHEN ${terminal}::boolean THEN now_ms() END
      WHERE id = ${id} AND state IN ('queued', 'running') AND state <> ${state}`;
    return r.count > 0;
  }

  // ---- tasks ----------------------------------------------------------------

  async getTask(id: string): Promise<TaskRow | null> {
    const [r] = await this.sql`SELECT * FROM tasks WHERE id = ${id}`;
    return r ? toTask(r) : null;
  }

  async tasksOf(deploymentId: string): Promise<TaskRow[]> {
    return (await this.sql`SELECT * FROM tasks WHERE deployment_id = ${deploymentId} ORDER BY seq`).map(
      toTask,
    );
  }

  async hasOpenTasks(deploymentId: string): Promise<boolean> {
    const r = await this.sql`
      SELECT 1 FROM tasks WHERE deployment_id = ${deploymentId} AND state IN ('queued', 'running') LIMIT 1`;
    return r.length > 0;
  }

  async queuedTasks(limit = 100_000): Promise<TaskRow[]> {
    return (
      await this
        .sql`SELECT * FROM tasks WHERE state = 'queued' ORDER BY ${this.sql.unsafe(claimOrder)} LIMIT ${limit}`
    ).map(toTask);
  }

  async runningTasks(): Promise<TaskRow[]> {
    return (await this.sql`SELECT * FROM tasks WHERE state = 'running' ORDER BY started_at, seq`).map(toTask);
  }

  /** One round trip: claim_tasks (postgres-schema.ts) holds the rules. */
  async claimTasks(lease: Lease, limit: number): Promise<TaskRow[]> {
    if (limit <= 0) return [];
    try {
      // A claim that leaves slots free marks the node hungry (see finishTask);
      // the row is written only when that changes.
      const rows = await this.sql`
        WITH claimed AS (SELECT * FROM claim_tasks(${lease.node}, ${lease.epoch}, ${limit})),
        hunger AS (
          UPDATE nodes SET hungry = NOT hungry
          WHERE name = ${lease.node} AND hungry <> ((SELECT count(*) FROM claimed) < ${limit})
        )
        SELECT * FROM claimed`;
      return rows.map(toTask).sort((a, b) => b.priority - a.priority || a.seq - b.seq);
    } catch (err) {
      if ((err as { code?: string }).code === 'FL001')
        throw new StaleLeaseError(`claim by node ${lease.node}`);
      throw err;
    }
  }

  async startAction(start: ActionStart, fence: Lease | null, insert: NewAction[] = []): Promise<void> {
    if (!fence) {
      await this.insertActions(insert);
      await this.sql`
        UPDATE actions SET state = 'running', attempt = ${start.attempt}, started_at = ${start.startedAt},
          worker = ${start.worker}, waiting_on = NULL
        WHERE id = ${start.id}`;
      return;
    }
    // One statement: the fence, the task's action rows and the action's start
    // commit together or not at all. A row inserted here is written started
    // (a statement cannot update the rows it inserts).
    const started = insert.find((a) => a.id === start.id);
    const rows = insert.map((a) =>
      a === started ? { ...a, state: 'running' as const, attempt: start.attempt, worker: start.worker } : a,
    );
    const [r] = await this.sql`
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
    if (!r || r.n === 0) throw new StaleLeaseError(`task ${start.taskId}`);
  }

  async finishTask(
    taskId: string,
    lease: Lease,
    state: TaskState,
    message: string | null,
    actionEnds: ActionEnd[] = [],
    handoffs: TargetHandoff[] = [],
  ): Promise<void> {
    const col = <K extends keyof ActionEnd>(k: K) => actionEnds.map((e) => e[k]);
    const passed = <K extends keyof TargetHandoff>(k: K) => handoffs.map((h) => h[k]);
    // One statement (one round trip, its own transaction): the finish, its
    // last action ends, the release of the task's target locks (or their
    // passing to actions waiting for them) and, when a
    // node waits for work, the wake-up of other nodes. This node claims again
    // right after; busy nodes do after their own task ends.
    // Fencing: an epoch the node has since moved past (a re-registration, or
    // a lease taken from it) is stale even before recoverTasks moved the task.
    const [r] = await this.sql`
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
    if (!r || r.n === 0) throw new StaleLeaseError(`task ${taskId}`);
  }

  async cancelQueued(deploymentId: string, message: string): Promise<TaskRow[]> {
    return (
      await this.sql`
        UPDATE tasks SET state = 'cancelled', finished_at = now_ms(), message = ${message}
        WHERE deployment_id = ${deploymentId} AND state = 'queued' RETURNING *`
    ).map(toTask);
  }

  async supersedeQueued(tags: string[], beforeSeq: number, message: string): Promise<TaskRow[]> {
    if (tags.length === 0) return [];
    return (
      await this.sql`
        UPDATE tasks SET state = 'cancelled', finished_at = now_ms(), message = ${message}
        WHERE state = 'queued' AND seq < ${beforeSeq} AND concurrency_tag = ANY(${tags}::text[]) RETURNING *`
    ).map(toTask);
  }

  /**
   * The crash rule. Nodes that recover at the same time split the work: each
   * task row is locked with SKIP LOCKED. A node whose tasks are taken for a
   * stale heartbeat also loses its epoch, so if it was only slow (not dead) it
   * finds out at its next heartbeat and can no longer claim under the old one.
   */
  async recoverTasks(opts: {
    node?: string;
    currentEpoch?: number;
    staleBefore?: number;
  }): Promise<TaskRow[]> {
    const out = await this.sql.begin(async (tx) => {
      const stale = await tx`
        SELECT t.*, d.plan ->> 'onInterrupt' AS on_interrupt,
          (n.name IS NULL OR n.heartbeat_at < ${opts.staleBefore ?? null}::bigint) AS lease_expired
        FROM tasks t
        JOIN deployments d ON d.id = t.deployment_id
        LEFT JOIN nodes n ON n.name = t.node
        WHERE t.state = 'running' AND (
          (${opts.node ?? null}::text IS NOT NULL AND t.node = ${opts.node ?? null} AND t.epoch < ${opts.currentEpoch ?? 0}) OR
          (${opts.staleBefore ?? null}::bigint IS NOT NULL AND (n.heartbeat_at IS NULL OR n.heartbeat_at < ${opts.staleBefore ?? 0})))
        FOR UPDATE OF t SKIP LOCKED`;
      const recovered: TaskRow[] = [];
      for (const r of stale) {
        const task = afterCrash(toTask(r), r.on_interrupt);
        if (task.state === 'queued') {
          await tx`
            UPDATE tasks SET state = 'queued', node = NULL, epoch = NULL, started_at = NULL, action_started = false, message = ${task.message}
            WHERE id = ${task.id}`;
          recovered.push(task);
        } else {
          const [done] = await tx`
            UPDATE tasks SET state = 'interrupted', finished_at = now_ms(), message = ${task.message}
            WHERE id = ${task.id} RETURNING finished_at`;
          recovered.push({ ...task, finishedAt: Number(done!.finished_at) });
        }
      }
      const ids = recovered.map((t) => t.id);
      if (ids.length === 0) return recovered;
      await tx`
        UPDATE actions SET state = 'cancelled', finished_at = now_ms()
        WHERE task_id = ANY(${ids}::text[]) AND state IN ('pending', 'running')`;
      await tx`DELETE FROM target_locks WHERE task_id = ANY(${ids}::text[])`;
      const expired = [...new Set(stale.filter((r) => r.lease_expired).map((r) => String(r.node)))];
      if (expired.length > 0 && opts.staleBefore !== undefined) {
        await tx`
          UPDATE nodes SET epoch = epoch + 1, hungry = false
          WHERE name = ANY(${expired}::text[]) AND heartbeat_at < ${opts.staleBefore}`;
      }
      await this.insertEvents(tx, recovered.map(recoveryEvent));
      await this.notify(tx, 'queue');
      return recovered;
    });
    return out;
  }

  // ---- actions and target locks ---------------------------------------------

  async insertActions(actions: NewAction[]): Promise<void> {
    if (actions.length === 0) return;
    await this.sql`
      INSERT INTO actions (id, task_id, step_index, step, target, worker, state, attempt)
      SELECT * FROM ${this.unnestActions(actions)}`;
  }

  /** Action rows as a table `u` (id, task_id, step_index, step, target, worker, state, attempt). */
  private unnestActions(actions: NewAction[]) {
    const col = <K extends keyof NewAction>(k: K) => actions.map((a) => a[k]);
    return this.sql`
      unnest(${col('id')}::text[], ${col('taskId')}::text[], ${col('stepIndex')}::int[],
        ${col('step')}::text[], ${col('target')}::text[], ${col('worker')}::text[], ${col('state')}::text[],
        ${col('attempt')}::int[]) AS u (id, task_id, step_index, step, target, worker, state, attempt)`;
  }

  async updateAction(id: string, patch: Partial<Omit<ActionRow, 'id' | 'taskId'>>): Promise<void> {
    const set: Record<string, postgres.ParameterOrJSON<never> | null> = {};
    for (const [k, v] of Object.entries(patch)) {
      const c = ACTION_COLUMNS[k];
      if (c && v !== undefined) set[c] = v as string | number | null;
    }
    if (Object.keys(set).length === 0) return;
    await this.sql`UPDATE actions SET ${this.sql(set)} WHERE id = ${id}`;
  }

  async finishAction(end: ActionEnd, heldTarget: string | null, next?: LockHolder): Promise<void> {
    // One statement, one round trip: the end and the release (or passing on) of its target.
    const [r] = await this.sql`
      WITH ended AS (
        UPDATE actions SET state = ${end.state}, finished_at = ${end.finishedAt}, exit_code = ${end.exitCode},
          message = ${end.message}, waiting_on = NULL
        WHERE id = ${end.id}
      ), released AS (
        ${this.releaseLock(heldTarget, end.id, next)}
      )
      SELECT count(*)::int AS n FROM released`;
    if (next && heldTarget !== null && r?.n === 0) throw new LockNotHeldError(heldTarget, end.id);
  }

  /** Deletes the target's lock row held by the action, or gives it to `next`: the row is never free. */
  private releaseLock(target: string | null, actionId: string, next: LockHolder | undefined) {
    return next
      ? this
          .sql`UPDATE target_locks SET task_id = ${next.taskId}, action_id = ${next.actionId}, since = now_ms()
          WHERE target = ${target} AND action_id = ${actionId} RETURNING target`
      : this
          .sql`DELETE FROM target_locks WHERE target = ${target} AND action_id = ${actionId} RETURNING target`;
  }

  async actionsOf(taskIds: string[]): Promise<ActionRow[]> {
    if (taskIds.length === 0) return [];
    return (
      await this.sql`
        SELECT * FROM actions WHERE task_id = ANY(${taskIds}::text[])
        ORDER BY task_id, step_index, target NULLS FIRST`
    ).map(toAction);
  }

  async lockTarget(
    target: string,
    taskId: string,
    actionId: string,
  ): Promise<{ ok: true } | { ok: false; holder: string }> {
    // The holder can let go between the refused insert and the look-up: try again then.
    for (;;) {
      const [r] = await this.sql`
        WITH ins AS (
          INSERT INTO target_locks (target, task_id, action_id, since) VALUES (${target}, ${taskId}, ${actionId}, now_ms())
          ON CONFLICT DO NOTHING RETURNING task_id
        )
        SELECT (SELECT task_id FROM ins) AS mine, (SELECT task_id FROM target_locks WHERE target = ${target}) AS holder`;
      if (r?.mine) return { ok: true };
      if (r?.holder) return { ok: false, holder: String(r.holder) };
    }
  }

  async unlockTarget(target: string, actionId: string, next?: LockHolder): Promise<void> {
    const rows = await this.releaseLock(target, actionId, next);
    if (next && rows.length === 0) throw new LockNotHeldError(target, actionId);
  }

  // ---- events -----------------------------------------------------------------

  async appendEvents(events: NewEvent[]): Promise<void> {
    await this.insertEvents(this.sql, events);
  }

  private async insertEvents(sql: Sql, events: NewEvent[]): Promise<void> {
    if (events.length === 0) return;
    // Ids must be handed out in commit order: a reader paging by id past an
    // uncommitted lower id would skip it for good. So one writer at a time:
    // the advisory lock is taken before any row gets its id and held until
    // the transaction commits.
    await sql`
      WITH one_writer AS (SELECT pg_advisory_xact_lock(hashtext(${`${this.channel}:events`})))
      INSERT INTO events (deployment_id, task_id, type, data, at)
      SELECT u.deployment_id, u.task_id, u.type, u.data::jsonb, COALESCE(u.at, now_ms())
      FROM one_writer, unnest(${events.map((e) => e.deploymentId)}::text[], ${events.map((e) => e.taskId)}::text[],
        ${events.map((e) => e.type)}::text[], ${events.map((e) => JSON.stringify(e.data))}::text[],
        ${events.map((e) => e.at ?? null)}::bigint[])
        WITH ORDINALITY AS u (deployment_id, task_id, type, data, at, n)
      ORDER BY u.n`;
  }

  async eventsSince(deploymentId: string, afterId: number, limit: number): Promise<EventRow[]> {
    return (
      await this.sql`
        SELECT * FROM events WHERE deployment_id = ${deploymentId} AND id > ${afterId} ORDER BY id LIMIT ${limit}`
    ).map(toEvent);
  }

  async taskLog(taskId: string): Promise<EventRow[]> {
    return (await this.sql`SELECT * FROM events WHERE task_id = ${taskId} AND type = 'log' ORDER BY id`).map(
      toEvent,
    );
  }

  async useTokenId(jti: string, expiresAt: number): Promise<boolean> {
    const [r] = await this.sql`
      WITH expired AS (DELETE FROM token_ids WHERE expires_at < now_ms())
      INSERT INTO token_ids (jti, expires_at) VALUES (${jti}, ${expiresAt})
      ON CONFLICT DO NOTHING RETURNING 1 AS ok`;
    return r !== undefined;
  }

  // ---- the check-run outbox -------------------------------------------------

  async touchCheckRun(deploymentId: string): Promise<void> {
    await this.sql`
      INSERT INTO check_runs AS c (deployment_id, version, touched_at) VALUES (${deploymentId}, 1, now_ms())
      ON CONFLICT (deployment_id) DO UPDATE SET version = c.version + 1, touched_at = excluded.touched_at
      WHERE NOT c.completed`;
  }

  async pendingCheckRuns(limit: number): Promise<CheckRunRow[]> {
    return (
      await this.sql`SELECT * FROM check_runs WHERE version > sent_version ORDER BY touched_at LIMIT ${limit}`
    ).map(toCheckRun);
  }

  async getCheckRun(deploymentId: string): Promise<CheckRunRow | null> {
    const [r] = await this.sql`SELECT * FROM check_runs WHERE deployment_id = ${deploymentId}`;
    return r ? toCheckRun(r) : null;
  }

  async markCheckRunSent(
    deploymentId: string,
    sent: { version: number; checkRunId: number; at: number; annotations: number; completed: boolean },
  ): Promise<void> {
    await this.sql`
      UPDATE check_runs SET sent_version = GREATEST(sent_version, ${sent.version}), check_run_id = ${sent.checkRunId},
        sent_at = ${sent.at}, annotations = ${sent.annotations}, completed = ${sent.completed}
      WHERE deployment_id = ${deploymentId}`;
  }
}
