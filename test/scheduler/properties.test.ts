// Properties of the scheduler: a real Coordinator on a real SqliteStore in a
// temp dir, fed random deployments, task cap changes and action completion
// orders chosen by fast-check. Invariants are checked three ways:
// - at every claim, against a reference model of the claim rule computed from
//   the store's queue just before the claim (priority, tag order, no
//   head-of-line blocking, maxRunningTasks, task cap);
// - whenever the system has settled, for liveness (a task that could start has
//   started; no action waits for a free target);
// - at the end, over the ordered log of task and action starts and ends (cap,
//   one task per tag, tag order, target mutex, window, step order, everything
//   succeeded).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Coordinator } from '../../runner-agent/src/scheduler/coordinator.ts';
import { SqliteStore } from '../../runner-agent/src/store/sqlite.ts';
import type { Lease, Store, TaskRow } from '../../runner-agent/src/store/types.ts';
import type {
  AcquireReport,
  ActionRequest,
  ActionResult,
  Worker,
} from '../../runner-agent/src/worker/types.ts';
import type { Plan, Target } from '../../src/plan/index.ts';

// ---- the worker ---------------------------------------------------------

interface Executing {
  actionId: string;
  taskId: string;
  step: string;
  target: string | null;
  release: () => void;
}

type LogEntry =
  | { t: 'cap'; cap: number }
  | { t: 'taskStart'; taskId: string }
  | { t: 'taskEnd'; taskId: string }
  | { t: 'actionStart'; actionId: string; taskId: string; step: string; target: string | null }
  | { t: 'actionEnd'; actionId: string; taskId: string; step: string; target: string | null };

/**
 * A Worker that stands in for bash so that the test controls completion
 * order: each action runs until the test releases it. It is a local peer
 * implementing the Worker interface (what remote workers also implement), not
 * a mocked module; the coordinator, task runners and store are the real ones.
 */
class ReleasableWorker implements Worker {
  readonly name = 'test-worker';
  readonly pools = ['default'];
  readonly targets: Target[];
  runningActions = 0;
  readonly executing: Executing[] = [];
  private readonly log: LogEntry[];

  constructor(targets: Target[], log: LogEntry[]) {
    this.targets = targets;
    this.log = log;
  }

  execute(request: ActionRequest, signal: AbortSignal): Promise<ActionResult> {
    const base = {
      actionId: request.actionId,
      taskId: request.env.FLOTILLA_TASK_ID!,
      step: request.env.FLOTILLA_STEP!,
      target: request.target?.name ?? null,
    };
    this.log.push({ t: 'actionStart', ...base });
    this.runningActions++;
    return new Promise((resolve) => {
      const finish = (result: ActionResult) => {
        const i = this.executing.indexOf(entry);
        if (i < 0) return;
        this.executing.splice(i, 1);
        this.runningActions--;
        this.log.push({ t: 'actionEnd', ...base });
        resolve(result);
      };
      const entry: Executing = {
        ...base,
        release: () => finish({ ok: true, cancelled: false, exitCode: 0, message: 'exit 0' }),
      };
      this.executing.push(entry);
      signal.addEventListener(
        'abort',
        () => finish({ ok: false, cancelled: true, exitCode: null, message: 'cancelled' }),
        { once: true },
      );
    });
  }

  acquire(): Promise<AcquireReport> {
    return Promise.reject(new Error('these plans deploy no packages'));
  }

  releasePackages(): void {}
}

// ---- random inputs ------------------------------------------------------

const TAG_TEMPLATES = [
  '#{tenant.tags.group}',
  '#{tenant}',
  '#{tenant.tags.group}/#{project}',
  '#{tenant}/#{project}/#{environment}',
] as const;

interface SubmitCmd {
  kind: 'submit';
  tenants: number[];
  project: number;
  tagTemplate: number;
  high: boolean;
  bypass: boolean;
  window: number;
  steps: ('targets' | 'worker')[];
  maxRunningTasks: number;
}
type Command =
  | SubmitCmd
  | { kind: 'cap'; cap: number }
  | { kind: 'drain' }
  | { kind: 'resume' }
  | { kind: 'release'; picks: number[] };

interface Scenario {
  tenants: number;
  groups: number[];
  targets: number;
  initialCap: number;
  finalCap: number;
  commands: Command[];
  finalPicks: number[][];
}

