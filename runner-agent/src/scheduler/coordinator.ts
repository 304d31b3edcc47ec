// The coordinator of one node: accepts deployments, claims queued tasks up to
// the node's task cap, runs them through its worker, and recovers from
// crashes. Every rule that must hold across nodes is enforced by the store;
// this class only decides when to ask.
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { type SubmitRequest, submitSchema } from '../../../src/client/types.ts';
import {
  checkInventory,
  expandDeployment,
  type PlanIssue,
  type PlanResult,
  parsePlanSource,
  validatePlanValue,
  zodIssues,
} from '../../../src/plan/index.ts';
import { nodeIsLive, recoveryEvent } from '../store/rows.ts';
import {
  type DeploymentRow,
  type DeploymentState,
  type Lease,
  type NodeRow,
  StaleLeaseError,
  type Store,
  type TaskRow,
  TERMINAL_TASK_STATES,
} from '../store/types.ts';
import { WorkerRegistry } from '../worker/registry.ts';
import type { Worker } from '../worker/types.ts';
import { EventLog } from './event-log.ts';
import { TargetHolds } from './target-holds.ts';
import { type TaskOutcome, TaskRunner } from './task-runner.ts';
import { STARTING, waitingReasons } from './waiting.ts';
import { Wakeups } from './wakeups.ts';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly issues?: PlanIssue[];
  constructor(status: number, code: string, message: string, issues?: PlanIssue[]) {
    super(message);
    this.status = status;
    this.code = code;
    this.issues = issues;
  }
}

export interface CoordinatorOptions {
  store: Store;
  node: string;
  taskCap: number;
  worker: Worker;
  /** The local worker's action cap (worker.maxActions); absent: no cap. */
  localMaxActions?: number;
  log: Logger;
  leaseTtlMs: number;
  retryBackoffMs: number;
}

const WAITING_EVERY_MS = 500;
const ANNOUNCE_HEAD = 200;

export class Coordinator {
  readonly store: Store;
  readonly events: EventLog;
  readonly node: string;
  /** Emits 'taskStarted', 'taskFinished' and 'actionStarted' (task id) for metrics and benchmarks. */
  readonly signals = new EventEmitter();
  /** The local worker and the remote ones registered with this node. */
  readonly workers: WorkerRegistry;
  private readonly opts: CoordinatorOptions;
  private lease: Lease = { node: '', epoch: 0 };
  private cap: number;
  private readonly running = new Map<string, TaskRunner>();
  private readonly deployments = new Map<string, DeploymentRow>();
  private readonly lastWaiting = new Map<string, string>();
  private stopping = false;
  private dispatching = false;
  private dispatchAgain = false;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private heartbeatEveryMs = 0;
  private lastHeartbeat = 0;
  private ticking = false;
  private stopWake: (() => void) | null = null;
  private waitingTimer: NodeJS.Timeout | null = null;
  private readonly targetReleases = new Wakeups();
  private readonly targetHolds = new TargetHolds();

  constructor(opts: CoordinatorOptions) {
    this.opts = opts;
    this.store = opts.store;
    this.node = opts.node;
    this.cap = opts.taskCap;
    this.workers = new WorkerRegistry({
      local: opts.worker,
      localMaxActions: opts.localMaxActions,
      leaseTtlMs: opts.leaseTtlMs,
    });
    this.events = new EventLog(opts.store, (err) => opts.log.error({ err }, 'could not write events'));
  }

  get taskCap(): number {
    return this.cap;
  }

  get runningCount(): number {
    return this.running.size;
  }

  get draining(): boolean {
    return this.cap === 0 || this.stopping;
  }

