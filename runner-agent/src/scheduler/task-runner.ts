// Runs one claimed task: its steps in order, each step's actions over its
// targets at most `window` at a time, under the per-target mutex, with
// retries, timeouts, maxFailures and continueOnError (design rules 3 to 6).
import { join } from 'node:path';
import {
  type ActionSpec,
  expandActions,
  type InterpolationScope,
  interpolate,
  type Plan,
  type Step,
  type Target,
  type Tenant,
} from '../../../src/plan/index.ts';
import { newId } from '../ids.ts';
import type { PackageSpec } from '../packages/cache.ts';
import type {
  ActionEnd,
  DeploymentRow,
  Lease,
  NewAction,
  Store,
  TargetHandoff,
  TaskRow,
  TaskState,
} from '../store/types.ts';
import type { WorkerRegistry } from '../worker/registry.ts';
import type { AcquireReport, ActionResult, Worker } from '../worker/types.ts';
import type { EventLog } from './event-log.ts';
import { type Mask, makeMask } from './mask.ts';
import type { Handoff, TargetHolds } from './target-holds.ts';
import type { Wakeups } from './wakeups.ts';

export interface TaskRunnerDeps {
  store: Store;
  events: EventLog;
  /** Where actions run: the worker hosting each target, or a worker of the step's pool. */
  workers: WorkerRegistry;
  lease: Lease;
  retryBackoffMs: number;
  /** Target locks released on this node: wake-ups for actions waiting for another node's lock. */
  targetReleases: Wakeups;
  /** Targets held by this node's tasks, and the actions here waiting for them, in order. */
  targets: TargetHolds;
  /** Hook for measurements: called when an action's process is about to start. */
  onActionStart?: (taskId: string) => void;
  onActionEnd?: (state: string, seconds: number) => void;
  /** Every package acquisition, for metrics: a report, or the package's name and why it failed. */
  onPackage?: (r: AcquireReport | { package: string; worker: string; error: string }) => void;
}

export interface TaskOutcome {
  state: TaskState;
  message: string | null;
}

interface RunningAction {
  row: NewAction;
  spec: ActionSpec;
  /** The last write of the action's start: its end is written after it. */
  started?: Promise<void>;
}

export function secretValuesOf(deployment: DeploymentRow): string[] {
  const { plan } = deployment;
  const values = Object.values(deployment.secrets);
  for (const name of plan.secrets) {
    const v = plan.variables[name];
    if (v) values.push(v);
    for (const t of plan.tenants ?? []) {
      const tv = t.variables[name];
      if (tv) values.push(tv);
    }
  }
  return values;
}

/**
 * What every task of a deployment shares, built once per deployment (the
 * coordinator hands its tasks one row object): a plan of thousands of tenants
 * would otherwise be searched and its secrets collected again for each task.
 */
const shared = new WeakMap<DeploymentRow, { tenants: Map<string, Tenant>; mask: Mask }>();

function sharedOf(deployment: DeploymentRow) {
  let s = shared.get(deployment);
  if (!s) {
    s = {
      tenants: new Map((deployment.plan.tenants ?? []).map((t) => [t.name, t])),
      mask: makeMask(secretValuesOf(deployment)),
    };
    shared.set(deployment, s);
  }
  return s;
}