const submitCmd: fc.Arbitrary<Command> = fc.record({
  kind: fc.constant('submit' as const),
  tenants: fc.array(fc.nat(11), { minLength: 1, maxLength: 12 }),
  project: fc.nat(1),
  tagTemplate: fc.nat(TAG_TEMPLATES.length - 1),
  high: fc.boolean(),
  bypass: fc.boolean(),
  window: fc.integer({ min: 1, max: 3 }),
  steps: fc.array(fc.constantFrom('targets' as const, 'worker' as const), { minLength: 1, maxLength: 2 }),
  maxRunningTasks: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3 })),
});

const command: fc.Arbitrary<Command> = fc.oneof(
  { arbitrary: submitCmd, weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('cap' as const), cap: fc.nat(4) }), weight: 1 },
  { arbitrary: fc.constant({ kind: 'drain' as const }), weight: 1 },
  { arbitrary: fc.constant({ kind: 'resume' as const }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant('release' as const),
      picks: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
    }),
    weight: 5,
  },
);

const scenario: fc.Arbitrary<Scenario> = fc
  .record({
    tenants: fc.integer({ min: 1, max: 12 }),
    groupCount: fc.integer({ min: 1, max: 4 }),
    groupSeeds: fc.array(fc.nat(), { minLength: 12, maxLength: 12 }),
    targets: fc.integer({ min: 1, max: 3 }),
    initialCap: fc.integer({ min: 1, max: 4 }),
    finalCap: fc.integer({ min: 1, max: 4 }),
    first: submitCmd,
    commands: fc.array(command, { maxLength: 40 }),
    finalPicks: fc.array(fc.array(fc.nat(), { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 20 }),
  })
  .map(({ groupCount, groupSeeds, first, commands, ...rest }) => ({
    ...rest,
    commands: [first, ...commands],
    groups: groupSeeds.map((s) => s % groupCount),
  }));

function planText(cmd: SubmitCmd, s: Scenario, n: number): string {
  const tenants = [...new Set(cmd.tenants.map((i) => i % s.tenants))];
  const lines = [
    'version: 1',
    `project: p${cmd.project}`,
    'environment: prod',
    `release: "r${n}"`,
    'tenants:',
    ...tenants.flatMap((i) => [`  - name: t${i}`, `    tags: { group: g${s.groups[i]} }`]),
    'concurrency:',
    `  tag: "${TAG_TEMPLATES[cmd.tagTemplate]}"`,
    `  bypassTargetMutex: ${cmd.bypass}`,
    `  maxRunningTasks: ${cmd.maxRunningTasks}`,
    `priority: ${cmd.high ? 'high' : 'normal'}`,
    'steps:',
  ];
  cmd.steps.forEach((kind, i) => {
    lines.push(`  - name: s${i}`, `    run: echo s${i}`);
    if (kind === 'worker') lines.push('    on: worker');
    else lines.push('    targets: { roles: [web] }', `    window: ${cmd.window}`);
  });
  return `${lines.join('\n')}\n`;
}

// ---- the claim rule's reference model -----------------------------------

const claimOrder = (a: TaskRow, b: TaskRow) => b.priority - a.priority || a.seq - b.seq;

/**
 * What a claim of `limit` must take, given the queued and the running tasks:
 * in priority then submission order (the design's, not the store's order), the
 * first queued task of each free tag, within each deployment's maxRunningTasks.
 */
function expectedClaim(
  queued: TaskRow[],
  running: TaskRow[],
  limit: number,
  maxRunningOf: (deploymentId: string) => number,
): TaskRow[] {
  const held = new Set(running.map((t) => t.concurrencyTag));
  const perDeployment = new Map<string, number>();
  for (const t of running) perDeployment.set(t.deploymentId, (perDeployment.get(t.deploymentId) ?? 0) + 1);
  const headSeen = new Set<string>();
  const out: TaskRow[] = [];
  for (const t of [...queued].sort(claimOrder)) {
    if (out.length >= limit) break;
    if (held.has(t.concurrencyTag) || headSeen.has(t.concurrencyTag)) continue;
    // The first queued task of a tag is its head; later ones wait behind it.
    headSeen.add(t.concurrencyTag);
    const max = maxRunningOf(t.deploymentId);
    const n = perDeployment.get(t.deploymentId) ?? 0;
    if (max > 0 && n >= max) continue;
    perDeployment.set(t.deploymentId, n + 1);
    out.push(t);
  }
  return out;
}

// ---- one run ------------------------------------------------------------

async function runScenario(s: Scenario): Promise<string[]> {
  const violations: string[] = [];
  const log: LogEntry[] = [];
  const plans = new Map<string, Plan>();
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-sched-'));
  const sqlite = new SqliteStore(dir);
  const model = { cap: s.initialCap, resumeCap: null as number | null };

  // The real store behind a recording decorator (every call goes through to
  // SqliteStore unchanged): deployments' plans are noted, and each claim is
  // checked against the reference model. SqliteStore commits queued writes
  // before a read and runs a claim after them, in order, so the queue read
  // just before the claim (in the same turn) is the one the claim sees.
  let storeCalls = 0;
  const store = new Proxy<Store>(sqlite, {
    get(target, prop) {
      if (prop === 'createDeployment') {
        return async (input: Parameters<Store['createDeployment']>[0]) => {
          const r = await target.createDeployment(input);
          plans.set(r.deployment.id, r.deployment.plan);
          return r;
        };
      }
      if (prop === 'claimTasks') {
        return async (lease: Lease, limit: number) => {
          const queuedP = target.queuedTasks();
          const runningP = target.runningTasks();
          const claimedP = target.claimTasks(lease, limit);
          const [queued, running, claimed] = await Promise.all([queuedP, runningP, claimedP]);
          const want = expectedClaim(
            queued,
            running,
            limit,
            (id) => plans.get(id)?.concurrency.maxRunningTasks ?? 0,
          );
          if (claimed.map((t) => t.id).join() !== want.map((t) => t.id).join()) {
            violations.push(
              `claim of ${limit} took [${claimed.map((t) => `${t.concurrencyTag}#${t.seq}`)}], expected [${want.map((t) => `${t.concurrencyTag}#${t.seq}`)}]`,
            );
          }
          if (running.length + claimed.length > model.cap) {
            violations.push(
              `claimed ${claimed.length} with ${running.length} running under cap ${model.cap}`,
            );
          }
          return claimed;
        };
      }
      const v = Reflect.get(target, prop, target);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        storeCalls++;
        return v.apply(target, args);
      };
    },
  });

  const targets: Target[] = Array.from({ length: s.targets }, (_, i) => ({
    name: `web-${i + 1}`,
    roles: ['web'],
    host: '127.0.0.1',
    root: join(dir, 'targets'),
  }));
  const worker = new ReleasableWorker(targets, log);
  const coordinator = new Coordinator({
    store,
    node: 'node-1',
    taskCap: s.initialCap,
    worker,
    log: pino({ level: 'silent' }),
    leaseTtlMs: 30_000,
    retryBackoffMs: 10,
  });
  coordinator.signals.on('taskStarted', (taskId: string) => log.push({ t: 'taskStart', taskId }));
  coordinator.signals.on('taskFinished', (taskId: string) => log.push({ t: 'taskEnd', taskId }));
  log.push({ t: 'cap', cap: model.cap });

  const settle = async () => {
    // Scheduling moves on promises and the store's group commits (one turn of
    // the event loop each); a few turns without a store call or a worker event
    // mean it has gone as far as it can.
    let last = -1;
    for (let quiet = 0; quiet < 3; ) {
      await new Promise((r) => setImmediate(r));
      const progress = log.length + storeCalls;
      if (progress === last) quiet++;
      else {
        quiet = 0;
        last = progress;
      }
    }
  };

  const checkLiveness = async (when: string) => {
    const [queued, running] = await Promise.all([sqlite.queuedTasks(), sqlite.runningTasks()]);
    if (running.length < model.cap) {
      const could = expectedClaim(
        queued,
        running,
        model.cap - running.length,
        (id) => plans.get(id)?.concurrency.maxRunningTasks ?? 0,
      );
      if (could.length > 0) {
        violations.push(
          `${when}: ${running.length} of cap ${model.cap} running, yet task ${could[0]!.concurrencyTag}#${could[0]!.seq} could start and waits`,
        );
      }
    }
    const actions = await sqlite.actionsOf(running.map((t) => t.id));
    for (const a of actions) {
      const m =
        a.state === 'pending'
          ? /^target (\S+) busy with task (\S+) \(mutex\)$/.exec(a.waitingOn ?? '')
          : null;
      if (!m) continue;
      const [, target, holder] = m;
      const holding = worker.executing.filter(
        (e) => e.target === target && !bypassOf(e.taskId, running) && e.taskId === holder,
      );
      if (holding.length === 0) {
        violations.push(
          `${when}: action ${a.step}/${a.target} of a task waits for ${target}, said held by ${holder}, but ${holder} runs nothing there (executing: ${worker.executing.map((e) => `${e.taskId}:${e.target}`).join(', ') || 'nothing'})`,
        );
      }
    }
  };
  const bypassOf = (taskId: string, running: TaskRow[]) => {
    const t = running.find((r) => r.id === taskId);
    return t ? (plans.get(t.deploymentId)?.concurrency.bypassTargetMutex ?? false) : false;
  };

  const release = (picks: number[]) => {
    const chosen: Executing[] = [];
    for (const p of picks) {
      const left = worker.executing.filter((e) => !chosen.includes(e));
      if (left.length === 0) break;
      chosen.push(left[p % left.length]!);
    }
    // Released together: their completions interleave on the event loop.
    for (const e of chosen) e.release();
  };

  const setCap = async (cap: number) => {
    if (cap === 0 && model.cap > 0) model.resumeCap = model.cap;
    if (cap > 0) model.resumeCap = null;
    model.cap = cap;
    log.push({ t: 'cap', cap });
    await coordinator.setCap('node-1', cap);
  };

  const deploymentIds: string[] = [];
  try {
    await coordinator.start();
    let n = 0;
    for (const cmd of s.commands) {
      switch (cmd.kind) {
        case 'submit': {
          const r = await coordinator.submit({ plan: planText(cmd, s, n++) }, 'http://test');
          deploymentIds.push(r.deployment.id);
          break;
        }
        case 'cap':
          await setCap(cmd.cap);
          break;
        case 'drain':
          if (model.cap > 0) model.resumeCap = model.cap;
          model.cap = 0;
          log.push({ t: 'cap', cap: 0 });
          await coordinator.drain('node-1');
          break;
        case 'resume':
          if (model.cap === 0) {
            model.cap = model.resumeCap ?? s.initialCap;
            model.resumeCap = null;
            log.push({ t: 'cap', cap: model.cap });
          }
          await coordinator.resume('node-1');
          break;
        case 'release':
          release(cmd.picks);
          break;
      }
      await settle();
      if (coordinator.taskCap !== model.cap) {
        violations.push(`after ${cmd.kind}: the node's cap is ${coordinator.taskCap}, expected ${model.cap}`);
      }
      await checkLiveness(`after ${cmd.kind}`);
    }

    // Open the node again and let everything finish, in an order fast-check picks.
    if (model.cap === 0) await setCap(s.finalCap);
    await settle();
    for (let i = 0; ; i++) {
      await checkLiveness('finishing');
      if (violations.length > 0) break;
      if (worker.executing.length === 0) break;
      release(s.finalPicks[i % s.finalPicks.length]!);
      await settle();
    }

    // ---- what happened ----
    const tasks = new Map<string, TaskRow>();
    for (const id of deploymentIds) for (const t of await sqlite.tasksOf(id)) tasks.set(t.id, t);
    const planOfTask = (id: string) => plans.get(tasks.get(id)!.deploymentId)!;
    for (const t of tasks.values()) {
      if (t.state !== 'succeeded') violations.push(`task ${t.concurrencyTag}#${t.seq} ended ${t.state}`);
    }
    for (const id of deploymentIds) {
      const d = (await sqlite.getDeployment(id))!;
      if (d.state !== 'succeeded') violations.push(`deployment ${id} ended ${d.state}`);
    }
    violations.push(...checkLog(log, tasks, planOfTask, s.targets));
  } finally {
    // After a violation tasks may still run: cancel them (the worker ends
    // cancelled actions at once) so that stop() returns.
    for (const id of deploymentIds) await coordinator.cancel(id).catch(() => {});
    for (const e of worker.executing.slice()) e.release();
    const stopped = await Promise.race([
      coordinator.stop().then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), 5000).unref()),
    ]);
    if (!stopped) violations.push('the coordinator did not stop: a task never ended');
    await sqlite.close();
    await rm(dir, { recursive: true, force: true });
  }
  return violations;
}

