// A store that fails for a moment must not lose a task's end: the task keeps
// its slot and its tag until the end is written, and then the queue moves on;
// an action's end it does not take fails the task. The real Coordinator and
// SqliteStore; the store is wrapped so that its first calls of one method
// throw, because no local peer fails on demand the way a database does for a
// moment (a dropped connection, a full disk).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Coordinator } from '../../runner-agent/src/scheduler/coordinator.ts';
import { SqliteStore } from '../../runner-agent/src/store/sqlite.ts';
import type { ActionRequest, ActionResult, Worker } from '../../runner-agent/src/worker/types.ts';
import { InstantWorker } from '../helpers/workers.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/**
 * A coordinator on a real store whose calls of `method` throw an I/O error,
 * `failures` of them after the first `skip`; `calls` records the first
 * argument of every call.
 */
async function withFailing(
  method: 'finishTask' | 'finishAction' | 'startAction',
  failures: number,
  worker: Worker,
  skip = 0,
) {
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-store-errors-'));
  const real = new SqliteStore(dir);
  let failuresLeft = failures;
  let skipsLeft = skip;
  const calls: unknown[] = [];
  const store = new Proxy(real, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop !== method) return typeof value === 'function' ? value.bind(target) : value;
      return async (...args: unknown[]) => {
        calls.push(args[0]);
        if (skipsLeft-- <= 0 && failuresLeft-- > 0) throw new Error('SQLITE_IOERR: disk I/O error');
        return (value as (...a: unknown[]) => Promise<void>).apply(real, args);
      };
    },
  });
  const errors: string[] = [];
  const log = pino({ level: 'error' }, { write: (line: string) => errors.push(JSON.parse(line).msg) });
  const coordinator = new Coordinator({
    store,
    node: 'node-1',
    taskCap: 5,
    worker,
    log,
    leaseTtlMs: 30_000,
    retryBackoffMs: 10,
  });
  cleanups.push(async () => {
    await coordinator.stop();
    await real.close();
    await rm(dir, { recursive: true, force: true });
  });
  await coordinator.start();
  const finished = async (deploymentId: string) => {
    const deadline = Date.now() + 10_000;
    while (['queued', 'running'].includes((await real.getDeployment(deploymentId))!.state)) {
      if (Date.now() > deadline) throw new Error('the deployment did not finish');
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { dir, real, coordinator, calls, errors, finished };
}

const plan = (rest: Record<string, unknown>) => ({
  plan: { version: 1, project: 'app', environment: 'prod', release: 'r1', ...rest },
});

const webTargets = ['web-1', 'web-2', 'web-3'].map((name) => ({
  name,
  roles: ['web'],
  host: 'localhost',
  root: join(tmpdir(), 'flotilla-unused', name),
}));

/** An instant worker hosting web-1..3 that records the targets it ran actions on. */
function recordingWorker(ran: string[]) {
  return new (class extends InstantWorker {
    override readonly targets = webTargets;
    override async execute(request: ActionRequest): Promise<ActionResult> {
      ran.push(request.target!.name);
      return super.execute(request);
    }
  })();
}

describe('store errors', () => {
  it('writes a task end again until the store takes it; the tag waits for it, nothing is lost', async () => {
    const { real, coordinator, calls, errors, finished } = await withFailing(
      'finishTask',
      2,
      new InstantWorker(),
    );
    const order: string[] = [];
    coordinator.signals.on('taskStarted', (id: string) => order.push(`start ${id}`));
    coordinator.signals.on('taskFinished', (id: string) => order.push(`end ${id}`));

    // Two tenants in one tag: the second may start only once the first's end is written.
    const { deployment, tasks } = await coordinator.submit(
      plan({
        tenants: ['a', 'b'],
        concurrency: { tag: 'one-tag' },
        steps: [{ name: 'hello', on: 'worker', run: 'true' }],
      }),
      'http://test',
    );
    await finished(deployment.id);

    const [a, b] = tasks.map((t) => t.id);
    expect(calls).toEqual([a, a, a, b]);
    expect(order).toEqual([`start ${a}`, `end ${a}`, `start ${b}`, `end ${b}`]);
    expect((await real.tasksOf(deployment.id)).map((t) => t.state)).toEqual(['succeeded', 'succeeded']);
    expect(errors.filter((m) => m.startsWith('could not record the end of the task'))).toHaveLength(2);
  });

  it('an action end the store does not take fails its task at the task end, which writes it and frees the target', async () => {
    const ran: string[] = [];
    const { real, coordinator, errors, finished } = await withFailing(
      'finishAction',
      1,
      recordingWorker(ran),
    );
    const { deployment, tasks } = await coordinator.submit(
      plan({ steps: [{ name: 'roll', targets: { roles: ['web'] }, window: 1, run: 'true' }] }),
      'http://test',
    );
    await finished(deployment.id);

    // The end of the first action was lost; the next ones did not wait for it.
    expect(ran.sort()).toEqual(['web-1', 'web-2', 'web-3']);
    const [task] = await real.tasksOf(deployment.id);
    expect(task).toMatchObject({ id: tasks[0]!.id, state: 'failed' });
    expect(task!.message).toMatch(/SQLITE_IOERR/);
    expect(errors).toContain('task failed unexpectedly');
    // The end it refused went with the task's end: every action says how it ended.
    expect((await real.actionsOf([task!.id])).map((a) => a.state)).toEqual([
      'succeeded',
      'succeeded',
      'succeeded',
    ]);
    // The lock its end would have released went with the task's end.
    for (const t of ['web-1', 'web-2', 'web-3']) {
      expect(await real.lockTarget(t, 'tsk_later', 'act_later')).toEqual({ ok: true });
    }
  });

  it('a later start the store does not take: its action runs all the same, and the task fails at its end', async () => {
    const ran: string[] = [];
    // The first start fences the task and succeeds; the second is refused.
    const { real, coordinator, calls, finished } = await withFailing(
      'startAction',
      1,
      recordingWorker(ran),
      1,
    );
    const { deployment } = await coordinator.submit(
      plan({ steps: [{ name: 'roll', targets: { roles: ['web'] }, window: 1, run: 'true' }] }),
      'http://test',
    );
    await finished(deployment.id);

    expect(calls).toHaveLength(3);
    expect(ran.sort()).toEqual(['web-1', 'web-2', 'web-3']);
    const [task] = await real.tasksOf(deployment.id);
    expect(task!.state).toBe('failed');
    expect(task!.message).toMatch(/SQLITE_IOERR/);
  });

  it('a first start the store does not take: it fences the task, so no action of it runs', async () => {
    const ran: string[] = [];
    const { real, coordinator, finished } = await withFailing('startAction', 1, recordingWorker(ran));
    // Window 2: the second action is ready to start beside the first, and must not.
    const { deployment } = await coordinator.submit(
      plan({ steps: [{ name: 'roll', targets: { roles: ['web'] }, window: 2, run: 'true' }] }),
      'http://test',
    );
    await finished(deployment.id);

    expect(ran).toEqual([]);
    const [task] = await real.tasksOf(deployment.id);
    expect(task!.state).toBe('failed');
    expect(task!.message).toMatch(/SQLITE_IOERR/);
  });
});