export class TaskRunner {
  private readonly deps: TaskRunnerDeps;
  private readonly task: TaskRow;
  private readonly deployment: DeploymentRow;
  private readonly plan: Plan;
  private readonly tenant: Tenant | undefined;
  private readonly mask: Mask;
  readonly abort = new AbortController();
  readonly deploymentId: string;
  private actionStarted = false;
  /** The first action's start, which fences the task: no other action starts before it is written. */
  private fenced: Promise<void> = Promise.resolve();
  /** Packages acquired for this task (or why not), by package name. */
  private readonly acquired = new Map<string, string | null>();
  /** Workers that acquired packages for this task, to release them when it ends. */
  private readonly usedWorkers = new Set<Worker>();
  private steps: RunningAction[][] = [];
  /**
   * The task's action rows until a write takes them: usually the first
   * action's start, so a task's actions cost no write of their own.
   */
  private unsaved: NewAction[] = [];
  /** The write that took the rows. */
  private saved: Promise<void> = Promise.resolve();
  /** Actions of the running step that have not ended. */
  private unfinishedInStep = 0;
  /** Action ends written with the task's end (finishTask), not on their own. */
  readonly endsWithTask: ActionEnd[] = [];
  /** Targets whose locks the task's end releases. */
  private readonly releasedWithTask: string[] = [];
  /** Target locks the task's end passes to actions waiting for them. */
  readonly handoffsWithTask: TargetHandoff[] = [];
  /** Those actions, let go on once the task's end is written. */
  private readonly passedWithTask: (() => void)[] = [];
  /** Action starts and ends not yet written (see afterWrite), and the first that failed. */
  private unwaitedWrites: Promise<void>[] = [];
  private unwaitedWriteError: unknown;

  constructor(deps: TaskRunnerDeps, task: TaskRow, deployment: DeploymentRow) {
    this.deps = deps;
    this.task = task;
    this.deployment = deployment;
    this.plan = deployment.plan;
    const { tenants, mask } = sharedOf(deployment);
    this.tenant = task.tenant === null ? undefined : tenants.get(task.tenant);
    this.deploymentId = deployment.id;
    this.mask = mask;
  }

  private event(type: string, data: Record<string, unknown>): void {
    this.deps.events.emit({ deploymentId: this.deployment.id, taskId: this.task.id, type, data });
  }

  private log(line: string, extra: Record<string, unknown> = {}): void {
    this.event('log', { line: this.mask(line), ...extra });
  }

  async run(): Promise<TaskOutcome> {
    const expanded = expandActions(this.plan, this.task.tenant, this.deps.workers.targets());
    if (!expanded.ok) {
      const message = expanded.issues.map((i) => `${i.path}: ${i.message}`).join('; ');
      this.log(`task cannot run: ${message}`);
      return { state: 'failed', message };
    }
    const steps: RunningAction[][] = expanded.value.map((specs, stepIndex) =>
      specs.map((spec) => ({
        spec,
        row: {
          id: newId('act'),
          taskId: this.task.id,
          stepIndex,
          step: spec.step.name,
          target: spec.target?.name ?? null,
          worker: null,
          state: 'pending' as const,
          attempt: 0,
        },
      })),
    );
    this.steps = steps;
    this.unsaved = steps.flat().map((a) => a.row);
    let outcome: TaskOutcome;
    try {
      outcome = await this.runSteps(steps);
    } finally {
      for (const w of this.usedWorkers) w.releasePackages(this.task.id);
      await this.saveActions();
      await Promise.all(this.unwaitedWrites);
    }
    if (this.unwaitedWriteError !== undefined) throw this.unwaitedWriteError;
    return outcome;
  }

  /** Called once the task's end is written (or its lease lost): its last target locks are free. */
  endWritten(): void {
    for (const passed of this.passedWithTask) passed();
    for (const t of this.releasedWithTask) {
      // Its row is gone: whoever waits here takes it from the store.
      this.deps.targets.release(t, this.task.id);
      this.deps.targetReleases.notify(t);
    }
  }

  /**
   * Runs a write about the task's actions once their rows are in the store.
   * The first such write takes the rows along (`insert`); the ones after it
   * wait for it, since actions of one step start side by side.
   */
  private async actionWrite(write: (insert: NewAction[]) => Promise<void>): Promise<void> {
    if (this.unsaved.length === 0) {
      await this.saved;
      return write([]);
    }
    const rows = this.unsaved;
    this.unsaved = [];
    this.saved = write(rows);
    return this.saved;
  }

  /** Writes the task's action rows, unless a write took them already. */
  private saveActions(): Promise<void> {
    return this.actionWrite(async (rows) => {
      if (rows.length > 0) await this.deps.store.insertActions(rows);
    });
  }

