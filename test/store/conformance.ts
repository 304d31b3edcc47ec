// The store conformance suite: what every Store implementation must do,
// written against the interface only. test/store/sqlite.test.ts runs it on the
// embedded store; a PostgreSQL store runs the same suite. Each test opens a
// fresh, empty store through `open` and cleans it up afterwards.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type ActionStart,
  type Lease,
  type NewAction,
  StaleLeaseError,
  type Store,
  type TaskRow,
} from '../../runner-agent/src/store/types.ts';
import { loadPlan, type Plan } from '../../src/plan/index.ts';

export interface OpenedStore {
  store: Store;
  cleanup: () => Promise<void>;
}

interface PlanOptions {
  tenants: string[];
  priority?: 'high' | 'normal';
  onInterrupt?: 'fail' | 'requeue';
  maxRunningTasks?: number;
}

/** A real plan through the plan model, so stores keep what the coordinator gives them. */
export function planFor(opts: PlanOptions): Plan {
  const text = [
    'version: 1',
    'project: shop',
    'environment: prod',
    'release: "1.0.0"',
    `tenants: [${opts.tenants.join(', ')}]`,
    `priority: ${opts.priority ?? 'normal'}`,
    `onInterrupt: ${opts.onInterrupt ?? 'fail'}`,
    `concurrency: { maxRunningTasks: ${opts.maxRunningTasks ?? 0} }`,
    'steps:',
    '  - name: hello',
    '    run: echo hello',
    '    on: worker',
    '',
  ].join('\n');
  const r = loadPlan(text);
  if (!r.ok) throw new Error(`test plan refused: ${JSON.stringify(r.issues)}`);
  return r.plan;
}

interface DeployOptions extends Omit<PlanOptions, 'tenants'> {
  /** One task per tag, in this order (tenants t0, t1, …). */
  tags: string[];
  idempotencyKey?: string;
}

export async function deploy(store: Store, opts: DeployOptions) {
  const tenants = opts.tags.map((_, i) => `t${i}`);
  return store.createDeployment({
    ...(opts.idempotencyKey ? { idempotencyKey: opts.idempotencyKey } : {}),
    project: 'shop',
    environment: 'prod',
    release: '1.0.0',
    plan: planFor({ ...opts, tenants }),
    secrets: {},
    tasks: opts.tags.map((tag, i) => ({ tenant: tenants[i]!, concurrencyTag: tag })),
  });
}

const ids = (tasks: TaskRow[]) => tasks.map((t) => t.id);
const action = (id: string, taskId: string): NewAction => ({
  id,
  taskId,
  stepIndex: 0,
  step: 'hello',
  target: null,
  worker: null,
  state: 'pending',
  attempt: 0,
});
const start = (id: string, taskId: string): ActionStart => ({
  id,
  taskId,
  attempt: 1,
  worker: 'w1',
  startedAt: 1000,
});
const tags = (tasks: TaskRow[]) => tasks.map((t) => t.concurrencyTag);

