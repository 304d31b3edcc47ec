// A store that fails for a moment must not lose a task's end: the task keeps
// its slot and its tag until the end is written, and then the queue moves on.
// The real Coordinator and SqliteStore; the store is wrapped so that its first
// finishTask calls throw, because no local peer fails on demand the way a
// database does for a moment (a dropped connection, a full disk).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Coordinator } from '../../runner-agent/src/scheduler/coordinator.ts';
import { SqliteStore } from '../../runner-agent/src/store/sqlite.ts';
import type { Store } from '../../runner-agent/src/store/types.ts';
import type { AcquireReport, ActionResult, Worker } from '../../runner-agent/src/worker/types.ts';

/** Runs every action at once, successfully: the scheduling is what is under test. */
class InstantWorker implements Worker {
  readonly name = 'instant';
  readonly pools = ['default'];
  readonly targets = [];
  runningActions = 0;
  async execute(): Promise<ActionResult> {
    return { ok: true, cancelled: false, exitCode: 0, message: 'exit code 0' };
  }
  acquire(): Promise<AcquireReport> {
    return Promise.reject(new Error('this plan deploys no packages'));
  }
  releasePackages(): void {}
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('store errors', () => {
  it('writes a task end again until the store takes it; the tag waits for it, nothing is lost', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'flotilla-store-errors-'));
    const real = new SqliteStore(dir);
    let failuresLeft = 2;
    const finishCalls: string[] = [];
    const store = new Proxy(real, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop !== 'finishTask') return typeof value === 'function' ? value.bind(target) : value;
        return async (...args: Parameters<Store['finishTask']>) => {
          finishCalls.push(args[0]);
          if (failuresLeft-- > 0) throw new Error('SQLITE_IOERR: disk I/O error');
          return real.finishTask(...args);
        };
      },
    });
    const errors: string[] = [];
    const log = pino({ level: 'error' }, { write: (line: string) => errors.push(JSON.parse(line).msg) });
    const coordinator = new Coordinator({
      store,
      node: 'node-1',
      taskCap: 5,
      worker: new InstantWorker(),
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
    const order: string[] = [];
    coordinator.signals.on('taskStarted', (id: string) => order.push(`start ${id}`));
    coordinator.signals.on('taskFinished', (id: string) => order.push(`end ${id}`));

    // Two tenants in one tag: the second may start only once the first's end is written.
    const { deployment, tasks } = await coordinator.submit(
      {
        plan: {
          version: 1,
          project: 'app',
          environment: 'prod',
          release: 'r1',
          tenants: ['a', 'b'],
          concurrency: { tag: 'one-tag' },
          steps: [{ name: 'hello', on: 'worker', run: 'true' }],
        },
      },
      'http://test',
    );
    const deadline = Date.now() + 10_000;
    while ((await real.getDeployment(deployment.id))!.state !== 'succeeded') {
      if (Date.now() > deadline) throw new Error('the deployment did not finish');
      await new Promise((r) => setTimeout(r, 20));
    }

    const [a, b] = tasks.map((t) => t.id);
    expect(finishCalls).toEqual([a, a, a, b]);
    expect(order).toEqual([`start ${a}`, `end ${a}`, `start ${b}`, `end ${b}`]);
    expect((await real.tasksOf(deployment.id)).map((t) => t.state)).toEqual(['succeeded', 'succeeded']);
    expect(errors.filter((m) => m.startsWith('could not record the end of the task'))).toHaveLength(2);
  });
});