  private async runSteps(steps: RunningAction[][]): Promise<TaskOutcome> {
    let failedStep: string | null = null;
    for (const [i, actions] of steps.entries()) {
      const step = this.plan.steps[i]!;
      if (this.abort.signal.aborted) {
        await this.settle(actions, 'cancelled', 'the task was cancelled');
        continue;
      }
      if (failedStep) {
        await this.settle(actions, 'skipped', `skipped: step ${failedStep} failed`);
        continue;
      }
      const acquireError = step.kind === 'deploy' ? await this.acquireFrom(i, step.package) : null;
      if (acquireError) await this.settle(actions, 'failed', acquireError);
      const ok = acquireError === null && (await this.runStep(step, actions));
      if (!ok && !step.continueOnError) failedStep = step.name;
    }
    if (this.abort.signal.aborted) return { state: 'cancelled', message: 'cancelled' };
    return failedStep
      ? { state: 'failed', message: `step ${failedStep} failed` }
      : { state: 'succeeded', message: null };
  }

  private async settle(
    actions: RunningAction[],
    state: 'skipped' | 'cancelled' | 'failed',
    message: string,
  ): Promise<void> {
    await this.saveActions();
    for (const a of actions) {
      if (a.row.state !== 'pending') continue;
      a.row.state = state;
      await this.deps.store.updateAction(a.row.id, {
        state,
        message,
        finishedAt: Date.now(),
        waitingOn: null,
      });
      this.event(`action.${state}`, { actionId: a.row.id, step: a.row.step, target: a.row.target, message });
    }
  }

  /** Runs a step's actions at most `window` at once; false when the step failed. */
  private async runStep(step: Step, actions: RunningAction[]): Promise<boolean> {
    const allowed =
      'count' in step.maxFailures
        ? step.maxFailures.count
        : Math.floor((step.maxFailures.percent / 100) * actions.length);
    const window = step.on === 'worker' ? 1 : step.window;
    this.unfinishedInStep = actions.length;
    let failures = 0;
    const running = new Set<Promise<void>>();
    const remaining = actions.slice();
    const mutex = step.on === 'targets' && !this.plan.concurrency.bypassTargetMutex;
    // The next action prefers a target no task holds now, so that an action
    // waiting for a busy target does not leave free targets idle.
    const takeNext = (): RunningAction => {
      const free = mutex
        ? remaining.findIndex((a) => this.deps.targets.holder(a.spec.target!.name) === undefined)
        : 0;
      return remaining.splice(Math.max(free, 0), 1)[0]!;
    };
    // Actions beyond the window wait, and say why (once each), all in one
    // go: written side by side, they reach the store with the first starts.
    const announced = new Set<RunningAction>();
    const waitingForWindow = () =>
      Promise.all(
        remaining
          .filter((a) => !announced.has(a))
          .map((a) => {
            announced.add(a);
            return this.setWaiting(
              a,
              `window: step ${step.name} runs ${window} of ${window} actions at once`,
            );
          }),
      );
    // An action that throws (a write the store refused) fails the step once
    // the others have ended: none is left running unwatched.
    let thrown: { err: unknown } | undefined;
    while (remaining.length > 0 && !this.abort.signal.aborted && failures <= allowed && !thrown) {
      if (running.size >= window) {
        await waitingForWindow();
        // An action may have ended meanwhile (its end is not waited for): a
        // race over an empty set would never settle.
        if (running.size >= window) await Promise.race(running);
        continue;
      }
      const p = this.runAction(step, takeNext()).then(
        (ok) => {
          if (!ok) failures++;
          running.delete(p);
        },
        (err: unknown) => {
          thrown ??= { err };
          running.delete(p);
        },
      );
      running.add(p);
    }
    await Promise.all(running);
    if (thrown) throw thrown.err;
    if (this.abort.signal.aborted) {
      await this.settle(actions, 'cancelled', 'the task was cancelled');
      return false;
    }
    if (failures > allowed) {
      await this.settle(
        actions,
        'skipped',
        `skipped: step ${step.name} failed past maxFailures (${failures} failed, ${allowed} allowed)`,
      );
      return false;
    }
    return true;
  }

