// The per-target mutex between tasks of one node: actions waiting for a
// target get it in the order they came, each told which task holds it now,
// and the target's lock row passes from holder to holder without being free.
// The real Coordinator and SqliteStore; the worker is a local peer whose
// actions run until the test lets them end.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pino from 'pino';
import { afterEach, expect, it } from 'vitest';
import { Coordinator } from '../../runner-agent/src/scheduler/coordinator.ts';
import { SqliteStore } from '../../runner-agent/src/store/sqlite.ts';
import type { ActionRequest, ActionResult } from '../../runner-agent/src/worker/types.ts';
import { waitFor } from '../helpers/util.ts';
import { InstantWorker } from '../helpers/workers.ts';

/** Hosts web-1; each action runs until `end(taskId)`. */
class GateWorker extends InstantWorker {
  override readonly name = 'gate';
  override readonly targets = [
    { name: 'web-1', roles: ['web'], host: 'localhost', root: join(tmpdir(), 'flotilla-unused') },
  ];
  readonly ran: string[] = [];
  /** The holder of web-1's lock row in the store, as each action started. */
  readonly rowHolders: (string | null)[] = [];
  private readonly gates = new Map<string, () => void>();
  private opened = false;
  private readonly rowHolder: () => string | null;

  constructor(rowHolder: () => string | null) {
    super();
    this.rowHolder = rowHolder;
  }

  override execute(request: ActionRequest): Promise<ActionResult> {
    const task = request.env.FLOTILLA_TASK_ID!;
    this.ran.push(task);
    this.rowHolders.push(this.rowHolder());
    return new Promise((resolve) => {
      this.gates.set(task, () => resolve({ ok: true, cancelled: false, exitCode: 0, message: 'exit 0' }));
      if (this.opened) this.end(task);
    });
  }

  end(taskId: string): void {
    const gate = this.gates.get(taskId);
    if (!gate) throw new Error(`task ${taskId} runs nothing`);
    this.gates.delete(taskId);
    gate();
  }

  /** Every action ends now or as soon as it starts (so a failed test still stops). */
  openAll(): void {
    this.opened = true;
    for (const task of [...this.gates.keys()]) this.end(task);
  }
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

it('actions waiting here for a target get it in the order they came, told who holds it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-target-mutex-'));
  const store = new SqliteStore(dir);
  // What a crash at that instant would leave: read from a second connection.
  const reader = new DatabaseSync(join(dir, 'flotilla.db'), { readOnly: true });
  const row = reader.prepare("SELECT task_id FROM target_locks WHERE target = 'web-1'");
  const worker = new GateWorker(() => (row.get()?.task_id as string | undefined) ?? null);
  const coordinator = new Coordinator({
    store,
    node: 'node-1',
    taskCap: 3,
    worker,
    log: pino({ level: 'silent' }),
    leaseTtlMs: 30_000,
    retryBackoffMs: 10,
  });
  cleanups.push(async () => {
    worker.openAll();
    await coordinator.stop();
    reader.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  await coordinator.start();
  // Each task deploys to web-1 twice, in two steps.
  const { deployment, tasks } = await coordinator.submit(
    {
      plan: {
        version: 1,
        project: 'app',
        environment: 'prod',
        release: 'r1',
        tenants: ['a', 'b', 'c'],
        steps: [
          { name: 'first', targets: { roles: ['web'] }, run: 'true' },
          { name: 'second', targets: { roles: ['web'] }, run: 'true' },
        ],
      },
    },
    'http://test',
  );
  const [a, b, c] = tasks.map((t) => t.id) as [string, string, string];
  /** What each task's action of `step` waits on. */
  const waitingOn = async (step: string) =>
    new Map(
      (await store.actionsOf(tasks.map((t) => t.id)))
        .filter((x) => x.step === step)
        .map((x) => [x.taskId, x.waitingOn]),
    );
  const busyWith = (holder: string) => `target web-1 busy with task ${holder} (mutex)`;
  const holder = async () => {
    const lock = await store.lockTarget('web-1', 'tsk_outsider', 'act_outsider');
    return lock.ok ? null : lock.holder;
  };

  await waitFor('a runs and b and c wait', async () => {
    const w = await waitingOn('first');
    return worker.ran.length === 1 && w.get(b) === busyWith(a) && w.get(c) === busyWith(a);
  });
  expect(worker.ran).toEqual([a]);
  expect(await holder()).toBe(a);

  // a's second action comes after b's and c's first: it waits in line behind them.
  worker.end(a);
  await waitFor('b runs; c and a say so', async () => {
    const w = await waitingOn('first');
    const second = await waitingOn('second');
    return worker.ran.length === 2 && w.get(c) === busyWith(b) && second.get(a) === busyWith(b);
  });
  expect(worker.ran).toEqual([a, b]);
  expect(await holder()).toBe(b);

  for (const [i, t] of [b, c, a, b, c].entries()) {
    worker.end(t);
    if (i < 4) await waitFor(`action ${i + 3} runs`, () => worker.ran.length === i + 3);
  }
  expect(worker.ran).toEqual([a, b, c, a, b, c]);
  // No script ran before the lock row was its task's.
  expect(worker.rowHolders).toEqual(worker.ran);
  await waitFor(
    'the deployment ends',
    async () => (await store.getDeployment(deployment.id))!.state === 'succeeded',
  );
  // Every lock went with its task.
  expect(await holder()).toBeNull();
});