export function describeStoreConformance(name: string, open: () => Promise<OpenedStore>): void {
  describe(`Store conformance: ${name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await open());
    });
    afterEach(async () => {
      await cleanup();
    });

    async function lease(node = 'node-1', cap = 5): Promise<Lease> {
      const row = await store.registerNode(node, cap);
      return { node: row.name, epoch: row.epoch };
    }

    async function claimAll(l: Lease, limit = 100) {
      return store.claimTasks(l, limit);
    }

    /** A running task with pending actions: id, step index and target (null: a worker step) each. */
    async function taskWithActions(actions: [id: string, stepIndex: number, target: string | null][]) {
      const l = await lease();
      const { tasks } = await deploy(store, { tags: ['a'] });
      await claimAll(l);
      const t = tasks[0]!.id;
      await store.insertActions(
        actions.map(([id, stepIndex, target]) => ({
          id,
          stepIndex,
          target,
          taskId: t,
          step: 'deploy',
          worker: null,
          state: 'pending' as const,
          attempt: 0,
        })),
      );
      return { l, t };
    }

    describe('nodes', () => {
      it('registerNode bumps the epoch and keeps a persisted task cap', async () => {
        const first = await store.registerNode('n1', 5);
        expect(first).toMatchObject({ name: 'n1', taskCap: 5, running: 0 });
        const again = await store.registerNode('n1', 5);
        expect(again.epoch).toBeGreaterThan(first.epoch);

        await store.setTaskCap('n1', 3);
        const restarted = await store.registerNode('n1', 7);
        expect(restarted.taskCap).toBe(3);
        expect(restarted.epoch).toBeGreaterThan(again.epoch);
        expect((await store.listNodes()).map((n) => [n.name, n.taskCap])).toEqual([['n1', 3]]);
      });

      it('a drained node stays drained across a restart', async () => {
        await store.registerNode('n1', 4);
        await store.drainNode('n1');
        expect((await store.registerNode('n1', 4)).taskCap).toBe(0);
        expect((await store.resumeNode('n1', 9))!.taskCap).toBe(4);
      });

      it('heartbeat refuses an old epoch', async () => {
        const old = await lease('n1');
        const current = await lease('n1');
        await expect(store.heartbeat(current)).resolves.toBeUndefined();
        await expect(store.heartbeat(old)).rejects.toBeInstanceOf(StaleLeaseError);
      });

      it('leaveNode marks a stopped node until it registers again; an old epoch leaves nothing', async () => {
        const old = await lease('n1');
        const current = await lease('n1');
        await store.leaveNode(old);
        expect((await store.listNodes())[0]!.stoppedAt).toBeNull();
        await store.leaveNode(current);
        expect((await store.listNodes())[0]!.stoppedAt).toEqual(expect.any(Number));
        expect((await store.registerNode('n1', 4)).stoppedAt).toBeNull();
      });

      it('useTokenId takes a token id once, whichever node asks, and forgets it once expired', async () => {
        const later = Date.now() + 60_000;
        expect(await store.useTokenId('jti-1', later)).toBe(true);
        expect(await store.useTokenId('jti-1', later)).toBe(false);
        expect(await store.useTokenId('jti-2', later)).toBe(true);
        expect(await store.useTokenId('old', Date.now() - 1000)).toBe(true);
        // The next use of any id clears the expired ones.
        expect(await store.useTokenId('jti-3', later)).toBe(true);
        expect(await store.useTokenId('old', later)).toBe(true);
      });

      it('setTaskCap, drainNode and resumeNode: resume returns to the cap before the drain', async () => {
        await store.registerNode('n1', 2);
        expect((await store.setTaskCap('n1', 4))!.taskCap).toBe(4);
        const drained = await store.drainNode('n1');
        expect(drained).toMatchObject({ taskCap: 0, resumeCap: 4 });
        // Draining twice must not forget the cap to resume to.
        expect((await store.drainNode('n1'))!.resumeCap).toBe(4);
        const resumed = await store.resumeNode('n1', 9);
        expect(resumed).toMatchObject({ taskCap: 4, resumeCap: null });
        // Resuming a node that is not drained changes nothing.
        expect((await store.resumeNode('n1', 9))!.taskCap).toBe(4);
      });

      it('a cap set to 0 directly is a drain too: resume returns to the cap before it', async () => {
        await store.registerNode('n1', 2);
        await store.setTaskCap('n1', 5);
        expect((await store.setTaskCap('n1', 0))!.taskCap).toBe(0);
        expect((await store.resumeNode('n1', 2))!.taskCap).toBe(5);

        // A cap set after a drain is the one a later drain remembers.
        await store.drainNode('n1');
        await store.setTaskCap('n1', 3);
        await store.setTaskCap('n1', 0);
        expect((await store.resumeNode('n1', 2))!.taskCap).toBe(3);
      });

      it('resume of a node that was never given a cap uses the default', async () => {
        await store.registerNode('n1', 0);
        expect((await store.resumeNode('n1', 6))!.taskCap).toBe(6);
      });

      it('unknown nodes give null', async () => {
        expect(await store.setTaskCap('nope', 1)).toBeNull();
        expect(await store.drainNode('nope')).toBeNull();
        expect(await store.resumeNode('nope', 1)).toBeNull();
      });

      it('counts running tasks per node', async () => {
        const a = await lease('a');
        const b = await lease('b');
        await deploy(store, { tags: ['x', 'y', 'z'] });
        await store.claimTasks(a, 2);
        await store.claimTasks(b, 5);
        expect((await store.listNodes()).map((n) => [n.name, n.running])).toEqual([
          ['a', 2],
          ['b', 1],
        ]);
      });
    });

    describe('deployments', () => {
      it('creates queued tasks in submission order with the plan priority', async () => {
        const d1 = await deploy(store, { tags: ['a', 'b'] });
        const d2 = await deploy(store, { tags: ['c'], priority: 'high' });
        expect(d1.created).toBe(true);
        expect(d1.deployment).toMatchObject({ state: 'queued', project: 'shop', finishedAt: null });
        expect(d1.deployment.plan.steps[0]!.name).toBe('hello');
        expect(d1.tasks.map((t) => [t.tenant, t.concurrencyTag, t.state, t.priority])).toEqual([
          ['t0', 'a', 'queued', 0],
          ['t1', 'b', 'queued', 0],
        ]);
        expect(d2.tasks[0]!.priority).toBeGreaterThan(d1.tasks[0]!.priority);
        const seqs = [...d1.tasks, ...d2.tasks].map((t) => t.seq);
        expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
        expect(new Set(seqs).size).toBe(3);
        expect(await store.getDeployment(d1.deployment.id)).toEqual(d1.deployment);
        expect(ids(await store.tasksOf(d1.deployment.id))).toEqual(ids(d1.tasks));
        expect(await store.getTask(d1.tasks[1]!.id)).toEqual(d1.tasks[1]);
        expect(await store.getDeployment('dep_nope')).toBeNull();
        expect(await store.getTask('tsk_nope')).toBeNull();
      });

      it('an idempotency key returns the first deployment', async () => {
        const first = await deploy(store, { tags: ['a', 'b'], idempotencyKey: 'run/1/1/job/h' });
        const second = await deploy(store, { tags: ['z'], idempotencyKey: 'run/1/1/job/h' });
        expect(second.created).toBe(false);
        expect(second.deployment.id).toBe(first.deployment.id);
        expect(ids(second.tasks)).toEqual(ids(first.tasks));
        expect(await store.listDeployments(10)).toHaveLength(1);
        const other = await deploy(store, { tags: ['a'], idempotencyKey: 'run/1/2/job/h' });
        expect(other.created).toBe(true);
        expect(other.deployment.id).not.toBe(first.deployment.id);
        expect(await store.listDeployments(10)).toHaveLength(2);
      });

      it('setDeploymentState moves a deployment on once, and records when it finished', async () => {
        const { deployment } = await deploy(store, { tags: ['a'] });
        expect(await store.setDeploymentState(deployment.id, 'running')).toBe(true);
        // A second node finding it started (or finished) is told it already was.
        expect(await store.setDeploymentState(deployment.id, 'running')).toBe(false);
        expect(await store.getDeployment(deployment.id)).toMatchObject({
          state: 'running',
          finishedAt: null,
        });
        expect(await store.setDeploymentState(deployment.id, 'succeeded')).toBe(true);
        const done = (await store.getDeployment(deployment.id))!;
        expect(done.state).toBe('succeeded');
        expect(done.finishedAt).toEqual(expect.any(Number));
        expect(await store.setDeploymentState(deployment.id, 'failed')).toBe(false);
        expect(await store.setDeploymentState(deployment.id, 'running')).toBe(false);
        expect(await store.getDeployment(deployment.id)).toEqual(done);
        // Straight from queued to a final state (every task cancelled while queued).
        const other = (await deploy(store, { tags: ['b'] })).deployment;
        expect(await store.setDeploymentState(other.id, 'cancelled')).toBe(true);
      });

      it('hasOpenTasks tells whether any task is queued or running', async () => {
        const l = await lease();
        const { deployment, tasks } = await deploy(store, { tags: ['a', 'b'] });
        expect(await store.hasOpenTasks(deployment.id)).toBe(true);
        await store.claimTasks(l, 1);
        await store.cancelQueued(deployment.id, 'cancelled');
        expect(await store.hasOpenTasks(deployment.id)).toBe(true);
        await store.finishTask(tasks[0]!.id, l, 'succeeded', null);
        expect(await store.hasOpenTasks(deployment.id)).toBe(false);
      });
    });

    describe('claimTasks', () => {
      it('claims high priority first, then in submission order', async () => {
        const l = await lease();
        const normal = await deploy(store, { tags: ['a', 'b'] });
        const high = await deploy(store, { tags: ['c', 'd'], priority: 'high' });
        const later = await deploy(store, { tags: ['e'] });
        expect(ids(await store.queuedTasks())).toEqual(ids([...high.tasks, ...normal.tasks, ...later.tasks]));
        expect(ids(await store.queuedTasks(3))).toEqual(ids([...high.tasks, normal.tasks[0]!]));
        expect(tags(await store.claimTasks(l, 1))).toEqual(['c']);
        expect(tags(await store.claimTasks(l, 2))).toEqual(['d', 'a']);
        expect(tags(await store.claimTasks(l, 10))).toEqual(['b', 'e']);
        expect(await store.queuedTasks()).toEqual([]);
      });

      it('claims stamp the lease on the task', async () => {
        const l = await lease('n1');
        const { tasks } = await deploy(store, { tags: ['a'] });
        const [claimed] = await store.claimTasks(l, 1);
        expect(claimed).toMatchObject({ id: tasks[0]!.id, state: 'running', node: 'n1', epoch: l.epoch });
        expect(claimed!.startedAt).toEqual(expect.any(Number));
        expect(await store.getTask(tasks[0]!.id)).toMatchObject({
          state: 'running',
          node: 'n1',
          epoch: l.epoch,
          actionStarted: false,
        });
        expect(ids(await store.runningTasks())).toEqual([tasks[0]!.id]);
      });

      it('respects the limit', async () => {
        const l = await lease();
        await deploy(store, { tags: ['a', 'b', 'c', 'd', 'e'] });
        expect(await store.claimTasks(l, 0)).toEqual([]);
        expect(tags(await store.claimTasks(l, 2))).toEqual(['a', 'b']);
        expect(tags(await store.claimTasks(l, 2))).toEqual(['c', 'd']);
        expect((await store.queuedTasks()).length).toBe(1);
      });

      it('runs one task per concurrency tag, also when claiming many at once', async () => {
        const l = await lease();
        const d = await deploy(store, { tags: ['x', 'x', 'y', 'x', 'y'] });
        const claimed = await claimAll(l);
        expect(ids(claimed)).toEqual([d.tasks[0]!.id, d.tasks[2]!.id]);
        expect(await claimAll(l)).toEqual([]);
        const running = await store.runningTasks();
        expect(new Set(tags(running)).size).toBe(running.length);
      });

      it('starts the tasks of one tag in submission order', async () => {
        const l = await lease();
        const d1 = await deploy(store, { tags: ['x'] });
        const d2 = await deploy(store, { tags: ['x', 'y'] });
        const d3 = await deploy(store, { tags: ['x'] });
        const order = [d1.tasks[0]!, d2.tasks[0]!, d3.tasks[0]!];
        const started: string[] = [];
        for (let i = 0; i < 3; i++) {
          const claimed = (await claimAll(l)).filter((t) => t.concurrencyTag === 'x');
          expect(claimed).toHaveLength(1);
          started.push(claimed[0]!.id);
          await store.finishTask(claimed[0]!.id, l, 'succeeded', null);
        }
        expect(started).toEqual(ids(order));
      });

      it('a blocked tag does not block other tags behind it (no head-of-line blocking)', async () => {
        const l = await lease();
        await deploy(store, { tags: ['x'] });
        await claimAll(l);
        const d2 = await deploy(store, { tags: ['x', 'x', 'y'] });
        const d3 = await deploy(store, { tags: ['z'] });
        expect(ids(await store.claimTasks(l, 1))).toEqual([d2.tasks[2]!.id]);
        expect(ids(await store.claimTasks(l, 1))).toEqual([d3.tasks[0]!.id]);
        expect(await claimAll(l)).toEqual([]);
      });

      it('limits a deployment to maxRunningTasks', async () => {
        const l = await lease();
        const limited = await deploy(store, { tags: ['a', 'b', 'c', 'd'], maxRunningTasks: 2 });
        const other = await deploy(store, { tags: ['e'] });
        const first = await claimAll(l);
        expect(ids(first)).toEqual([limited.tasks[0]!.id, limited.tasks[1]!.id, other.tasks[0]!.id]);
        expect(await claimAll(l)).toEqual([]);
        await store.finishTask(limited.tasks[0]!.id, l, 'succeeded', null);
        expect(ids(await claimAll(l))).toEqual([limited.tasks[2]!.id]);
      });

      it('a task held back by maxRunningTasks still keeps later tasks of its tag behind it', async () => {
        const l = await lease();
        const limited = await deploy(store, { tags: ['a', 'x'], maxRunningTasks: 1 });
        const later = await deploy(store, { tags: ['x'] });
        expect(ids(await claimAll(l))).toEqual([limited.tasks[0]!.id]);
        await store.finishTask(limited.tasks[0]!.id, l, 'succeeded', null);
        expect(ids(await claimAll(l))).toEqual([limited.tasks[1]!.id]);
        await store.finishTask(limited.tasks[1]!.id, l, 'succeeded', null);
        expect(ids(await claimAll(l))).toEqual([later.tasks[0]!.id]);
      });

      it('finds claimable tasks far behind a long blocked queue', async () => {
        const l = await lease();
        await deploy(store, { tags: ['x'] });
        await claimAll(l);
        await deploy(store, { tags: Array.from({ length: 600 }, () => 'x') });
        const tail = await deploy(store, { tags: ['y'] });
        expect(ids(await claimAll(l))).toEqual([tail.tasks[0]!.id]);
      });

      it('two nodes claiming at once never run two tasks of one tag', async () => {
        const a = await lease('a');
        const b = await lease('b');
        const tagList = ['x', 'x', 'y', 'y', 'z', 'x', 'w'];
        await deploy(store, { tags: tagList });
        const [ca, cb] = await Promise.all([store.claimTasks(a, 10), store.claimTasks(b, 10)]);
        const all = [...ca, ...cb];
        expect(new Set(ids(all)).size).toBe(all.length);
        expect(tags(all).sort()).toEqual(['w', 'x', 'y', 'z']);
        const running = await store.runningTasks();
        expect(tags(running).sort()).toEqual(['w', 'x', 'y', 'z']);
      });
    });

    describe('leases', () => {
      it('a stale lease cannot claim, finish or mark an action started', async () => {
        const old = await lease('n1');
        const { tasks } = await deploy(store, { tags: ['a', 'b'] });
        const [claimed] = await store.claimTasks(old, 1);
        const current = await lease('n1');
        await expect(store.claimTasks(old, 1)).rejects.toBeInstanceOf(StaleLeaseError);
        await store.insertActions([action('act_a', claimed!.id)]);
        await expect(store.startAction(start('act_a', claimed!.id), old)).rejects.toBeInstanceOf(
          StaleLeaseError,
        );
        await expect(store.finishTask(claimed!.id, old, 'succeeded', null)).rejects.toBeInstanceOf(
          StaleLeaseError,
        );
        // Nor can another node, or the current epoch, which never claimed it.
        await expect(store.finishTask(claimed!.id, current, 'succeeded', null)).rejects.toBeInstanceOf(
          StaleLeaseError,
        );
        expect(await store.getTask(tasks[0]!.id)).toMatchObject({ state: 'running', actionStarted: false });
        // The refused fence left the action as it was.
        expect((await store.actionsOf([claimed!.id]))[0]).toMatchObject({ state: 'pending', worker: null });
        expect(await store.getTask(tasks[1]!.id)).toMatchObject({ state: 'queued' });
      });

      it('an unknown node cannot claim', async () => {
        await deploy(store, { tags: ['a'] });
        await expect(store.claimTasks({ node: 'ghost', epoch: 1 }, 1)).rejects.toBeInstanceOf(
          StaleLeaseError,
        );
        expect(await store.runningTasks()).toEqual([]);
      });

      it("the first start writes the task's action rows with it, the started one as started", async () => {
        const l = await lease('n1');
        const { tasks } = await deploy(store, { tags: ['a', 'b'] });
        const [a, b] = await store.claimTasks(l, 2);
        const rows = [action('act_1', a!.id), { ...action('act_2', a!.id), stepIndex: 1 }];
        await store.startAction(start('act_1', a!.id), l, rows);
        expect((await store.getTask(tasks[0]!.id))!.actionStarted).toBe(true);
        expect(await store.actionsOf([a!.id])).toMatchObject([
          { id: 'act_1', state: 'running', attempt: 1, worker: 'w1', startedAt: 1000, waitingOn: null },
          { id: 'act_2', state: 'pending', attempt: 0, worker: null, startedAt: null },
        ]);
        // Under a stale lease nothing is written: neither the fence nor the rows.
        await lease('n1');
        await expect(
          store.startAction(start('act_3', b!.id), l, [action('act_3', b!.id)]),
        ).rejects.toBeInstanceOf(StaleLeaseError);
        expect(await store.actionsOf([b!.id])).toEqual([]);
        expect((await store.getTask(b!.id))!.actionStarted).toBe(false);
      });

      it("a task's end writes its last action ends with it, and nothing under a stale lease", async () => {
        const old = await lease('n1');
        await deploy(store, { tags: ['a', 'b'] });
        const [a, b] = await store.claimTasks(old, 2);
        await store.startAction(start('act_a', a!.id), old, [action('act_a', a!.id)]);
        await store.startAction(start('act_b', b!.id), old, [action('act_b', b!.id)]);
        const end = (id: string) => ({
          id,
          state: 'succeeded' as const,
          finishedAt: 2000,
          exitCode: 0,
          message: 'exit code 0',
        });
        await store.finishTask(a!.id, old, 'succeeded', null, [end('act_a')]);
        expect((await store.actionsOf([a!.id]))[0]).toMatchObject({
          state: 'succeeded',
          finishedAt: 2000,
          exitCode: 0,
          message: 'exit code 0',
        });
        await lease('n1');
        await expect(store.finishTask(b!.id, old, 'succeeded', null, [end('act_b')])).rejects.toBeInstanceOf(
          StaleLeaseError,
        );
        expect((await store.actionsOf([b!.id]))[0]).toMatchObject({ state: 'running', finishedAt: null });
      });

      it('the holder marks an action started and finishes the task once', async () => {
        const l = await lease('n1');
        const { tasks } = await deploy(store, { tags: ['a'] });
        await store.claimTasks(l, 1);
        await store.insertActions([action('act_1', tasks[0]!.id), action('act_2', tasks[0]!.id)]);
        await store.startAction(start('act_1', tasks[0]!.id), l);
        expect((await store.getTask(tasks[0]!.id))!.actionStarted).toBe(true);
        // Later starts need no fence.
        await store.startAction({ ...start('act_2', tasks[0]!.id), attempt: 2 }, null);
        expect(await store.actionsOf([tasks[0]!.id])).toMatchObject([
          { id: 'act_1', state: 'running', attempt: 1, worker: 'w1', startedAt: 1000, waitingOn: null },
          { id: 'act_2', state: 'running', attempt: 2, worker: 'w1', startedAt: 1000 },
        ]);
        await store.finishTask(tasks[0]!.id, l, 'failed', 'step deploy failed');
        const done = (await store.getTask(tasks[0]!.id))!;
        expect(done).toMatchObject({ state: 'failed', message: 'step deploy failed' });
        expect(done.finishedAt).toEqual(expect.any(Number));
        await expect(store.finishTask(tasks[0]!.id, l, 'succeeded', null)).rejects.toBeInstanceOf(
          StaleLeaseError,
        );
        await expect(store.startAction(start('act_1', tasks[0]!.id), l)).rejects.toBeInstanceOf(
          StaleLeaseError,
        );
        expect((await store.getTask(tasks[0]!.id))!.state).toBe('failed');
      });

      it('finishing a task frees its tag and releases its target locks', async () => {
        const l = await lease();
        const d = await deploy(store, { tags: ['x', 'x'] });
        await claimAll(l);
        expect(await store.lockTarget('web-1', d.tasks[0]!.id, 'act_1')).toEqual({ ok: true });
        await store.finishTask(d.tasks[0]!.id, l, 'succeeded', null);
        expect(await store.lockTarget('web-1', d.tasks[1]!.id, 'act_2')).toEqual({ ok: true });
        expect(ids(await claimAll(l))).toEqual([d.tasks[1]!.id]);
      });
    });

    describe('cancel and supersede', () => {
      it('cancelQueued cancels the queued tasks of a deployment only', async () => {
        const l = await lease();
        const d = await deploy(store, { tags: ['a', 'b', 'c'] });
        const other = await deploy(store, { tags: ['d'] });
        await store.claimTasks(l, 1);
        const cancelled = await store.cancelQueued(d.deployment.id, 'cancelled by ci');
        expect(ids(cancelled).sort()).toEqual(ids(d.tasks.slice(1)).sort());
        for (const t of cancelled) {
          expect(t).toMatchObject({ state: 'cancelled', message: 'cancelled by ci' });
          expect(await store.getTask(t.id)).toMatchObject({ state: 'cancelled', message: 'cancelled by ci' });
        }
        expect((await store.getTask(d.tasks[0]!.id))!.state).toBe('running');
        expect(ids(await store.queuedTasks())).toEqual(ids(other.tasks));
        expect(await store.cancelQueued(d.deployment.id, 'again')).toEqual([]);
        expect(ids(await claimAll(l))).toEqual(ids(other.tasks));
      });

      it('supersedeQueued cancels older queued tasks of the given tags', async () => {
        const l = await lease();
        const running = await deploy(store, { tags: ['a'] });
        await claimAll(l);
        const old = await deploy(store, { tags: ['a', 'b', 'c'] });
        const fresh = await deploy(store, { tags: ['a', 'b'] });
        const superseded = await store.supersedeQueued(
          ['a', 'b'],
          fresh.tasks[0]!.seq,
          `superseded by deployment ${fresh.deployment.id}`,
        );
        expect(ids(superseded).sort()).toEqual(ids(old.tasks.slice(0, 2)).sort());
        for (const t of superseded) expect(t.state).toBe('cancelled');
        expect((await store.getTask(old.tasks[0]!.id))!.message).toBe(
          `superseded by deployment ${fresh.deployment.id}`,
        );
        expect((await store.getTask(running.tasks[0]!.id))!.state).toBe('running');
        expect(ids(await store.queuedTasks())).toEqual(ids([old.tasks[2]!, ...fresh.tasks]));
        expect(await store.supersedeQueued([], fresh.tasks[0]!.seq, 'x')).toEqual([]);
      });
    });

    describe('recoverTasks', () => {
      it('requeues tasks of an old epoch that started no action, at their old position', async () => {
        const old = await lease('n1');
        const d1 = await deploy(store, { tags: ['a', 'b'] });
        await store.claimTasks(old, 1);
        const later = await deploy(store, { tags: ['c'] });
        const current = await lease('n1');
        const recovered = await store.recoverTasks({ node: 'n1', currentEpoch: current.epoch });
        expect(ids(recovered)).toEqual([d1.tasks[0]!.id]);
        expect(recovered[0]).toMatchObject({ state: 'queued', node: null, epoch: null });
        const row = (await store.getTask(d1.tasks[0]!.id))!;
        expect(row).toMatchObject({ state: 'queued', seq: d1.tasks[0]!.seq, node: null, epoch: null });
        expect(row.message).toEqual(expect.any(String));
        expect(recovered[0]!.message).toBe(row.message);
        expect(ids(await store.queuedTasks())).toEqual(ids([...d1.tasks, ...later.tasks]));
        // The new epoch claims it again, first.
        const [again] = await store.claimTasks(current, 1);
        expect(again).toMatchObject({ id: d1.tasks[0]!.id, epoch: current.epoch, actionStarted: false });
      });

      it('interrupts tasks that started an action, or requeues them with onInterrupt: requeue', async () => {
        const old = await lease('n1');
        const failing = await deploy(store, { tags: ['a'] });
        const requeue = await deploy(store, { tags: ['b'], onInterrupt: 'requeue' });
        const quiet = await deploy(store, { tags: ['c'] });
        await store.claimTasks(old, 3);
        const [f, r, q] = [failing.tasks[0]!, requeue.tasks[0]!, quiet.tasks[0]!];
        await store.insertActions([
          {
            id: 'act_f',
            taskId: f.id,
            stepIndex: 0,
            step: 'hello',
            target: 'web-1',
            worker: 'w',
            state: 'pending',
            attempt: 0,
          },
          {
            id: 'act_r',
            taskId: r.id,
            stepIndex: 0,
            step: 'hello',
            target: 'web-2',
            worker: 'w',
            state: 'pending',
            attempt: 0,
          },
        ]);
        await store.startAction(start('act_f', f.id), old);
        await store.startAction(start('act_r', r.id), old);
        expect(await store.lockTarget('web-1', f.id, 'act_f')).toEqual({ ok: true });
        expect(await store.lockTarget('web-2', r.id, 'act_r')).toEqual({ ok: true });

        const current = await lease('n1');
        const recovered = await store.recoverTasks({ node: 'n1', currentEpoch: current.epoch });
        const byId = new Map(recovered.map((t) => [t.id, t]));
        expect([...byId.keys()].sort()).toEqual([f.id, r.id, q.id].sort());
        for (const t of recovered) {
          const row = (await store.getTask(t.id))!;
          // What recoverTasks returns is what it stored (the coordinator reports these rows).
          expect({ state: t.state, message: t.message, node: t.node }).toEqual({
            state: row.state,
            message: row.message,
            node: row.node,
          });
          // The event telling of it was written with it: a node killed right
          // after recovering leaves no requeue or interruption unsaid.
          const told = (await store.eventsSince(t.deploymentId, 0, 100)).filter((e) => e.taskId === t.id);
          expect(told.map((e) => [e.type, e.data.state, e.data.message])).toEqual([
            [t.state === 'queued' ? 'task.requeued' : 'task.finished', t.state, t.message],
          ]);
        }

        const fRow = (await store.getTask(f.id))!;
        expect(fRow.state).toBe('interrupted');
        expect(fRow.finishedAt).toEqual(expect.any(Number));
        expect(fRow.message).toMatch(/n1/);
        expect(await store.getTask(r.id)).toMatchObject({
          state: 'queued',
          seq: r.seq,
          actionStarted: false,
        });
        expect(await store.getTask(q.id)).toMatchObject({ state: 'queued', seq: q.seq });
        // Their actions are over and their targets free.
        const actions = await store.actionsOf([f.id, r.id]);
        expect(actions.map((a) => [a.id, a.state]).sort()).toEqual([
          ['act_f', 'cancelled'],
          ['act_r', 'cancelled'],
        ]);
        expect(await store.lockTarget('web-1', 'tsk_other', 'act_x')).toEqual({ ok: true });
        expect(await store.lockTarget('web-2', 'tsk_other', 'act_y')).toEqual({ ok: true });
        // The old epoch can no longer finish them.
        await expect(store.finishTask(f.id, old, 'succeeded', null)).rejects.toBeInstanceOf(StaleLeaseError);
        await expect(store.finishTask(r.id, old, 'succeeded', null)).rejects.toBeInstanceOf(StaleLeaseError);
        expect(tags(await claimAll(current)).sort()).toEqual(['b', 'c']);
      });

      it('leaves the current epoch and other nodes alone', async () => {
        const other = await lease('n2');
        const current = await lease('n1');
        await deploy(store, { tags: ['a', 'b'] });
        await store.claimTasks(current, 1);
        await store.claimTasks(other, 1);
        expect(await store.recoverTasks({ node: 'n1', currentEpoch: current.epoch })).toEqual([]);
        expect((await store.runningTasks()).length).toBe(2);
      });

      it('recovers tasks of nodes whose heartbeat is older than staleBefore', async () => {
        const dead = await lease('dead');
        await deploy(store, { tags: ['a'] });
        await store.claimTasks(dead, 1);
        const now = await store.now();
        expect(await store.recoverTasks({ staleBefore: now - 60_000 })).toEqual([]);
        const recovered = await store.recoverTasks({ staleBefore: now + 60_000 });
        expect(recovered.map((t) => t.state)).toEqual(['queued']);
        expect((await store.runningTasks()).length).toBe(0);
      });
    });

    describe('target mutex', () => {
      it('one holder per target; others learn who holds it', async () => {
        expect(await store.lockTarget('web-1', 'tsk_a', 'act_a1')).toEqual({ ok: true });
        expect(await store.lockTarget('web-1', 'tsk_b', 'act_b1')).toEqual({ ok: false, holder: 'tsk_a' });
        expect(await store.lockTarget('web-2', 'tsk_b', 'act_b2')).toEqual({ ok: true });
        // Only the holding action releases it.
        await store.unlockTarget('web-1', 'act_b1');
        expect(await store.lockTarget('web-1', 'tsk_b', 'act_b1')).toEqual({ ok: false, holder: 'tsk_a' });
        await store.unlockTarget('web-1', 'act_a1');
        expect(await store.lockTarget('web-1', 'tsk_b', 'act_b1')).toEqual({ ok: true });
        expect(await store.lockTarget('web-1', 'tsk_a', 'act_a2')).toEqual({ ok: false, holder: 'tsk_b' });
      });

      it('a lock passes from action to action, never free; only its holder passes it', async () => {
        expect(await store.lockTarget('web-1', 'tsk_a', 'act_a1')).toEqual({ ok: true });
        await store.unlockTarget('web-1', 'act_a1', { taskId: 'tsk_b', actionId: 'act_b1' });
        expect(await store.lockTarget('web-1', 'tsk_c', 'act_c1')).toEqual({ ok: false, holder: 'tsk_b' });
        // Passed on again, by the action that holds it now; the one before holds nothing.
        await expect(
          store.unlockTarget('web-1', 'act_a1', { taskId: 'tsk_c', actionId: 'act_c1' }),
        ).rejects.toThrow('target web-1 is not held by action act_a1');
        expect(await store.lockTarget('web-1', 'tsk_c', 'act_c1')).toEqual({ ok: false, holder: 'tsk_b' });
        await store.unlockTarget('web-1', 'act_b1', { taskId: 'tsk_c', actionId: 'act_c1' });
        await store.unlockTarget('web-1', 'act_c1');
        expect(await store.lockTarget('web-1', 'tsk_d', 'act_d1')).toEqual({ ok: true });
      });

      it("an action's end passes its lock on with the end; a task's end passes the ones it names", async () => {
        const { l, t } = await taskWithActions([
          ['act_w1', 0, 'web-1'],
          ['act_w2', 0, 'web-2'],
          ['act_w3', 0, 'web-3'],
        ]);
        for (const k of [1, 2, 3])
          expect(await store.lockTarget(`web-${k}`, t, `act_w${k}`)).toEqual({ ok: true });
        const end = { state: 'succeeded' as const, finishedAt: 30, exitCode: 0, message: 'exit code 0' };
        await store.finishAction({ ...end, id: 'act_w1' }, 'web-1', {
          taskId: 'tsk_next',
          actionId: 'act_n1',
        });
        expect((await store.actionsOf([t])).find((a) => a.id === 'act_w1')).toMatchObject(end);
        expect(await store.lockTarget('web-1', 'tsk_x', 'act_x1')).toEqual({ ok: false, holder: 'tsk_next' });
        // The task ends holding web-2 and web-3: it passes web-3 on and releases web-2.
        await store.finishTask(
          t,
          l,
          'succeeded',
          null,
          [],
          [{ target: 'web-3', taskId: 'tsk_next', actionId: 'act_n3' }],
        );
        expect(await store.lockTarget('web-2', 'tsk_x', 'act_x2')).toEqual({ ok: true });
        expect(await store.lockTarget('web-3', 'tsk_x', 'act_x3')).toEqual({ ok: false, holder: 'tsk_next' });
        expect(await store.lockTarget('web-1', 'tsk_x', 'act_x1')).toEqual({ ok: false, holder: 'tsk_next' });
      });
    });

    describe('actions', () => {
      it('inserts a task with more actions than one statement takes, each as given', async () => {
        const targets = Array.from({ length: 37 }, (_, i) => `web-${String(i).padStart(2, '0')}`);
        const { t } = await taskWithActions(targets.map((target, i) => [`act_${i}`, 1, target]));
        const rows = await store.actionsOf([t]);
        expect(rows.map((a) => [a.id, a.target, a.state])).toEqual(
          targets.map((target, i) => [`act_${i}`, target, 'pending']),
        );
      });

      it('inserts, patches and lists actions', async () => {
        const l = await lease();
        const { tasks } = await deploy(store, { tags: ['a', 'b'] });
        await claimAll(l);
        const [t0, t1] = [tasks[0]!.id, tasks[1]!.id];
        await store.insertActions([
          {
            id: 'act_2',
            taskId: t0,
            stepIndex: 1,
            step: 'smoke',
            target: 'web-1',
            worker: null,
            state: 'pending',
            attempt: 0,
          },
          {
            id: 'act_1',
            taskId: t0,
            stepIndex: 0,
            step: 'deploy',
            target: 'web-1',
            worker: null,
            state: 'pending',
            attempt: 0,
          },
          {
            id: 'act_3',
            taskId: t1,
            stepIndex: 0,
            step: 'deploy',
            target: null,
            worker: null,
            state: 'pending',
            attempt: 0,
          },
        ]);
        await store.updateAction('act_1', {
          state: 'failed',
          attempt: 2,
          startedAt: 10,
          finishedAt: 20,
          exitCode: 3,
          message: 'exit 3',
          worker: 'w1',
          waitingOn: null,
        });
        await store.updateAction('act_2', { waitingOn: 'target web-1 busy with task tsk_x (mutex)' });
        const mine = await store.actionsOf([t0]);
        expect(mine.map((a) => a.id)).toEqual(['act_1', 'act_2']);
        expect(mine[0]).toMatchObject({
          taskId: t0,
          step: 'deploy',
          target: 'web-1',
          state: 'failed',
          attempt: 2,
          startedAt: 10,
          finishedAt: 20,
          exitCode: 3,
          message: 'exit 3',
          worker: 'w1',
          waitingOn: null,
        });
        expect(mine[1]!.waitingOn).toBe('target web-1 busy with task tsk_x (mutex)');
        expect((await store.actionsOf([t0, t1])).length).toBe(3);
        expect(await store.actionsOf([])).toEqual([]);
      });

      it("an action's end clears its wait and releases the target it held, and only that", async () => {
        const { t } = await taskWithActions([
          ['act_w1', 0, 'web-1'],
          ['act_w2', 0, 'web-2'],
          ['act_job', 1, null],
        ]);
        expect(await store.lockTarget('web-1', t, 'act_w1')).toEqual({ ok: true });
        expect(await store.lockTarget('web-2', t, 'act_w2')).toEqual({ ok: true });
        await store.updateAction('act_job', { waitingOn: 'pool default: no worker belongs to it' });
        const end = { state: 'succeeded' as const, finishedAt: 30, exitCode: 0, message: 'exit code 0' };
        await store.finishAction({ ...end, id: 'act_w1' }, 'web-1');
        await store.finishAction({ ...end, id: 'act_job', state: 'cancelled', exitCode: null }, null);
        // web-1 is free; web-2, held by an action whose end is not written, is not.
        expect(await store.lockTarget('web-1', 'tsk_b', 'act_b1')).toEqual({ ok: true });
        expect(await store.lockTarget('web-2', 'tsk_b', 'act_b2')).toEqual({ ok: false, holder: t });
        const byId = new Map((await store.actionsOf([t])).map((a) => [a.id, a]));
        expect(byId.get('act_w1')).toMatchObject({ ...end, waitingOn: null });
        expect(byId.get('act_job')).toMatchObject({ state: 'cancelled', exitCode: null, waitingOn: null });
        expect(byId.get('act_w2')!.state).toBe('pending');
      });
    });

    describe('events', () => {
      it('appends events and pages through them by id', async () => {
        const a = await deploy(store, { tags: ['a'] });
        const b = await deploy(store, { tags: ['b'] });
        const ta = a.tasks[0]!.id;
        await store.appendEvents([
          { deploymentId: a.deployment.id, taskId: null, type: 'deployment.queued', data: { tasks: 1 } },
          { deploymentId: b.deployment.id, taskId: null, type: 'deployment.queued', data: { tasks: 1 } },
          { deploymentId: a.deployment.id, taskId: ta, type: 'log', data: { line: 'one' }, at: 1234 },
        ]);
        await store.appendEvents([]);
        await store.appendEvents([
          { deploymentId: a.deployment.id, taskId: ta, type: 'task.started', data: { node: 'n1' } },
          { deploymentId: a.deployment.id, taskId: ta, type: 'log', data: { line: 'two', nested: { n: 2 } } },
        ]);
        const all = await store.eventsSince(a.deployment.id, 0, 100);
        expect(all.map((e) => e.type)).toEqual(['deployment.queued', 'log', 'task.started', 'log']);
        expect(all.every((e) => e.deploymentId === a.deployment.id)).toBe(true);
        const idsInOrder = all.map((e) => e.id);
        expect(idsInOrder).toEqual([...idsInOrder].sort((x, y) => x - y));
        expect(all[1]).toMatchObject({ taskId: ta, data: { line: 'one' }, at: 1234 });
        expect(all[3]!.data).toEqual({ line: 'two', nested: { n: 2 } });

        const page1 = await store.eventsSince(a.deployment.id, 0, 2);
        const page2 = await store.eventsSince(a.deployment.id, page1.at(-1)!.id, 2);
        const page3 = await store.eventsSince(a.deployment.id, page2.at(-1)!.id, 2);
        expect([...page1, ...page2].map((e) => e.id)).toEqual(idsInOrder);
        expect(page3).toEqual([]);
        const threes = await store.eventsSince(a.deployment.id, 0, 3);
        expect(threes.map((e) => e.id)).toEqual(idsInOrder.slice(0, 3));
        expect(await store.eventsSince(a.deployment.id, threes.at(-1)!.id, 3)).toEqual([all[3]]);

        const log = await store.taskLog(ta);
        expect(log.map((e) => e.data.line)).toEqual(['one', 'two']);
        expect(await store.taskLog(b.tasks[0]!.id)).toEqual([]);
      });

      it('keeps a batch of any size in order, ids rising', async () => {
        const a = await deploy(store, { tags: ['a'] });
        const ta = a.tasks[0]!.id;
        const lines = Array.from({ length: 37 }, (_, i) => `line ${i}`);
        await store.appendEvents(
          lines.map((line) => ({ deploymentId: a.deployment.id, taskId: ta, type: 'log', data: { line } })),
        );
        const all = await store.eventsSince(a.deployment.id, 0, 100);
        expect(all.map((e) => e.data.line)).toEqual(lines);
        expect(all.every((e, i) => i === 0 || e.id > all[i - 1]!.id)).toBe(true);
      });
    });
  });
}