  /**
   * Before the first step that uses a package: acquires the packages of this
   * and every later deploy step not acquired yet, at most acquireParallelism
   * at once (design rule 4). Resolves with why `name` could not be acquired,
   * or null.
   */
  private async acquireFrom(stepIndex: number, name: string): Promise<string | null> {
    if (!this.acquired.has(name)) {
      const wanted = new Set<string>();
      for (const s of this.plan.steps.slice(stepIndex))
        if (s.kind === 'deploy' && !this.acquired.has(s.package)) wanted.add(s.package);
      const queue = [...wanted];
      const lane = async () => {
        for (let next = queue.shift(); next && !this.abort.signal.aborted; next = queue.shift()) {
          this.acquired.set(next, await this.acquireOne(next));
        }
      };
      await Promise.all(
        Array.from({ length: Math.min(this.plan.concurrency.acquireParallelism, queue.length) }, lane),
      );
    }
    // A cancelled task's step settles its actions as cancelled, not failed.
    if (this.abort.signal.aborted) return null;
    return this.acquired.get(name) ?? null;
  }

  /**
   * Acquires a package on every online worker hosting a target of a step that
   * deploys it; a worker offline now acquires it in the deploy action itself.
   */
  private async acquireOne(name: string): Promise<string | null> {
    const targets = this.steps.flatMap((actions, i) => {
      const step = this.plan.steps[i]!;
      return step.kind === 'deploy' && step.package === name
        ? actions.flatMap((a) => (a.spec.target ? [a.spec.target.name] : []))
        : [];
    });
    const errors = await Promise.all(this.deps.workers.hostsOf(targets).map((w) => this.acquireOn(w, name)));
    return errors.find((e) => e !== null) ?? null;
  }

  private async acquireOn(worker: Worker, name: string): Promise<string | null> {
    try {
      const spec = this.packageSpec(name);
      this.usedWorkers.add(worker);
      const r = await worker.acquire(spec, this.task.id, this.abort.signal, (line) =>
        this.log(line, { package: name }),
      );
      const what = { hit: 'cache hit', miss: 'downloaded', joined: 'downloaded by another task' }[r.cache];
      this.log(
        `package ${name} (sha256 ${r.sha256.slice(0, 12)}…): ${what}, ${r.bytes} bytes in ${r.seconds.toFixed(3)} s on worker ${r.worker}`,
        { package: name },
      );
      this.event('package.acquired', {
        package: name,
        sha256: r.sha256,
        bytes: r.bytes,
        seconds: r.seconds,
        cache: r.cache,
        cacheHit: r.cache !== 'miss',
        worker: r.worker,
      });
      this.deps.onPackage?.(r);
      return null;
    } catch (err) {
      const message = `package ${name} could not be acquired: ${this.mask((err as Error).message)}`;
      this.log(message, { package: name });
      this.event('package.failed', { package: name, worker: worker.name, message });
      this.deps.onPackage?.({ package: name, worker: worker.name, error: message });
      return message;
    }
  }

  private packageSpec(name: string): PackageSpec {
    const p = this.plan.packages[name]!;
    if (p.source === 'upload') {
      if (!p.sha256)
        throw new Error(`upload package ${name} has no sha256; submit it with flotilla deploy or the action`);
      return { name, source: 'upload', sha256: p.sha256, allowSymlinks: p.allowSymlinks };
    }
    const scope: InterpolationScope = {
      project: this.deployment.project,
      environment: this.deployment.environment,
      release: this.deployment.release,
      variables: { ...this.plan.variables, ...this.tenant?.variables },
    };
    if (this.tenant) scope.tenant = this.tenant;
    return {
      name,
      source: 'url',
      url: interpolate(p.url, scope),
      sha256: p.sha256,
      allowSymlinks: p.allowSymlinks,
    };
  }

  private async setWaiting(a: RunningAction, reason: string | null): Promise<void> {
    await this.saveActions();
    await this.deps.store.updateAction(a.row.id, { waitingOn: reason });
    if (reason)
      this.event('action.waiting', {
        actionId: a.row.id,
        step: a.row.step,
        target: a.row.target,
        waitingOn: reason,
      });
  }

