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
import type { DeploymentRow, Lease, NewAction, Store, TaskRow, TaskState } from '../store/types.ts';
import type { Worker } from '../worker/types.ts';
import type { EventLog } from './event-log.ts';
import { type Mask, makeMask } from './mask.ts';
import type { TargetReleases } from './target-releases.ts';

export interface TaskRunnerDeps {
  store: Store;
  events: EventLog;
  worker: Worker;
  lease: Lease;
  retryBackoffMs: number;
  /** Target locks released on this node: wake-ups for actions waiting on a mutex. */
  targetReleases: TargetReleases;
  /** Targets held by this node's tasks right now (a hint for choosing actions; the store holds the mutex). */
  heldTargets: Set<string>;
  /** Hook for measurements: called when an action's process is about to start. */
  onActionStart?: (taskId: string) => void;
  onActionEnd?: (state: string, seconds: number) => void;
}

export interface TaskOutcome {
  state: TaskState;
  message: string | null;
}

interface RunningAction {
  row: NewAction;
  spec: ActionSpec;
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

  constructor(deps: TaskRunnerDeps, task: TaskRow, deployment: DeploymentRow) {
    this.deps = deps;
    this.task = task;
    this.deployment = deployment;
    this.plan = deployment.plan;
    this.tenant = this.plan.tenants?.find((t) => t.name === task.tenant);
    this.deploymentId = deployment.id;
    this.mask = makeMask(secretValuesOf(deployment));
  }

  private event(type: string, data: Record<string, unknown>): void {
    this.deps.events.emit({ deploymentId: this.deployment.id, taskId: this.task.id, type, data });
  }

  private log(line: string, extra: Record<string, unknown> = {}): void {
    this.event('log', { line: this.mask(line), ...extra });
  }

  async run(): Promise<TaskOutcome> {
    const { store } = this.deps;
    const expanded = expandActions(this.plan, this.task.tenant, this.deps.worker.targets);
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
    await store.insertActions(steps.flat().map((a) => a.row));

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
      this.event('step.started', { step: step.name, actions: actions.length });
      const ok = await this.runStep(step, actions);
      this.event('step.finished', { step: step.name, ok });
      if (!ok && !step.continueOnError) failedStep = step.name;
    }
    if (this.abort.signal.aborted) return { state: 'cancelled', message: 'cancelled' };
    return failedStep
      ? { state: 'failed', message: `step ${failedStep} failed` }
      : { state: 'succeeded', message: null };
  }

  private async settle(
    actions: RunningAction[],
    state: 'skipped' | 'cancelled',
    message: string,
  ): Promise<void> {
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
    let failures = 0;
    const running = new Set<Promise<void>>();
    const remaining = actions.slice();
    const mutex = step.on === 'targets' && !this.plan.concurrency.bypassTargetMutex;
    // The next action prefers a target no task holds now, so that an action
    // waiting for a busy target does not leave free targets idle.
    const takeNext = (): RunningAction => {
      const free = mutex ? remaining.findIndex((a) => !this.deps.heldTargets.has(a.spec.target!.name)) : 0;
      return remaining.splice(Math.max(free, 0), 1)[0]!;
    };
    // Actions beyond the window wait, and say why (once each).
    const announced = new Set<RunningAction>();
    const waitingForWindow = async () => {
      for (const a of remaining) {
        if (announced.has(a)) continue;
        announced.add(a);
        await this.setWaiting(a, `step ${step.name} runs ${window} of window ${window} actions at once`);
      }
    };
    while (remaining.length > 0 && !this.abort.signal.aborted && failures <= allowed) {
      if (running.size >= window) {
        await waitingForWindow();
        await Promise.race(running);
        continue;
      }
      const p = this.runAction(step, takeNext()).then((ok) => {
        if (!ok) failures++;
        running.delete(p);
      });
      running.add(p);
    }
    await Promise.all(running);
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

  private async setWaiting(a: RunningAction, reason: string | null): Promise<void> {
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
    try {
      // From the first action on, a crash of this node interrupts the task
      // instead of requeueing it. (Both writes share one group commit.)
      const fenced = this.actionStarted ? null : store.markActionStarted(this.task.id, this.deps.lease);
      this.actionStarted = true;
      let result = { ok: false, cancelled: false, exitCode: null as number | null, message: '' };
      const firstStart = Date.now();
      for (let attempt = 1; attempt <= step.retries + 1; attempt++) {
        a.row.state = 'running';
        const startedAt = Date.now();
        await Promise.all([
          fenced,
          store.updateAction(a.row.id, {
            state: 'running',
            attempt,
            startedAt,
            worker: this.deps.worker.name,
            waitingOn: null,
          }),
        ]);
        this.event('action.started', {
          actionId: a.row.id,
          step: step.name,
          target: target?.name ?? null,
          attempt,
        });
        this.deps.onActionStart?.(this.task.id);
        result = await this.deps.worker.execute(
          {
            actionId: a.row.id,
            kind: step.kind,
            script:
              step.kind === 'run' && 'inline' in step.script
                ? interpolate(step.script.inline, this.scope(step, target))
                : '',
            env: this.env(step, target, attempt),
            timeoutMs: step.timeoutMs,
            target,
            ...(target ? { cwd: this.projectDir(target) } : {}),
          },
          this.abort.signal,
          (stream, line) =>
            this.log(line, { stream, actionId: a.row.id, step: step.name, target: target?.name ?? null }),
        );
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
      await store.updateAction(a.row.id, {
        state,
        finishedAt: Date.now(),
        exitCode: result.exitCode,
        message,
      });
      this.event(`action.${state}`, {
        actionId: a.row.id,
        step: step.name,
        target: target?.name ?? null,
        message,
      });
      return result.ok;
    } finally {
      if (mutex) {
        this.deps.heldTargets.delete(target.name);
        await store.unlockTarget(target.name, a.row.id);
        this.deps.targetReleases.notify();
      }
    }
  }

  /** Waits for the target's mutex; false when the task was cancelled meanwhile. */
  private async lockTarget(target: Target, a: RunningAction): Promise<boolean> {
    let said: string | null = null;
    while (!this.abort.signal.aborted) {
      const seen = this.deps.targetReleases.seen;
      const lock = await this.deps.store.lockTarget(target.name, this.task.id, a.row.id);
      if (lock.ok) {
        this.deps.heldTargets.add(target.name);
        if (said) await this.setWaiting(a, null);
        return true;
      }
      const reason = `target ${target.name} busy with task ${lock.holder} (mutex)`;
      if (reason !== said) {
        said = reason;
        await this.setWaiting(a, reason);
      }
      await this.deps.targetReleases.after(seen, 1000, this.abort.signal);
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

  private env(step: Step, target: Target | null, attempt: number): Record<string, string> {
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
      FLOTILLA_WORKER: this.deps.worker.name,
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
