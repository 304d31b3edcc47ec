// The embedded store: SQLite through node:sqlite, in WAL mode, for one node.
// node:sqlite is synchronous; every statement here is short and indexed, so
// the event loop is never held for long. The scheduling invariants are the
// database's: a partial unique index allows one running task per tag.
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { newId } from '../ids.ts';
import {
  ACTION_COLUMNS,
  afterCrash,
  claimOrder,
  type Row,
  recoveryEvent,
  toAction,
  toCheckRun,
  toDeployment,
  toEvent,
  toNode,
  toTask,
} from './rows.ts';
import { WalCheckpointer } from './sqlite-checkpointer.ts';
import { SQLITE_MIGRATIONS } from './sqlite-schema.ts';
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

export class DataDirLockedError extends Error {}

// Data dirs this process holds open. A lock file with our own pid is taken
// over (a container restarted after kill -9 often gets the same pid), so the
// pid alone cannot tell a second store in this process from a stale lock.
const lockedHere = new Set<string>();

/**
 * Only one agent may open a data dir: a lock file holding the owner's pid,
 * created with O_EXCL. A lock left by a dead process (kill -9) is taken over.
 */
function lockDataDir(dir: string): () => void {
  const file = join(dir, 'agent.lock');
  const key = resolve(dir);
  if (lockedHere.has(key)) throw new DataDirLockedError(`data dir ${dir} is already open in this process`);
  for (let tries = 0; tries < 2; tries++) {
    try {
      const fd = openSync(file, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      lockedHere.add(key);
      return () => {
        lockedHere.delete(key);
        try {
          unlinkSync(file);
        } catch {}
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(file, 'utf8'));
      if (pid && pid !== process.pid && isAlive(pid)) {
        throw new DataDirLockedError(`data dir ${dir} is in use by another agent (pid ${pid})`);
      }
      unlinkSync(file);
    }
  }
  throw new DataDirLockedError(`could not lock data dir ${dir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Rows a multi-row INSERT takes at most: binding and stepping a statement
 * costs more than its row, and events (and a task's actions) come in batches.
 * Measured, 200 events a transaction, twelve alternations: 3.8 us an event
 * against 5.5 us one statement each.
 */
const ROWS_PER_INSERT = 16;

/** The statements inserting 1 to ROWS_PER_INSERT rows into `table`, at n - 1. */
function inserts(table: string, columns: string[]): string[] {
  const row = `(${columns.map(() => '?').join(', ')})`;
  return Array.from(
    { length: ROWS_PER_INSERT },
    (_, i) =>
      `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${Array(i + 1)
        .fill(row)
        .join(', ')}`,
  );
}

const INSERT_EVENTS = inserts('events', ['deployment_id', 'task_id', 'type', 'data', 'at']);
const INSERT_ACTIONS = inserts('actions', [
  'id',
  'task_id',
  'step_index',
  'step',
  'target',
  'worker',
  'state',
  'attempt',
]);

type Outcome = { ok: true; value: unknown } | { ok: false; err: unknown };

interface QueuedWrite {
  fn: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private db: DatabaseSync;
  private unlock: () => void;
  private stmts = new Map<string, StatementSync>();
  private queued: QueuedWrite[] = [];
  /** A commit of the queued writes is due at the end of this tick (see writeNow). */
  private commitScheduled = false;
  private checkpointer: WalCheckpointer;

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.unlock = lockDataDir(dataDir);
    try {
      const file = join(dataDir, 'flotilla.db');
      this.db = new DatabaseSync(file);
      this.db.exec('PRAGMA journal_mode = WAL');
      // The checkpointer copies the log into the database file off the event
      // loop. Should it fall behind, a commit checkpoints once the log reaches
      // 10,000 pages (40 MB); should it fail, 1,000 as by default.
      this.db.exec('PRAGMA wal_autocheckpoint = 10000');
      this.checkpointer = new WalCheckpointer(file, {
        catchUp: () => this.prepared('PRAGMA wal_checkpoint(PASSIVE)').get(),
        onFail: () => {
          if (this.db.isOpen) this.db.exec('PRAGMA wal_autocheckpoint = 1000');
        },
      });
      // NORMAL in WAL mode survives a crash of the process (kill -9) at any
      // instant; submissions additionally switch to FULL (see createDeployment)
      // so an accepted deployment also survives a power loss.
      this.db.exec('PRAGMA synchronous = NORMAL');
      this.db.exec('PRAGMA busy_timeout = 5000');
      this.db.exec('PRAGMA foreign_keys = ON');
      this.migrate();
    } catch (err) {
      this.unlock();
      throw err;
    }
  }

  private migrate(): void {
    const current = Number((this.db.prepare('PRAGMA user_version').get() as Row).user_version);
    if (current > SQLITE_MIGRATIONS.length) {
      throw new Error(
        `the data dir was written by a newer Flotilla (schema ${current}, this one knows ${SQLITE_MIGRATIONS.length}); upgrade the agent`,
      );
    }
    SQLITE_MIGRATIONS.slice(current).forEach((sql, i) => {
      this.tx(() => {
        this.db.exec(sql);
        this.db.exec(`PRAGMA user_version = ${current + i + 1}`);
      });
    });
  }

  private q(sql: string): StatementSync {
    // Read your writes: a statement outside the group commit first commits
    // the writes queued before it.
    if (this.queued.length > 0 && !this.db.isTransaction) this.commitQueued();
    return this.prepared(sql);
  }

  /** Prepared once: BEGIN and COMMIT too, which db.exec would parse on every transaction. */
  private prepared(sql: string): StatementSync {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  private all(sql: string, ...params: SQLInputValue[]): Row[] {
    return this.q(sql).all(...params) as Row[];
  }

  /**
   * At most `limit` rows of `sql` with a LIMIT appended. SQLite's planner
   * reads the bound value of `LIMIT ?`, so such a statement is compiled again
   * on every run, which about doubles the cost of a short one; a literal
   * LIMIT is not. Rounded up to a power of two, it leaves few statements to cache.
   */
  private allLimited(sql: string, limit: number, ...params: SQLInputValue[]): Row[] {
    const literal = limit >= 2 ** 20 ? -1 : 2 ** Math.ceil(Math.log2(Math.max(1, limit)));
    const rows = this.all(`${sql} LIMIT ${literal}`, ...params);
    return rows.length > limit ? rows.slice(0, Math.max(0, limit)) : rows;
  }

  private get(sql: string, ...params: SQLInputValue[]): Row | undefined {
    return this.q(sql).get(...params) as Row | undefined;
  }

  private run(sql: string, ...params: SQLInputValue[]): number {
    const changes = Number(this.q(sql).run(...params).changes);
    if (!this.db.isTransaction) this.checkpointer.committed();
    return changes;
  }

  private tx<T>(fn: () => T): T {
    if (this.queued.length > 0) this.commitQueued();
    this.prepared('BEGIN IMMEDIATE').run();
    try {
      const r = fn();
      this.prepared('COMMIT').run();
      this.checkpointer.committed();
      return r;
    } catch (err) {
      this.prepared('ROLLBACK').run();
      throw err;
    }
  }

  /**
   * Group commit: the writes made while the event loop is busy with one turn
   * share a transaction, so fifty running tasks cost one WAL append instead of
   * fifty. Each write still resolves only after its transaction committed, in
   * the order the writes were made; one that throws is rolled back alone; any
   * other statement commits the queue first, so reads see every earlier write.
   */
  private write<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.queued.length === 0) setImmediate(() => this.commitQueued());
      this.queued.push({ fn, resolve: resolve as (v: unknown) => void, reject });
    });
  }

  /**
   * A write on the way from a freed slot to the next action (a claim, a
   * task's first start) commits in this turn of the event loop, with the
   * queued writes, instead of in the next: under load a turn takes
   * milliseconds. Measured in the throughput benchmark (2,500 tasks, three
   * runs each way): dispatch latency p50 3.5-4.0 ms instead of 6.0-6.2 ms,
   * p99 41-51 ms instead of 53-81 ms, for about 0.15 ms more agent CPU per task.
   * It commits once the promise callbacks under way have run (a tick): the
   * first starts of tasks claimed together share one commit. In the makespan
   * benchmark that took the commits of a run from 1,028 to 688, for dispatch
   * latency p50 4.3-5.0 ms instead of 3.5-3.7 and p99 11.7-12.4 ms instead
   * of 10.7-10.8 (two alternations).
   */
  private writeNow<T>(fn: () => T): Promise<T> {
    const written = this.write(fn);
    if (!this.commitScheduled) {
      this.commitScheduled = true;
      process.nextTick(() => {
        this.commitScheduled = false;
        this.commitQueued();
      });
    }
    return written;
  }

  private commitQueued(): void {
    const batch = this.queued;
    this.queued = [];
    if (batch.length === 0) return;
    let outcomes: Outcome[];
    try {
      outcomes = this.tx(() => batch.map((w): Outcome => ({ ok: true, value: w.fn() })));
    } catch {
      // A write threw, and the whole batch was rolled back: run it again, each
      // write in a savepoint, so that only the one that throws is lost. Writes
      // rarely throw; a savepoint for each, every time, cost two statements a
      // write (a third of all) and 10-25% of the agent's CPU per action
      // (in-process coordinator and timer worker, three alternations).
      try {
        outcomes = this.tx(() => batch.map((w) => this.inSavepoint(w.fn)));
      } catch (err) {
        for (const w of batch) w.reject(err);
        return;
      }
    }
    batch.forEach((w, i) => {
      const o = outcomes[i]!;
      if (o.ok) w.resolve(o.value);
      else w.reject(o.err);
    });
  }

  private inSavepoint(fn: () => unknown): Outcome {
    this.q('SAVEPOINT write').run();
    try {
      return { ok: true, value: fn() };
    } catch (err) {
      this.q('ROLLBACK TO write').run();
      return { ok: false, err };
    } finally {
      this.q('RELEASE write').run();
    }
  }

  async close(): Promise<void> {
    const checkpointerClosed = this.checkpointer.close();
    this.commitQueued();
    this.stmts.clear();
    this.db.close();
    // The data dir stays locked until the thread's connection is gone too.
    await checkpointerClosed;
    this.unlock();
  }

  async now(): Promise<number> {
    return Date.now();
  }

  async registerNode(name: string, defaultCap: number): Promise<NodeRow> {
    const now = Date.now();
    return this.tx(() => {
      this.run(
        `INSERT INTO nodes (name, task_cap, epoch, heartbeat_at, started_at) VALUES (?, ?, 1, ?, ?)
         ON CONFLICT (name) DO UPDATE SET epoch = epoch + 1, heartbeat_at = excluded.heartbeat_at,
           started_at = excluded.started_at, stopped_at = NULL`,
        name,
        defaultCap,
        now,
        now,
      );
      return this.nodeRow(name)!;
    });
  }

  private nodeRow(name: string): NodeRow | null {
    const r = this.get(
      `SELECT n.*, (SELECT COUNT(*) FROM tasks t WHERE t.node = n.name AND t.state = 'running') AS running
       FROM nodes n WHERE n.name = ?`,
      name,
    );
    return r ? toNode(r) : null;
  }

  async heartbeat(lease: Lease): Promise<void> {
    await this.write(() => {
      const n = this.run(
        'UPDATE nodes SET heartbeat_at = ? WHERE name = ? AND epoch = ?',
        Date.now(),
        lease.node,
        lease.epoch,
      );
      if (n === 0) throw new StaleLeaseError(`heartbeat of node ${lease.node}`);
    });
  }

  async leaveNode(lease: Lease): Promise<void> {
    await this.write(() => {
      this.run(
        'UPDATE nodes SET stopped_at = ? WHERE name = ? AND epoch = ?',
        Date.now(),
        lease.node,
        lease.epoch,
      );
    });
  }

  async setTaskCap(name: string, cap: number): Promise<NodeRow | null> {
    // Cap 0 is a drain: like drainNode, remember the cap to resume to. A cap
    // above 0 is the new cap to resume to later, so a stale one is forgotten.
    this.run(
      `UPDATE nodes SET resume_cap = CASE WHEN ? > 0 THEN NULL WHEN task_cap > 0 THEN task_cap ELSE resume_cap END,
         task_cap = ? WHERE name = ?`,
      cap,
      cap,
      name,
    );
    return this.nodeRow(name);
  }

  async drainNode(name: string): Promise<NodeRow | null> {
    this.run(
      'UPDATE nodes SET resume_cap = CASE WHEN task_cap > 0 THEN task_cap ELSE resume_cap END, task_cap = 0 WHERE name = ?',
      name,
    );
    return this.nodeRow(name);
  }

  async resumeNode(name: string, defaultCap: number): Promise<NodeRow | null> {
    this.run(
      'UPDATE nodes SET task_cap = COALESCE(resume_cap, ?), resume_cap = NULL WHERE name = ? AND task_cap = 0',
      defaultCap,
      name,
    );
    return this.nodeRow(name);
  }

  async listNodes(): Promise<NodeRow[]> {
    return this.all(
      `SELECT n.*, (SELECT COUNT(*) FROM tasks t WHERE t.node = n.name AND t.state = 'running') AS running
       FROM nodes n ORDER BY n.name`,
    ).map(toNode);
  }

  async createDeployment(input: NewDeployment) {
    if (input.idempotencyKey) {
      const existing = this.get('SELECT * FROM deployments WHERE idempotency_key = ?', input.idempotencyKey);
      if (existing) {
        const deployment = toDeployment(existing);
        return { deployment, tasks: await this.tasksOf(deployment.id), created: false };
      }
    }
    const now = Date.now();
    const id = newId('dep');
    const priority = input.plan.priority === 'high' ? 1 : 0;
    // An accepted submission must survive a power loss, not only a crash.
    this.db.exec('PRAGMA synchronous = FULL');
    try {
      this.tx(() => {
        this.run(
          `INSERT INTO deployments (id, idempotency_key, project, environment, release, plan, github, secret_values, max_running, state, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?)`,
          id,
          input.idempotencyKey ?? null,
          input.project,
          input.environment,
          input.release,
          JSON.stringify(input.plan),
          input.github ? JSON.stringify(input.github) : null,
          JSON.stringify(input.secrets),
          input.plan.concurrency.maxRunningTasks,
          now,
        );
        const seq0 = Number(this.get('SELECT COALESCE(MAX(seq), 0) AS s FROM tasks')!.s);
        input.tasks.forEach((t, i) => {
          this.run(
            `INSERT INTO tasks (id, seq, deployment_id, tenant, concurrency_tag, priority, state, queued_at)
             VALUES (?, ?, ?, ?, ?, ?, 'queued', ?)`,
            newId('tsk'),
            seq0 + i + 1,
            id,
            t.tenant,
            t.concurrencyTag,
            priority,
            now,
          );
        });
      });
    } finally {
      this.db.exec('PRAGMA synchronous = NORMAL');
    }
    return { deployment: (await this.getDeployment(id))!, tasks: await this.tasksOf(id), created: true };
  }

  async getDeployment(id: string): Promise<DeploymentRow | null> {
    const r = this.get('SELECT * FROM deployments WHERE id = ?', id);
    return r ? toDeployment(r) : null;
  }

  async listDeployments(limit: number): Promise<DeploymentRow[]> {
    return this.allLimited('SELECT * FROM deployments ORDER BY created_at DESC, id DESC', limit).map(
      toDeployment,
    );
  }

  async setDeploymentState(id: string, state: DeploymentState): Promise<boolean> {
    const terminal = !['queued', 'running'].includes(state);
    return (
      this.run(
        `UPDATE deployments SET state = ?, finished_at = CASE WHEN ? THEN ? ELSE NULL END
         WHERE id = ? AND state IN ('queued', 'running') AND state <> ?`,
        state,
        terminal ? 1 : 0,
        Date.now(),
        id,
        state,
      ) > 0
    );
  }

  async getTask(id: string): Promise<TaskRow | null> {
    const r = this.get('SELECT * FROM tasks WHERE id = ?', id);
    return r ? toTask(r) : null;
  }

  async tasksOf(deploymentId: string): Promise<TaskRow[]> {
    return this.all('SELECT * FROM tasks WHERE deployment_id = ? ORDER BY seq', deploymentId).map(toTask);
  }

  async hasOpenTasks(deploymentId: string): Promise<boolean> {
    return !!this.get(
      `SELECT 1 AS open FROM tasks WHERE deployment_id = ? AND state IN ('queued', 'running') LIMIT 1`,
      deploymentId,
    );
  }

  async queuedTasks(limit = 100_000): Promise<TaskRow[]> {
    return this.allLimited(`SELECT * FROM tasks WHERE state = 'queued' ORDER BY ${claimOrder}`, limit).map(
      toTask,
    );
  }

  async runningTasks(): Promise<TaskRow[]> {
    return this.all(`SELECT * FROM tasks WHERE state = 'running' ORDER BY started_at`).map(toTask);
  }

  async claimTasks(lease: Lease, limit: number): Promise<TaskRow[]> {
    if (limit <= 0) return [];
    return this.writeNow(() => {
      if (!this.get('SELECT 1 AS ok FROM nodes WHERE name = ? AND epoch = ?', lease.node, lease.epoch)) {
        throw new StaleLeaseError(`claim by node ${lease.node}`);
      }
      const claimed: TaskRow[] = [];
      const seenTags = new Set<string>();
      const runningPerDeployment = new Map<string, number>();
      let after = { priority: 2, seq: 0 };
      // Usually the first rows are claimable: read a little more than needed, and more if not.
      let pageSize = limit + 8;
      // Queued tasks whose tag is free, in claim order, a page at a time. The
      // first task seen for a tag is that tag's head; later ones wait behind it.
      while (claimed.length < limit) {
        // The page carries only what choosing needs: most of its rows are not
        // taken, and a row of every column costs as much to read again.
        const page = this.allLimited(
          `SELECT t.id, t.concurrency_tag, t.priority, t.seq, t.deployment_id, d.max_running FROM tasks t
           JOIN deployments d ON d.id = t.deployment_id
           WHERE t.state = 'queued' AND (t.priority < ? OR (t.priority = ? AND t.seq > ?))
             AND NOT EXISTS (SELECT 1 FROM tasks r WHERE r.state = 'running' AND r.concurrency_tag = t.concurrency_tag)
           ORDER BY ${claimOrder}`,
          pageSize,
          after.priority,
          after.priority,
          after.seq,
        );
        for (const r of page) {
          const tag = String(r.concurrency_tag);
          if (seenTags.has(tag)) continue;
          seenTags.add(tag);
          const max = Number(r.max_running ?? 0);
          if (max > 0) {
            const deploymentId = String(r.deployment_id);
            const running =
              runningPerDeployment.get(deploymentId) ??
              Number(
                this.get(
                  `SELECT COUNT(*) AS n FROM tasks WHERE deployment_id = ? AND state = 'running'`,
                  deploymentId,
                )!.n,
              );
            if (running >= max) continue;
            runningPerDeployment.set(deploymentId, running + 1);
          }
          const row = this.get(
            `UPDATE tasks SET state = 'running', node = ?, epoch = ?, started_at = ?, message = NULL
             WHERE id = ? RETURNING *`,
            lease.node,
            lease.epoch,
            Date.now(),
            r.id as string,
          )!;
          claimed.push(toTask(row));
          if (claimed.length >= limit) break;
        }
        const last = page.at(-1);
        if (page.length < pageSize || !last) break;
        after = { priority: Number(last.priority), seq: Number(last.seq) };
        pageSize = Math.min(pageSize * 4, 1024);
      }
      return claimed;
    });
  }

  async startAction(start: ActionStart, fence: Lease | null, insert: NewAction[] = []): Promise<void> {
    // The fenced start is a task's first: it is on the dispatch path.
    const commit = <T>(fn: () => T) => (fence ? this.writeNow(fn) : this.write(fn));
    await commit(() => {
      if (fence) {
        const n = this.run(
          `UPDATE tasks SET action_started = 1 WHERE id = ? AND state = 'running' AND node = ? AND epoch = ?
           AND EXISTS (SELECT 1 FROM nodes WHERE name = ? AND epoch = ?)`,
          start.taskId,
          fence.node,
          fence.epoch,
          // Fencing: an epoch the node has since re-registered past is stale even
          // before recoverTasks has moved its tasks.
          fence.node,
          fence.epoch,
        );
        if (n === 0) throw new StaleLeaseError(`task ${start.taskId}`);
      }
      this.insertActionRows(insert);
      this.run(
        `UPDATE actions SET state = 'running', attempt = ?, started_at = ?, worker = ?, waiting_on = NULL WHERE id = ?`,
        start.attempt,
        start.startedAt,
        start.worker,
        start.id,
      );
    });
  }

  async finishTask(
    taskId: string,
    lease: Lease,
    state: TaskState,
    message: string | null,
    actionEnds: ActionEnd[] = [],
    handoffs: TargetHandoff[] = [],
  ): Promise<void> {
    await this.write(() => {
      const changed = this.run(
        `UPDATE tasks SET state = ?, finished_at = ?, message = ? WHERE id = ? AND state = 'running' AND node = ? AND epoch = ?
           AND EXISTS (SELECT 1 FROM nodes WHERE name = ? AND epoch = ?)`,
        state,
        Date.now(),
        message,
        taskId,
        lease.node,
        lease.epoch,
        // Fencing, as in startAction.
        lease.node,
        lease.epoch,
      );
      if (changed === 0) throw new StaleLeaseError(`task ${taskId}`);
      for (const end of actionEnds) this.endAction(end);
      for (const h of handoffs) this.passLock(h.target, 'task_id', taskId, h);
      this.run('DELETE FROM target_locks WHERE task_id = ?', taskId);
    });
  }

  async cancelQueued(deploymentId: string, message: string): Promise<TaskRow[]> {
    return this.all(
      `UPDATE tasks SET state = 'cancelled', finished_at = ?, message = ?
       WHERE deployment_id = ? AND state = 'queued' RETURNING *`,
      Date.now(),
      message,
      deploymentId,
    ).map(toTask);
  }

  async supersedeQueued(tags: string[], beforeSeq: number, message: string): Promise<TaskRow[]> {
    if (tags.length === 0) return [];
    return this.all(
      `UPDATE tasks SET state = 'cancelled', finished_at = ?, message = ?
       WHERE state = 'queued' AND seq < ? AND concurrency_tag IN (SELECT value FROM json_each(?)) RETURNING *`,
      Date.now(),
      message,
      beforeSeq,
      JSON.stringify(tags),
    ).map(toTask);
  }

  async recoverTasks(opts: {
    node?: string;
    currentEpoch?: number;
    staleBefore?: number;
  }): Promise<TaskRow[]> {
    return this.tx(() => {
      const stale = this.all(
        `SELECT t.*, d.plan ->> '$.onInterrupt' AS on_interrupt FROM tasks t
         JOIN deployments d ON d.id = t.deployment_id
         LEFT JOIN nodes n ON n.name = t.node
         WHERE t.state = 'running' AND (
           (? IS NOT NULL AND t.node = ? AND t.epoch < ?) OR
           (? IS NOT NULL AND (n.heartbeat_at IS NULL OR n.heartbeat_at < ?)))`,
        opts.node ?? null,
        opts.node ?? null,
        opts.currentEpoch ?? 0,
        opts.staleBefore ?? null,
        opts.staleBefore ?? 0,
      );
      const now = Date.now();
      const out: TaskRow[] = [];
      for (const r of stale) {
        const task = afterCrash(toTask(r), r.on_interrupt);
        if (task.state === 'queued') {
          this.run(
            `UPDATE tasks SET state = 'queued', node = NULL, epoch = NULL, started_at = NULL, action_started = 0, message = ? WHERE id = ?`,
            task.message,
            task.id,
          );
          out.push(task);
        } else {
          this.run(
            `UPDATE tasks SET state = 'interrupted', finished_at = ?, message = ? WHERE id = ?`,
            now,
            task.message,
            task.id,
          );
          out.push({ ...task, finishedAt: now });
        }
        this.run(
          `UPDATE actions SET state = 'cancelled', finished_at = ? WHERE task_id = ? AND state IN ('pending', 'running')`,
          now,
          task.id,
        );
        this.run('DELETE FROM target_locks WHERE task_id = ?', task.id);
      }
      this.insertEvents(out.map(recoveryEvent));
      return out;
    });
  }

  async insertActions(actions: NewAction[]): Promise<void> {
    await this.write(() => this.insertActionRows(actions));
  }

  private insertActionRows(actions: NewAction[]): void {
    this.insertRows(INSERT_ACTIONS, actions, (a) => [
      a.id,
      a.taskId,
      a.stepIndex,
      a.step,
      a.target,
      a.worker,
      a.state,
      a.attempt,
    ]);
  }

  /** `rows` with `statements` (see inserts), up to ROWS_PER_INSERT a statement. */
  private insertRows<T>(statements: string[], rows: T[], values: (row: T) => SQLInputValue[]): void {
    for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
      const chunk = rows.slice(i, i + ROWS_PER_INSERT);
      this.run(statements[chunk.length - 1]!, ...chunk.flatMap(values));
    }
  }

  async updateAction(id: string, patch: Partial<Omit<ActionRow, 'id' | 'taskId'>>): Promise<void> {
    const sets: string[] = [];
    const values: SQLInputValue[] = [];
    for (const [k, v] of Object.entries(patch)) {
      const col = ACTION_COLUMNS[k];
      if (!col) continue;
      sets.push(`${col} = ?`);
      values.push(v as SQLInputValue);
    }
    if (sets.length)
      await this.write(() => this.run(`UPDATE actions SET ${sets.join(', ')} WHERE id = ?`, ...values, id));
  }

  async finishAction(end: ActionEnd, heldTarget: string | null, next?: LockHolder): Promise<void> {
    await this.write(() => {
      this.endAction(end);
      if (heldTarget !== null) this.releaseLock(heldTarget, end.id, next);
    });
  }

  private releaseLock(target: string, actionId: string, next: LockHolder | undefined): void {
    if (!next) {
      this.run('DELETE FROM target_locks WHERE target = ? AND action_id = ?', target, actionId);
      return;
    }
    if (this.passLock(target, 'action_id', actionId, next) === 0)
      throw new LockNotHeldError(target, actionId);
  }

  /** Gives the target's lock, held by `holderId` (an action or task id), to `next`; the row is never free. */
  private passLock(target: string, by: 'task_id' | 'action_id', holderId: string, next: LockHolder): number {
    return this.run(
      `UPDATE target_locks SET task_id = ?, action_id = ?, since = ? WHERE target = ? AND ${by} = ?`,
      next.taskId,
      next.actionId,
      Date.now(),
      target,
      holderId,
    );
  }

  private endAction(end: ActionEnd): void {
    this.run(
      'UPDATE actions SET state = ?, finished_at = ?, exit_code = ?, message = ?, waiting_on = NULL WHERE id = ?',
      end.state,
      end.finishedAt,
      end.exitCode,
      end.message,
      end.id,
    );
  }

  async actionsOf(taskIds: string[]): Promise<ActionRow[]> {
    if (taskIds.length === 0) return [];
    return this.all(
      `SELECT * FROM actions WHERE task_id IN (SELECT value FROM json_each(?)) ORDER BY task_id, step_index, target`,
      JSON.stringify(taskIds),
    ).map(toAction);
  }

  async lockTarget(
    target: string,
    taskId: string,
    actionId: string,
  ): Promise<{ ok: true } | { ok: false; holder: string }> {
    return this.write(() => {
      const n = this.run(
        'INSERT INTO target_locks (target, task_id, action_id, since) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
        target,
        taskId,
        actionId,
        Date.now(),
      );
      if (n > 0) return { ok: true as const };
      // Inside one transaction the row that refused the insert is still there.
      const holder = this.get('SELECT task_id FROM target_locks WHERE target = ?', target)!;
      return { ok: false as const, holder: String(holder.task_id) };
    });
  }

  async unlockTarget(target: string, actionId: string, next?: LockHolder): Promise<void> {
    await this.write(() => this.releaseLock(target, actionId, next));
  }

  async appendEvents(events: NewEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.write(() => this.insertEvents(events));
  }

  private insertEvents(events: NewEvent[]): void {
    const now = Date.now();
    this.insertRows(INSERT_EVENTS, events, (e) => [
      e.deploymentId,
      e.taskId,
      e.type,
      JSON.stringify(e.data),
      e.at ?? now,
    ]);
  }

  async eventsSince(deploymentId: string, afterId: number, limit: number): Promise<EventRow[]> {
    return this.allLimited(
      'SELECT * FROM events WHERE deployment_id = ? AND id > ? ORDER BY id',
      limit,
      deploymentId,
      afterId,
    ).map(toEvent);
  }

  async taskLog(taskId: string): Promise<EventRow[]> {
    return this.all(`SELECT * FROM events WHERE task_id = ? AND type = 'log' ORDER BY id`, taskId).map(
      toEvent,
    );
  }

  async useTokenId(jti: string, expiresAt: number): Promise<boolean> {
    return this.write(() => {
      this.run('DELETE FROM token_ids WHERE expires_at < ?', Date.now());
      return (
        this.run(
          'INSERT INTO token_ids (jti, expires_at) VALUES (?, ?) ON CONFLICT DO NOTHING',
          jti,
          expiresAt,
        ) > 0
      );
    });
  }

  // ---- the check-run outbox ----------------------------------------------

  async touchCheckRun(deploymentId: string): Promise<void> {
    await this.write(() =>
      this.run(
        `INSERT INTO check_runs (deployment_id, version, touched_at) VALUES (?, 1, ?)
         ON CONFLICT (deployment_id) DO UPDATE SET version = version + 1, touched_at = excluded.touched_at
         WHERE NOT completed`,
        deploymentId,
        Date.now(),
      ),
    );
  }

  async pendingCheckRuns(limit: number): Promise<CheckRunRow[]> {
    return this.allLimited(
      'SELECT * FROM check_runs WHERE version > sent_version ORDER BY touched_at',
      limit,
    ).map(toCheckRun);
  }

  async getCheckRun(deploymentId: string): Promise<CheckRunRow | null> {
    const r = this.get('SELECT * FROM check_runs WHERE deployment_id = ?', deploymentId);
    return r ? toCheckRun(r) : null;
  }

  async markCheckRunSent(
    deploymentId: string,
    sent: { version: number; checkRunId: number | null; at: number; annotations: number; completed: boolean },
  ): Promise<void> {
    this.run(
      `UPDATE check_runs SET sent_version = MAX(sent_version, ?), check_run_id = ?, sent_at = ?, annotations = ?,
         completed = ? WHERE deployment_id = ?`,
      sent.version,
      sent.checkRunId,
      sent.at,
      sent.annotations,
      sent.completed ? 1 : 0,
      deploymentId,
    );
  }
}