  private async runAction(step: Step, a: RunningAction): Promise<boolean> {
    const { store } = this.deps;
    const target = a.spec.target ?? null;
    const mutex = target !== null && !this.plan.concurrency.bypassTargetMutex;
    if (mutex && !(await this.lockTarget(target, a))) {
      await this.settle([a], 'cancelled', 'the task was cancelled');
      return false;
    }
    // The action's final state and the release of its target are written together.
    let finished: Promise<void> | undefined;
    let withTask = false;
    // The action waiting here for the target that gets it when this one ends.
    let next = undefined as Handoff | undefined;
    const handOver = () => {
      next = mutex ? (this.deps.targets.handOver(target.name, this.task.id) ?? undefined) : undefined;
      return next;
    };
    // A release the store refused goes with the task's end, which is written until the store takes it.
    const releaseWithTask = () => {
      if (next) {
        this.handoffsWithTask.push({ target: target!.name, taskId: next.taskId, actionId: next.actionId });
        this.passedWithTask.push(next.passed);
      } else if (mutex) this.releasedWithTask.push(target.name);
    };
    try {
      let result: ActionResult = { ok: false, cancelled: false, exitCode: null, message: '' };
      const firstStart = Date.now();
      for (let attempt = 1; attempt <= step.retries + 1; attempt++) {
        // Chosen per attempt: a retry after `worker lost` goes to a live worker.
        const placed = await this.placeAction(a);
        if (!placed) {
          result = { ...result, cancelled: true, message: 'cancelled' };
          break;
        }
        try {
          result = await this.attempt(step, a, placed.worker, attempt);
        } finally {
          placed.done();
        }
        if (result.ok || result.cancelled || attempt > step.retries) break;
        const delay = Math.min(this.deps.retryBackoffMs * 2 ** (attempt - 1), 60_000);
        this.event('action.retrying', {
          actionId: a.row.id,
          step: step.name,
          target: target?.name ?? null,
          attempt,
          message: this.mask(result.message),
          delayMs: delay,
        });
        await sleep(delay, this.abort.signal);
        if (this.abort.signal.aborted) {
          result = { ...result, cancelled: true, message: 'cancelled' };
          break;
        }
      }
      const state = result.ok ? 'succeeded' : result.cancelled ? 'cancelled' : 'failed';
      a.row.state = state;
      this.deps.onActionEnd?.(state, (Date.now() - firstStart) / 1000);
      const message = this.mask(result.message);
      const end: ActionEnd = {
        id: a.row.id,
        state,
        finishedAt: Date.now(),
        exitCode: result.exitCode,
        message,
      };
      // The task's last action ends with the task, in its write, which also
      // releases the task's target locks (see endWritten).
      withTask = --this.unfinishedInStep === 0 && a.row.stepIndex === this.steps.length - 1;
      const passTo = handOver();
      if (withTask) {
        this.endsWithTask.push(end);
        releaseWithTask();
      } else {
        // After the start: PostgreSQL runs writes side by side, and a start
        // written last would say the action still runs.
        finished = afterStart(a, () => store.finishAction(end, mutex ? target.name : null, passTo)).catch(
          (err: unknown) => {
            // Not lost: the task's end, which is written until the store takes it, writes it again.
            this.endsWithTask.push(end);
            releaseWithTask();
            throw err;
          },
        );
      }
      this.event(`action.${state}`, {
        actionId: a.row.id,
        step: step.name,
        target: target?.name ?? null,
        message,
      });
      return result.ok;
    } finally {
      if (mutex && !withTask) {
        // An action that ended by an error has no end written to release it.
        const released =
          finished ??
          store.unlockTarget(target.name, a.row.id, handOver()).catch((err: unknown) => {
            releaseWithTask();
            throw err;
          });
        const handed = next;
        // Free here at once when no one waits (a lock asked for before its row
        // is gone is refused, and asked again once it is); else passed on once
        // the row is the next action's.
        if (!handed) this.deps.targets.release(target.name, this.task.id);
        this.afterWrite(
          released.then(() => (handed ? handed.passed() : this.deps.targetReleases.notify(target.name))),
        );
      } else if (finished) this.afterWrite(finished);
    }
  }

