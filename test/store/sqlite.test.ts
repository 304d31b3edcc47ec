// The store conformance suite on the embedded SQLite store, plus what only the
// embedded store has: the data-dir lock, and its own database refusing a
// second running task with one tag even when the store's claim is bypassed.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataDirLockedError, SqliteStore } from '../../runner-agent/src/store/sqlite.ts';
import { deploy, describeStoreConformance } from './conformance.ts';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'flotilla-store-'));
}

describeStoreConformance('sqlite', async () => {
  const dir = await tempDir();
  const store = new SqliteStore(dir);
  return {
    store,
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe('SqliteStore data dir', () => {
  let dir: string;
  const open: SqliteStore[] = [];
  const openStore = () => {
    const s = new SqliteStore(dir);
    open.push(s);
    return s;
  };
  const closeStore = async (s: SqliteStore) => {
    open.splice(open.indexOf(s), 1);
    await s.close();
  };

  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a second store on the same data dir while the first is open', async () => {
    const first = openStore();
    expect(() => new SqliteStore(dir)).toThrow(DataDirLockedError);
    await closeStore(first);
    const second = openStore();
    expect(await second.listNodes()).toEqual([]);
  });

  it('takes over a lock left by a process that died', async () => {
    const dead = spawnSync(process.execPath, ['-e', '0']);
    expect(dead.pid).toEqual(expect.any(Number));
    await writeFile(join(dir, 'agent.lock'), String(dead.pid));
    const store = openStore();
    expect(await store.listNodes()).toEqual([]);
  });

  it('keeps everything across close and reopen', async () => {
    const first = openStore();
    const node = await first.registerNode('n1', 5);
    await first.setTaskCap('n1', 3);
    const lease = { node: 'n1', epoch: node.epoch };
    const d = await deploy(first, { tags: ['a', 'b'], idempotencyKey: 'key-1' });
    await first.claimTasks(lease, 1);
    await first.appendEvents([
      { deploymentId: d.deployment.id, taskId: d.tasks[0]!.id, type: 'log', data: { line: 'hello' } },
    ]);
    await closeStore(first);

    const second = openStore();
    expect(await second.getDeployment(d.deployment.id)).toEqual(d.deployment);
    expect((await second.tasksOf(d.deployment.id)).map((t) => [t.id, t.seq, t.state])).toEqual([
      [d.tasks[0]!.id, d.tasks[0]!.seq, 'running'],
      [d.tasks[1]!.id, d.tasks[1]!.seq, 'queued'],
    ]);
    expect((await second.taskLog(d.tasks[0]!.id)).map((e) => e.data.line)).toEqual(['hello']);
    const again = await second.registerNode('n1', 5);
    expect(again.taskCap).toBe(3);
    expect(again.epoch).toBeGreaterThan(node.epoch);
    // The idempotency key is durable too.
    const retried = await deploy(second, { tags: ['z'], idempotencyKey: 'key-1' });
    expect(retried.created).toBe(false);
    expect(retried.deployment.id).toBe(d.deployment.id);
  });

  it('the database refuses a second running task with one tag, whoever writes it', async () => {
    const store = openStore();
    const node = await store.registerNode('n1', 5);
    const d = await deploy(store, { tags: ['x', 'x'] });
    await store.claimTasks({ node: 'n1', epoch: node.epoch }, 5);
    // A second connection that skips the store's claim logic altogether.
    const raw = new DatabaseSync(join(dir, 'flotilla.db'));
    try {
      raw.exec('PRAGMA busy_timeout = 5000');
      const claim = raw.prepare(
        `UPDATE tasks SET state = 'running', node = 'n2', epoch = 1, started_at = 0 WHERE id = ?`,
      );
      expect(() => claim.run(d.tasks[1]!.id)).toThrow(/UNIQUE/);
      // Once the first task is no longer running, the same write is allowed.
      raw.prepare(`UPDATE tasks SET state = 'succeeded' WHERE id = ?`).run(d.tasks[0]!.id);
      expect(Number(claim.run(d.tasks[1]!.id).changes)).toBe(1);
    } finally {
      raw.close();
    }
    expect((await store.runningTasks()).map((t) => t.id)).toEqual([d.tasks[1]!.id]);
  });
});

// The group commit, watched from a second connection to the same file: what
// it sees is what a crash at that instant would leave.
describe('SqliteStore group commit', () => {
  let dir: string;
  let store: SqliteStore;
  let other: DatabaseSync;
  const lockHolder = (target: string) =>
    other.prepare('SELECT task_id FROM target_locks WHERE target = ?').get(target)?.task_id ?? null;
  const actionState = (id: string) => other.prepare('SELECT state FROM actions WHERE id = ?').get(id)?.state;

  beforeEach(async () => {
    dir = await tempDir();
    store = new SqliteStore(dir);
    other = new DatabaseSync(join(dir, 'flotilla.db'), { readOnly: true });
  });
  afterEach(async () => {
    other.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function runningTask() {
    const node = await store.registerNode('n1', 5);
    const lease = { node: 'n1', epoch: node.epoch };
    await deploy(store, { tags: ['a'] });
    const [task] = await store.claimTasks(lease, 1);
    const act = { id: 'act_1', taskId: task!.id, stepIndex: 0, step: 's', target: 'web-1', worker: null };
    await store.insertActions([{ ...act, state: 'pending', attempt: 0 }]);
    return { lease, task: task! };
  }

  it('writes of one turn commit together, each resolving only once committed', async () => {
    const { task } = await runningTask();
    const started = store.startAction(
      { id: 'act_1', taskId: task.id, attempt: 1, worker: 'w', startedAt: Date.now() },
      null,
    );
    const logged = store.appendEvents([
      { deploymentId: task.deploymentId, taskId: task.id, type: 'log', data: {} },
    ]);
    expect(actionState('act_1')).toBe('pending');
    await Promise.all([started, logged]);
    expect(actionState('act_1')).toBe('running');
  });

  it('a write that throws is rolled back alone; the others of its turn commit', async () => {
    const { task, lease } = await runningTask();
    const started = store.startAction(
      { id: 'act_1', taskId: task.id, attempt: 1, worker: 'w', startedAt: Date.now() },
      null,
    );
    const stale = store.finishTask(task.id, { ...lease, epoch: lease.epoch + 7 }, 'succeeded', null, [
      { id: 'act_1', state: 'succeeded', finishedAt: Date.now(), exitCode: 0, message: 'exit code 0' },
    ]);
    await expect(stale).rejects.toThrow(/task/);
    await started;
    expect(actionState('act_1')).toBe('running');
  });

  it('a write that throws halfway leaves none of its changes; the writes around it commit once', async () => {
    const { task } = await runningTask();
    const logged = store.appendEvents([
      { deploymentId: task.deploymentId, taskId: task.id, type: 'log', data: { line: 'before' } },
    ]);
    const row = { taskId: task.id, stepIndex: 1, step: 's2', target: null, worker: null };
    // The first row goes in, the second clashes with act_1.
    const clashing = store.insertActions([
      { ...row, id: 'act_2', state: 'pending', attempt: 0 },
      { ...row, id: 'act_1', state: 'pending', attempt: 0 },
    ]);
    const started = store.startAction(
      { id: 'act_1', taskId: task.id, attempt: 1, worker: 'w', startedAt: Date.now() },
      null,
    );
    await expect(clashing).rejects.toThrow(/UNIQUE/);
    await Promise.all([logged, started]);
    expect(actionState('act_2')).toBeUndefined();
    expect(actionState('act_1')).toBe('running');
    const lines = other.prepare("SELECT data FROM events WHERE type = 'log'").all();
    expect(lines.map((r) => JSON.parse(String(r.data)).line)).toEqual(['before']);
  });

  it('a target lock resolves once committed; a refused one names its holder', async () => {
    const { task } = await runningTask();
    const locked = store.lockTarget('web-1', task.id, 'act_1');
    expect(lockHolder('web-1')).toBeNull();
    expect(await locked).toEqual({ ok: true });
    expect(lockHolder('web-1')).toBe(task.id);
    expect(await store.lockTarget('web-1', 'tsk_other', 'act_2')).toEqual({ ok: false, holder: task.id });
  });

  it('writes of one turn run in the order they were made', async () => {
    const { task } = await runningTask();
    const first = store.lockTarget('web-1', 'tsk_first', 'act_0');
    const unlocked = store.unlockTarget('web-1', 'act_0');
    // Made in this turn after the unlock: it finds the target free.
    const second = store.lockTarget('web-1', task.id, 'act_1');
    expect(await Promise.all([first, unlocked, second])).toEqual([{ ok: true }, undefined, { ok: true }]);
    expect(lockHolder('web-1')).toBe(task.id);
  });
});