/** The invariants over the ordered log of starts and ends. */
function checkLog(
  log: LogEntry[],
  tasks: Map<string, TaskRow>,
  planOfTask: (taskId: string) => Plan,
  targetCount: number,
): string[] {
  const out: string[] = [];
  const label = (id: string) => {
    const t = tasks.get(id);
    return t ? `${t.concurrencyTag}#${t.seq}` : id;
  };
  let cap = 0;
  const runningTasks = new Set<string>();
  const runningActions = new Map<string, Extract<LogEntry, { t: 'actionStart' }>>();
  const startOrder: string[] = [];
  const actionsPerTask = new Map<string, number>();
  const lastStepStarted = new Map<string, number>();

  for (const e of log) {
    switch (e.t) {
      case 'cap':
        cap = e.cap;
        break;
      case 'taskStart': {
        const task = tasks.get(e.taskId)!;
        for (const other of runningTasks) {
          if (tasks.get(other)!.concurrencyTag === task.concurrencyTag) {
            out.push(`${label(e.taskId)} started while ${label(other)} of the same tag ran`);
          }
        }
        runningTasks.add(e.taskId);
        if (runningTasks.size > cap)
          out.push(`${label(e.taskId)} started as task ${runningTasks.size} under cap ${cap}`);
        startOrder.push(e.taskId);
        break;
      }
      case 'taskEnd':
        runningTasks.delete(e.taskId);
        break;
      case 'actionStart': {
        if (!runningTasks.has(e.taskId)) out.push(`an action of ${label(e.taskId)} ran outside its task`);
        const plan = planOfTask(e.taskId);
        const stepIndex = plan.steps.findIndex((st) => st.name === e.step);
        const step = plan.steps[stepIndex]!;
        const mine = [...runningActions.values()].filter((a) => a.taskId === e.taskId);
        if (mine.some((a) => a.step !== e.step)) {
          out.push(`${label(e.taskId)} ran step ${e.step} while another of its steps ran`);
        }
        if ((lastStepStarted.get(e.taskId) ?? 0) > stepIndex)
          out.push(`${label(e.taskId)} ran steps out of order`);
        lastStepStarted.set(e.taskId, stepIndex);
        const window = step.on === 'worker' ? 1 : step.window;
        if (mine.filter((a) => a.step === e.step).length + 1 > window) {
          out.push(`${label(e.taskId)} ran more than window ${window} actions of ${e.step}`);
        }
        if (e.target !== null && !plan.concurrency.bypassTargetMutex) {
          for (const other of runningActions.values()) {
            if (other.target === e.target && !planOfTask(other.taskId).concurrency.bypassTargetMutex) {
              out.push(`${label(e.taskId)} and ${label(other.taskId)} ran on ${e.target} at once (mutex)`);
            }
          }
        }
        runningActions.set(e.actionId, e);
        actionsPerTask.set(e.taskId, (actionsPerTask.get(e.taskId) ?? 0) + 1);
        break;
      }
      case 'actionEnd':
        runningActions.delete(e.actionId);
        break;
    }
  }

  // Tasks of one tag start in submission order within a priority class.
  const byTag = new Map<string, TaskRow[]>();
  for (const id of startOrder) {
    const t = tasks.get(id)!;
    byTag.set(t.concurrencyTag, [...(byTag.get(t.concurrencyTag) ?? []), t]);
  }
  for (const [tag, started] of byTag) {
    for (const priority of [0, 1]) {
      const seqs = started.filter((t) => t.priority === priority).map((t) => t.seq);
      if (seqs.join() !== [...seqs].sort((a, b) => a - b).join()) {
        out.push(`tag ${tag} started priority ${priority} tasks in order ${seqs.join(', ')}`);
      }
    }
  }
  // Every task started once and ran every action once.
  for (const t of [...tasks.values()].sort(claimOrder)) {
    const starts = startOrder.filter((id) => id === t.id).length;
    if (starts !== 1) out.push(`${label(t.id)} started ${starts} times`);
    const plan = planOfTask(t.id);
    const want = plan.steps.reduce((n, st) => n + (st.on === 'worker' ? 1 : targetCount), 0);
    if ((actionsPerTask.get(t.id) ?? 0) !== want) {
      out.push(`${label(t.id)} ran ${actionsPerTask.get(t.id) ?? 0} actions, expected ${want}`);
    }
  }
  return out;
}

describe('scheduler properties (real Coordinator, SqliteStore, releasable worker)', () => {
  it('holds cap, tags, order, mutex and window, and finishes every task, whatever the order of events', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const violations = await runScenario(s);
        expect(violations).toEqual([]);
      }),
      { numRuns: 50, interruptAfterTimeLimit: 50_000, markInterruptAsFailure: false },
    );
  }, 120_000);
});