  /**
   * The next action need not wait for an action's end to be written. The
   * embedded store writes in the order writes are made, so the next action's
   * writes commit with the end or after it; PostgreSQL runs them side by side,
   * a round trip saved, and a crash between the two leaves both actions
   * running, which recovery cancels alike. Only the task's end waits for them
   * all (see run); so does a target's release: an action of another node
   * waiting for it is told once it is written, and one here that gets it
   * handed over goes on once the row is its own (see TargetHolds). Starts
   * after the first are not waited for either (see attempt).
   */
  private afterWrite(written: Promise<void>): void {
    this.unwaitedWrites.push(
      written.catch((err: unknown) => {
        this.unwaitedWriteError ??= err;
      }),
    );
  }

  /**
   * Waits for a worker: the one hosting the target (online and under its
   * action cap), or the least busy online worker of the step's pool. Null
   * when the task was cancelled meanwhile.
   */
  private async placeAction(a: RunningAction) {
    const { workers } = this.deps;
    const where = a.spec.target ? { target: a.spec.target.name } : { pool: a.spec.pool ?? 'default' };
    let said: string | null = null;
    while (!this.abort.signal.aborted) {
      const seen = workers.seen;
      const p = workers.place(where);
      // The action's start, which follows, clears what it waited on.
      if ('worker' in p) return p;
      if (p.waitingOn !== said) {
        said = p.waitingOn;
        await this.setWaiting(a, said);
      }
      await workers.changes(seen, 1000, this.abort.signal);
    }
    return null;
  }

  /** One attempt of an action on `worker`. */
  private async attempt(
    step: Step,
    a: RunningAction,
    worker: Worker,
    attempt: number,
  ): Promise<ActionResult> {
    const target = a.spec.target ?? null;
    a.row.state = 'running';
    // From the first action on, a crash of this node interrupts the task
    // instead of requeueing it: the first start also fences the task.
    const fence = this.actionStarted ? null : this.deps.lease;
    this.actionStarted = true;
    const start = { id: a.row.id, taskId: this.task.id, attempt, worker: worker.name, startedAt: Date.now() };
    // Only the fencing start must be written before a script runs (design
    // rule 8 turns on it); a later start is a record, written while the
    // script starts: the action does not wait a turn of the loop for the
    // commit. The task's end waits for it (see afterWrite).
    if (!fence) await this.fenced;
    a.started = afterStart(a, () =>
      this.actionWrite((rows) => this.deps.store.startAction(start, fence, rows)),
    );
    if (fence) {
      this.fenced = a.started;
      await a.started;
    } else this.afterWrite(a.started);
    this.event('action.started', {
      actionId: a.row.id,
      step: step.name,
      target: target?.name ?? null,
      worker: worker.name,
      attempt,
    });
    this.deps.onActionStart?.(this.task.id);
    return worker.execute(
      {
        actionId: a.row.id,
        kind: step.kind,
        script:
          step.kind === 'run' && 'inline' in step.script
            ? interpolate(step.script.inline, this.scope(step, target))
            : '',
        env: this.env(step, target, attempt, worker),
        timeoutMs: step.timeoutMs,
        target,
        ...(target ? { cwd: this.projectDir(target) } : {}),
        ...(step.kind === 'deploy'
          ? {
              deploy: {
                package: this.packageSpec(step.package),
                release: this.deployment.release,
                keepReleases: step.keepReleases,
              },
            }
          : {}),
      },
      this.abort.signal,
      (stream, line) =>
        this.log(line, { stream, actionId: a.row.id, step: step.name, target: target?.name ?? null }),
    );
  }