  async start(): Promise<void> {
    const row = await this.store.registerNode(this.node, this.opts.taskCap);
    this.lease = { node: row.name, epoch: row.epoch };
    this.cap = row.taskCap;
    // The crash rule for this node's own earlier life, then for any dead node.
    await this.recover({ node: this.node, currentEpoch: row.epoch });
    await this.recover({ staleBefore: (await this.store.now()) - this.opts.leaseTtlMs });
    await this.finishSettledDeployments();
    // Other nodes' news (tasks queued or freed, this node's cap changed) wakes
    // dispatch at once; the tick below is the fallback when a notice is lost.
    this.stopWake =
      this.store.onWake?.((reason) => {
        if (reason !== `node:${this.node}`) this.dispatch();
        else this.refreshCap().catch((err) => this.opts.log.error({ err }, 'could not read the task cap'));
      }) ?? null;
    // Heartbeats every third of the lease; dead nodes are looked for every
    // second, so a dead node's tasks move within about leaseTtl + 1 s.
    this.heartbeatEveryMs = Math.max(200, Math.floor(this.opts.leaseTtlMs / 3));
    this.lastHeartbeat = Date.now();
    this.heartbeatTimer = setInterval(() => void this.tick(), Math.min(1000, this.heartbeatEveryMs));
    this.heartbeatTimer.unref();
    this.workers.start();
    this.dispatch();
    this.scheduleWaiting();
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      if (Date.now() - this.lastHeartbeat >= this.heartbeatEveryMs) {
        await this.heartbeat();
        await this.refreshCap();
      }
      await this.recover({ staleBefore: (await this.store.now()) - this.opts.leaseTtlMs });
      this.dispatch();
    } catch (err) {
      this.opts.log.error({ err }, 'heartbeat failed');
    } finally {
      this.ticking = false;
    }
  }

  private async heartbeat(): Promise<void> {
    const sent = Date.now();
    try {
      await this.store.heartbeat(this.lease);
      this.lastHeartbeat = sent;
    } catch (err) {
      if (!(err instanceof StaleLeaseError)) throw err;
      await this.rejoin();
    }
  }

  /**
   * Another node found this node's lease expired (it was too slow to
   * heartbeat, not dead) and took its tasks. Whatever still runs here runs in
   * a lost lease's name: stop it (its writes would be refused anyway), then
   * take a new epoch and carry on.
   */
  private async rejoin(): Promise<void> {
    this.opts.log.warn({ node: this.node, epoch: this.lease.epoch }, 'lease lost to another node; rejoining');
    for (const runner of this.running.values()) runner.abort.abort();
    const row = await this.store.registerNode(this.node, this.opts.taskCap);
    this.lease = { node: row.name, epoch: row.epoch };
    this.cap = row.taskCap;
    this.lastHeartbeat = Date.now();
    await this.recover({ node: this.node, currentEpoch: row.epoch });
  }

  private async refreshCap(): Promise<void> {
    const me = (await this.store.listNodes()).find((n) => n.name === this.node);
    if (me) this.cap = me.taskCap;
    this.dispatch();
  }

  private async recover(opts: Parameters<Store['recoverTasks']>[0]): Promise<void> {
    const recovered = await this.store.recoverTasks(opts);
    if (recovered.length > 0) this.events.written(recovered.map(recoveryEvent));
    for (const t of recovered)
      this.opts.log.warn({ task: t.id, state: t.state }, t.message ?? 'recovered task');
    for (const id of new Set(recovered.filter((t) => t.state !== 'queued').map((t) => t.deploymentId))) {
      await this.maybeFinishDeployment(id);
    }
  }

  private async finishSettledDeployments(): Promise<void> {
    for (const d of await this.store.listDeployments(10_000)) {
      if (d.state === 'queued' || d.state === 'running') await this.maybeFinishDeployment(d.id);
    }
  }

  // ---- submission -------------------------------------------------------

  async submit(
    body: unknown,
    baseUrl: string,
  ): Promise<{ created: boolean; deployment: DeploymentRow; tasks: TaskRow[] }> {
    const parsed = submitSchema.safeParse(body);
    if (!parsed.success) {
      const issues = zodIssues(parsed.error, body).map((i) => ({
        path: `/${i.path.join('/')}`,
        message: i.message,
      }));
      throw new ApiError(400, 'invalid_request', 'the request body is not a valid submission', issues);
    }
    const req: SubmitRequest = parsed.data;
    const planResult = loadSubmittedPlan(req.plan);
    if (!planResult.ok) throw new ApiError(400, 'invalid_plan', 'the plan is not valid', planResult.issues);
    const plan = planResult.plan;
    const unresolved = plan.steps.filter((s) => s.kind === 'run' && 'path' in s.script);
    if (unresolved.length) {
      throw new ApiError(
        400,
        'invalid_plan',
        'script paths must be resolved by the client before submission',
        unresolved.map((s) => ({
          path: `/steps/${plan.steps.indexOf(s)}/run`,
          message:
            'a script path reached the agent; clients (flotilla deploy, the action) send the script text',
        })),
      );
    }
    const unsent = Object.values(plan.packages).filter((p) => p.source === 'upload' && !p.sha256);
    if (unsent.length) {
      throw new ApiError(
        400,
        'invalid_plan',
        'upload packages must be uploaded by the client before submission',
        unsent.map((p) => ({
          path: `/packages/${p.name}/sha256`,
          message:
            'an upload package reached the agent without its sha256; clients (flotilla deploy, the action) upload the file and set it',
        })),
      );
    }
    const spec = expandDeployment(plan, {
      release: req.release,
      environment: req.environment,
      tenants: req.tenants,
      defaultRelease: req.github?.sha.slice(0, 7),
    });
    if (!spec.ok)
      throw new ApiError(400, 'invalid_plan', 'the plan cannot be deployed as asked', spec.issues);
    const inventoryIssues = checkInventory(plan, spec.value, this.workers.targets());
    if (inventoryIssues.length) {
      throw new ApiError(
        400,
        'invalid_plan',
        "the plan's steps do not match this agent's targets",
        inventoryIssues,
      );
    }
    const result = await this.store.createDeployment({
      idempotencyKey: req.idempotencyKey,
      project: spec.value.project,
      environment: spec.value.environment,
      release: spec.value.release,
      plan,
      github: req.github,
      secrets: req.secrets ?? {},
      tasks: spec.value.tasks.map((t) => ({
        tenant: t.tenant?.name ?? null,
        concurrencyTag: t.concurrencyTag,
      })),
    });
    if (!result.created) return result;
    const { deployment, tasks } = result;
    this.events.emit({
      deploymentId: deployment.id,
      taskId: null,
      type: 'deployment.queued',
      data: { url: `${baseUrl}/v1/deployments/${deployment.id}`, tasks: tasks.length },
    });
    for (const t of tasks) {
      this.events.emit({
        deploymentId: deployment.id,
        taskId: t.id,
        type: 'task.queued',
        data: { tenant: t.tenant, concurrencyTag: t.concurrencyTag },
      });
    }
    if (plan.supersede && tasks.length > 0) {
      const superseded = await this.store.supersedeQueued(
        tasks.map((t) => t.concurrencyTag),
        tasks[0]!.seq,
        `superseded by deployment ${deployment.id}`,
      );
      for (const t of superseded) {
        this.events.emit({
          deploymentId: t.deploymentId,
          taskId: t.id,
          type: 'task.finished',
          data: { state: 'cancelled', tenant: t.tenant, message: t.message },
        });
      }
      for (const id of new Set(superseded.map((t) => t.deploymentId))) await this.maybeFinishDeployment(id);
    }
    await this.events.flush();
    this.dispatch();
    return result;
  }

  // ---- dispatch ---------------------------------------------------------

  /** Claims tasks for free slots; coalesces calls made while a claim is under way. */
  dispatch(): void {
    if (this.dispatching) {
      this.dispatchAgain = true;
      return;
    }
    this.dispatching = true;
    void (async () => {
      try {
        do {
          this.dispatchAgain = false;
          const free = this.stopping ? 0 : this.cap - this.running.size;
          if (free <= 0) break;
          const claimed = await this.store.claimTasks(this.lease, free);
          for (const task of claimed) await this.startTask(task);
        } while (this.dispatchAgain);
      } catch (err) {
        this.opts.log.error({ err }, 'dispatch failed');
      } finally {
        this.dispatching = false;
      }
    })();
  }

  private async deployment(id: string): Promise<DeploymentRow> {
    let d = this.deployments.get(id);
    if (!d) {
      d = (await this.store.getDeployment(id))!;
      this.deployments.set(id, d);
    }
    return d;
  }

  private async startTask(task: TaskRow): Promise<void> {
    const deployment = await this.deployment(task.deploymentId);
    if (deployment.state === 'queued') {
      deployment.state = 'running';
      if (await this.store.setDeploymentState(deployment.id, 'running')) {
        this.events.emit({ deploymentId: deployment.id, taskId: null, type: 'deployment.running', data: {} });
      }
    }
    const lease = this.lease;
    this.lastWaiting.delete(task.id);
    this.events.emit({
      deploymentId: deployment.id,
      taskId: task.id,
      type: 'task.started',
      data: { tenant: task.tenant, node: this.node },
    });
    const runner = new TaskRunner(
      {
        store: this.store,
        events: this.events,
        workers: this.workers,
        lease,
        retryBackoffMs: this.opts.retryBackoffMs,
        targetReleases: this.targetReleases,
        targets: this.targetHolds,
        onActionStart: (id) => this.signals.emit('actionStarted', id),
        onActionEnd: (state, seconds) => this.signals.emit('actionEnded', { state, seconds }),
        onPackage: (r) => this.signals.emit('packageAcquired', r),
      },
      task,
      deployment,
    );
    this.running.set(task.id, runner);
    this.signals.emit('taskStarted', task.id);
    void runner
      .run()
      .catch((err: Error) => {
        this.opts.log.error({ err, task: task.id }, 'task failed unexpectedly');
        return { state: 'failed' as const, message: `internal error: ${err.message}` };
      })
      .then(async (outcome) => {
        try {
          await this.recordEnd(task, lease, outcome, runner);
          this.events.emit({
            deploymentId: deployment.id,
            taskId: task.id,
            type: 'task.finished',
            data: { state: outcome.state, tenant: task.tenant, message: outcome.message },
          });
        } catch (err) {
          if (!(err instanceof StaleLeaseError)) throw err;
          this.opts.log.warn({ task: task.id }, err.message);
        } finally {
          if (this.running.get(task.id) === runner) this.running.delete(task.id);
          runner.endWritten();
        }
        this.signals.emit('taskFinished', task.id);
        this.signals.emit('taskEnded', {
          state: outcome.state,
          seconds: (Date.now() - (task.startedAt ?? Date.now())) / 1000,
        });
        this.dispatch();
        // While another of its tasks runs here, the deployment is open, and
        // that task's end looks again: only the last one here probes.
        if (![...this.running.values()].some((r) => r.deploymentId === deployment.id)) {
          await this.maybeFinishDeployment(deployment.id);
        }
      })
      .catch((err) => this.opts.log.error({ err, task: task.id }, 'could not record the end of a task'));
  }

  /**
   * Writes a task's end under the lease it was claimed under (after a rejoin,
   * the new epoch may hold a new run of the same task). A store that fails
   * for a moment is asked again: until the end is written, the task holds its
   * slot and its tag.
   */
  private async recordEnd(
    task: TaskRow,
    lease: Lease,
    outcome: TaskOutcome,
    runner: TaskRunner,
  ): Promise<void> {
    for (let delay = 100; ; delay = Math.min(delay * 2, 5000)) {
      try {
        return await this.store.finishTask(
          task.id,
          lease,
          outcome.state,
          outcome.message,
          runner.endsWithTask,
          runner.handoffsWithTask,
        );
      } catch (err) {
        if (err instanceof StaleLeaseError) throw err;
        this.opts.log.error(
          { err, task: task.id },
          `could not record the end of the task; again in ${delay} ms`,
        );
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private async maybeFinishDeployment(id: string): Promise<void> {
    // Called after every task; the probe keeps that cheap for deployments of thousands of tasks.
    if (await this.store.hasOpenTasks(id)) return;
    const tasks = await this.store.tasksOf(id);
    if (tasks.some((t) => !TERMINAL_TASK_STATES.includes(t.state))) return;
    const state: DeploymentState = tasks.some((t) => t.state === 'failed' || t.state === 'interrupted')
      ? 'failed'
      : tasks.some((t) => t.state === 'cancelled')
        ? 'cancelled'
        : 'succeeded';
    this.deployments.delete(id);
    // Another node may have ended it meanwhile: only the one that did says so.
    if (!(await this.store.setDeploymentState(id, state))) return;
    const count = (s: string) => tasks.filter((t) => t.state === s).length;
    this.events.emit({
      deploymentId: id,
      taskId: null,
      type: 'deployment.finished',
      data: {
        state,
        succeeded: count('succeeded'),
        failed: count('failed'),
        interrupted: count('interrupted'),
        cancelled: count('cancelled'),
      },
    });
    await this.events.flush();
  }

  // ---- why tasks wait ---------------------------------------------------

  private scheduleWaiting(): void {
    this.waitingTimer = setInterval(() => void this.announceWaiting(), WAITING_EVERY_MS);
    this.waitingTimer.unref();
  }

  /**
   * Emits task.waiting for queued tasks whose reason changed. Only the head of
   * the queue is announced: a task's reason depends only on the tasks ahead of
   * it, so the prefix is exact, and a queue of thousands costs no more than
   * its head. The momentary "starting" reason is not worth an event.
   *
   * Reasons come from the shared store, so every node would find the same
   * ones: only the first live node by name announces them, and a deployment's
   * log says each once. When that node dies, the next one takes over once its
   * lease has expired.
   */
  private async announceWaiting(): Promise<void> {
    try {
      const nodes = await this.liveNodes();
      if (nodes.length > 0 && nodes[0]!.name !== this.node) {
        this.lastWaiting.clear();
        return;
      }
      const { queued, reasons } = await this.computeWaiting({ limit: ANNOUNCE_HEAD, nodes });
      for (const task of queued) {
        const reason = reasons.get(task.id);
        if (!reason || reason === STARTING || this.lastWaiting.get(task.id) === reason) continue;
        this.lastWaiting.set(task.id, reason);
        this.events.emit({
          deploymentId: task.deploymentId,
          taskId: task.id,
          type: 'task.waiting',
          data: { waitingOn: reason },
        });
      }
      for (const id of this.lastWaiting.keys()) if (!reasons.has(id)) this.lastWaiting.delete(id);
    } catch (err) {
      this.opts.log.error({ err }, 'could not compute why tasks wait');
    }
  }

  /** Nodes whose agent runs and whose lease holds at `now` (the store's clock when not given). */
  async liveNodes(now?: number): Promise<NodeRow[]> {
    const at = now ?? (await this.store.now());
    return (await this.store.listNodes()).filter((n) => nodeIsLive(n, at, this.opts.leaseTtlMs));
  }

  /** Why each queued task waits, by task id. */
  async waitingOn(): Promise<Map<string, string>> {
    const now = await this.store.now();
    return (await this.computeWaiting({ nodes: await this.liveNodes(now), now })).reasons;
  }

  /** Why the first `limit` queued tasks (all without it) wait; `now` adds how long tags have been held. */
  private async computeWaiting(opts: {
    limit?: number;
    nodes: NodeRow[];
    now?: number;
  }): Promise<{ queued: TaskRow[]; reasons: Map<string, string> }> {
    const [queued, running] = await Promise.all([
      this.store.queuedTasks(opts.limit),
      this.store.runningTasks(),
    ]);
    const maxRunning = new Map<string, number>();
    for (const t of queued) {
      if (!maxRunning.has(t.deploymentId)) {
        const d = await this.deployment(t.deploymentId);
        maxRunning.set(t.deploymentId, d.plan.concurrency.maxRunningTasks);
      }
    }
    const reasons = waitingReasons({
      queued,
      running,
      nodes: opts.nodes,
      now: opts.now,
      maxRunningOf: (id) => maxRunning.get(id) ?? 0,
    });
    return { queued, reasons };
  }

  // ---- control ----------------------------------------------------------

  async cancel(deploymentId: string): Promise<void> {
    const d = await this.store.getDeployment(deploymentId);
    if (!d) throw new ApiError(404, 'not_found', `deployment ${deploymentId} does not exist`);
    const cancelled = await this.store.cancelQueued(deploymentId, 'cancelled');
    for (const t of cancelled) {
      this.events.emit({
        deploymentId,
        taskId: t.id,
        type: 'task.finished',
        data: { state: 'cancelled', tenant: t.tenant, message: 'cancelled while queued' },
      });
    }
    for (const runner of this.running.values())
      if (runner.deploymentId === deploymentId) runner.abort.abort();
    await this.maybeFinishDeployment(deploymentId);
    await this.events.flush();
  }

  async setCap(name: string, cap: number): Promise<NodeRow> {
    const row = await this.store.setTaskCap(name, cap);
    if (!row) throw new ApiError(404, 'not_found', `node ${name} does not exist`);
    return this.capChanged(row);
  }

  async drain(name: string): Promise<NodeRow> {
    const row = await this.store.drainNode(name);
    if (!row) throw new ApiError(404, 'not_found', `node ${name} does not exist`);
    return this.capChanged(row);
  }

  async resume(name: string): Promise<NodeRow> {
    const row = await this.store.resumeNode(name, this.opts.taskCap);
    if (!row) throw new ApiError(404, 'not_found', `node ${name} does not exist`);
    return this.capChanged(row);
  }

  private capChanged(row: NodeRow): NodeRow {
    if (row.name === this.node) this.cap = row.taskCap;
    this.dispatch();
    void this.announceWaiting();
    return row;
  }

  /** SIGTERM: take no new task, let running ones finish, then close. */
  async stop(): Promise<void> {
    this.stopping = true;
    while (this.running.size > 0) await new Promise((r) => this.signals.once('taskFinished', r));
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.stopWake?.();
    if (this.waitingTimer) clearInterval(this.waitingTimer);
    while (this.dispatching) await new Promise((r) => setTimeout(r, 5));
    this.workers.stop();
    await this.events.flush();
    await this.store
      .leaveNode(this.lease)
      .catch((err) => this.opts.log.error({ err }, 'could not record the stop'));
  }
}

function loadSubmittedPlan(plan: string | Record<string, unknown>): PlanResult {
  if (typeof plan !== 'string') return validatePlanValue(plan);
  const source = parsePlanSource(plan);
  return source.ok ? validatePlanValue(source.value, source.locate) : source;
}