  /**
   * Waits for the target's mutex; false when the task was cancelled
   * meanwhile. Behind a task of this node it waits in line, and the target
   * is handed to it (see TargetHolds); a target no task here holds is asked
   * of the store, and one another node holds is asked again when it may
   * have been released.
   */
  private async lockTarget(target: Target, a: RunningAction): Promise<boolean> {
    const { targets, targetReleases, store } = this.deps;
    let reason: string | null = null;
    const waitingFor = async (holder: string) => {
      const now = `target ${target.name} busy with task ${holder} (mutex)`;
      if (now === reason) return;
      reason = now;
      await this.setWaiting(a, now);
    };
    while (!this.abort.signal.aborted) {
      const heldHere = targets.holder(target.name);
      if (heldHere !== undefined) {
        await waitingFor(heldHere);
        // Released or passed on while the reason was written: look again.
        if (targets.holder(target.name) !== heldHere) continue;
        // Each new holder is said while the action stays in line; its start
        // waits for what was said, so the start (or its end, if the task is
        // cancelled first) is what clears it.
        let said: Promise<void> = Promise.resolve();
        const turn = await targets.waitTurn(target.name, this.task.id, a.row.id, this.abort.signal, (h) => {
          said = said.then(() => waitingFor(h));
          this.afterWrite(said);
        });
        await said.catch(() => {});
        if (turn === 'handed') return true;
        continue;
      }
      const seen = targetReleases.seen(target.name);
      // Held here from now on, so that a task choosing meanwhile takes another
      // target, or waits in line behind this one.
      targets.hold(target.name, this.task.id);
      let lock: Awaited<ReturnType<Store['lockTarget']>>;
      try {
        lock = await store.lockTarget(target.name, this.task.id, a.row.id);
      } catch (err) {
        targets.release(target.name, this.task.id);
        throw err;
      }
      if (lock.ok) return true;
      targets.release(target.name, this.task.id);
      await waitingFor(lock.holder);
      await targetReleases.after(seen, 1000, this.abort.signal, target.name);
    }
    return false;
  }

  /** <root>/<tenant|_>/<project>: tenants sharing a target never share files. */
  private projectDir(target: Target): string {
    return join(target.root, this.task.tenant ?? '_', this.deployment.project);
  }

  private scope(step: Step, target: Target | null): InterpolationScope {
    const tenant = this.tenant;
    const scope: InterpolationScope = {
      project: this.deployment.project,
      environment: this.deployment.environment,
      release: this.deployment.release,
      variables: { ...this.plan.variables, ...tenant?.variables, ...step.variables },
    };
    if (tenant) scope.tenant = tenant;
    if (target) scope.target = { name: target.name, host: target.host };
    return scope;
  }

  private env(step: Step, target: Target | null, attempt: number, worker: Worker): Record<string, string> {
    const tenant = this.tenant;
    const env: Record<string, string> = {
      ...this.plan.variables,
      ...tenant?.variables,
      ...step.variables,
      ...this.deployment.secrets,
      FLOTILLA_DEPLOYMENT_ID: this.deployment.id,
      FLOTILLA_TASK_ID: this.task.id,
      FLOTILLA_TENANT: this.task.tenant ?? '',
      FLOTILLA_PROJECT: this.deployment.project,
      FLOTILLA_ENVIRONMENT: this.deployment.environment,
      FLOTILLA_RELEASE: this.deployment.release,
      FLOTILLA_STEP: step.name,
      FLOTILLA_TARGET: target?.name ?? '',
      FLOTILLA_WORKER: worker.name,
      FLOTILLA_NODE: this.deps.lease.node,
      FLOTILLA_ATTEMPT: String(attempt),
    };
    if (target) {
      env.FLOTILLA_INSTALL_DIR = join(
        target.root,
        this.task.tenant ?? '_',
        this.deployment.project,
        this.deployment.release,
      );
    }
    return env;
  }
}

/** Runs `write` once the action's last start write has settled, however it went: one action's writes go in order. */
function afterStart(a: RunningAction, write: () => Promise<void>): Promise<void> {
  return (a.started ?? Promise.resolve()).catch(() => {}).then(write);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
