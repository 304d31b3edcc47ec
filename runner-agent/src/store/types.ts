// The store interface: everything the coordinator keeps durably. Two
// implementations (SQLite for one node, PostgreSQL for several) satisfy it,
// and one conformance suite (test/store/conformance.ts) runs against both.
// The scheduling invariants that must hold across nodes are enforced here, in
// the database, not in the scheduler's memory.
import type { Plan } from '../../../src/plan/index.ts';

export type TaskState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted';
export type ActionState = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';
export type DeploymentState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export const TERMINAL_TASK_STATES: readonly TaskState[] = ['succeeded', 'failed', 'cancelled', 'interrupted'];

export interface GithubContext {
  apiUrl: string;
  serverUrl: string;
  repository: string;
  sha: string;
  ref: string;
  event: string;
  runId: string | number;
  runAttempt: string | number;
  job: string;
  token?: string;
  checkName?: string;
}

export interface NodeRow {
  name: string;
  taskCap: number;
  /** The cap a drained node returns to on resume. */
  resumeCap: number | null;
  epoch: number;
  heartbeatAt: number;
  startedAt: number;
  /** Set when the agent stopped; null while it runs (or if it died). */
  stoppedAt: number | null;
  running: number;
}

export interface DeploymentRow {
  id: string;
  idempotencyKey: string | null;
  project: string;
  environment: string;
  release: string;
  plan: Plan;
  github: GithubContext | null;
  /** Secret values sent with the submission, by name (never returned by the API). */
  secrets: Record<string, string>;
  state: DeploymentState;
  createdAt: number;
  finishedAt: number | null;
}

export interface TaskRow {
  id: string;
  seq: number;
  deploymentId: string;
  tenant: string | null;
  concurrencyTag: string;
  /** 1 for high, 0 for normal: high is queued ahead. */
  priority: number;
  state: TaskState;
  node: string | null;
  epoch: number | null;
  actionStarted: boolean;
  queuedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  message: string | null;
}

export interface ActionRow {
  id: string;
  taskId: string;
  stepIndex: number;
  step: string;
  target: string | null;
  worker: string | null;
  state: ActionState;
  attempt: number;
  startedAt: number | null;
  finishedAt: number | null;
  exitCode: number | null;
  message: string | null;
  waitingOn: string | null;
}

export interface EventRow {
  id: number;
  deploymentId: string;
  taskId: string | null;
  type: string;
  data: Record<string, unknown>;
  at: number;
}

export type NewAction = Pick<
  ActionRow,
  'id' | 'taskId' | 'stepIndex' | 'step' | 'target' | 'worker' | 'state' | 'attempt'
>;

export interface ActionStart {
  id: string;
  taskId: string;
  attempt: number;
  worker: string;
  startedAt: number;
}

/** Who holds a target lock: an action of a task. */
export interface LockHolder {
  taskId: string;
  actionId: string;
}

/** A target lock passing from an ending task to an action waiting for the target. */
export interface TargetHandoff extends LockHolder {
  target: string;
}

/** An action's final state, as the task runner writes it. */
export interface ActionEnd {
  id: string;
  state: ActionState;
  finishedAt: number;
  exitCode: number | null;
  message: string;
}

export type NewEvent = Omit<EventRow, 'id' | 'at'> & { at?: number };

export interface NewDeployment {
  idempotencyKey?: string;
  project: string;
  environment: string;
  release: string;
  plan: Plan;
  github?: GithubContext;
  secrets: Record<string, string>;
  tasks: { tenant: string | null; concurrencyTag: string }[];
}

/** Who holds a claim: a node and the epoch it registered with (the fencing token). */
export interface Lease {
  node: string;
  epoch: number;
}

export class StaleLeaseError extends Error {
  constructor(what: string) {
    super(`${what}: the lease is no longer held (another node took over, or the task was cancelled)`);
  }
}

/** A target lock was to be passed on by an action that does not hold it. */
export class LockNotHeldError extends Error {
  constructor(target: string, actionId: string) {
    super(`target ${target} is not held by action ${actionId}`);
  }
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  close(): Promise<void>;
  /** The store's clock (the database's, for PostgreSQL), in ms since the epoch. */
  now(): Promise<number>;
  /**
   * A shared store calls `listener` when another node may have made work
   * claimable ('queue') or changed a node's cap ('node:<name>'); returns the
   * unsubscribe. Best effort (a lost connection loses some): callers still poll.
   */
  onWake?(listener: (reason: string) => void): () => void;

  /** Registers (or re-registers) a node, bumping its epoch; a persisted task cap wins over `defaultCap`. */
  registerNode(name: string, defaultCap: number): Promise<NodeRow>;
  heartbeat(lease: Lease): Promise<void>;
  /** The node's agent stopped: it is no longer live, without waiting for its lease to expire. */
  leaveNode(lease: Lease): Promise<void>;
  setTaskCap(name: string, cap: number): Promise<NodeRow | null>;
  /** Cap 0, remembering the cap to resume to. */
  drainNode(name: string): Promise<NodeRow | null>;
  resumeNode(name: string, defaultCap: number): Promise<NodeRow | null>;
  /** Every node, by name. */
  listNodes(): Promise<NodeRow[]>;

  /** Creates a deployment and its queued tasks; an existing idempotency key returns the first deployment. */
  createDeployment(
    input: NewDeployment,
  ): Promise<{ deployment: DeploymentRow; tasks: TaskRow[]; created: boolean }>;
  getDeployment(id: string): Promise<DeploymentRow | null>;
  listDeployments(limit: number): Promise<DeploymentRow[]>;
  /**
   * Moves a deployment on: queued to running, or either to a final state.
   * False when it had moved there or past already: several nodes may find a
   * deployment started or finished at once, and only one may say so.
   */
  setDeploymentState(id: string, state: DeploymentState): Promise<boolean>;

  getTask(id: string): Promise<TaskRow | null>;
  tasksOf(deploymentId: string): Promise<TaskRow[]>;
  /** Whether any task of the deployment is still queued or running (cheap: an index probe). */
  hasOpenTasks(deploymentId: string): Promise<boolean>;
  /** Queued tasks in the order they will be considered: priority, then submission. */
  queuedTasks(limit?: number): Promise<TaskRow[]>;
  runningTasks(): Promise<TaskRow[]>;
  /**
   * Claims up to `limit` queued tasks for a node: the first queued task of each
   * concurrency tag whose tag is free, in priority then submission order,
   * respecting each deployment's maxRunningTasks.
   */
  claimTasks(lease: Lease, limit: number): Promise<TaskRow[]>;
  /**
   * An attempt of an action starts on `start.worker`. With `fence`, this is
   * the task's first action: the task is marked as having started one (so the
   * crash rule interrupts it rather than requeueing it), in the same write and
   * only under a lease still held; a stale lease refuses all of it. `insert`
   * are action rows of the task not written yet (a task writes its actions
   * with its first start unless something made it write them earlier); the
   * started one among them is written as started.
   */
  startAction(start: ActionStart, fence: Lease | null, insert?: NewAction[]): Promise<void>;
  /**
   * A task ends under its lease, releasing its target locks; `actionEnds` are
   * its actions' last ends not written yet (the task's last action ends with
   * the task, in the same write), and `handoffs` the locks it passes to
   * actions waiting for them instead of releasing them.
   */
  finishTask(
    taskId: string,
    lease: Lease,
    state: TaskState,
    message: string | null,
    actionEnds?: ActionEnd[],
    handoffs?: TargetHandoff[],
  ): Promise<void>;
  /** Queued tasks of the deployment become cancelled; returns them. */
  cancelQueued(deploymentId: string, message: string): Promise<TaskRow[]>;
  /** Cancels queued tasks with these tags submitted before `beforeSeq` (plan option supersede). */
  supersedeQueued(tags: string[], beforeSeq: number, message: string): Promise<TaskRow[]>;
  /**
   * The crash rule: tasks running under a node whose lease is older than
   * `staleBefore` (or under an older epoch of `node`) go back to the queue if
   * they had started no action, else become interrupted (or requeued when the
   * plan says onInterrupt: requeue). The event telling of each (rows.ts,
   * recoveryEvent) is written in the same transaction.
   */
  recoverTasks(opts: { node?: string; currentEpoch?: number; staleBefore?: number }): Promise<TaskRow[]>;

  insertActions(actions: NewAction[]): Promise<void>;
  updateAction(id: string, patch: Partial<Omit<ActionRow, 'id' | 'taskId'>>): Promise<void>;
  /**
   * An action's end (it waits on nothing any more) and, with `heldTarget`,
   * the release of the target lock it held, in one write; with `next`, the
   * lock passes to that action instead (it throws if the action does not
   * hold it).
   */
  finishAction(end: ActionEnd, heldTarget: string | null, next?: LockHolder): Promise<void>;
  actionsOf(taskIds: string[]): Promise<ActionRow[]>;

  /** Takes the per-target mutex; returns the current holder's task id when it is taken. */
  lockTarget(
    target: string,
    taskId: string,
    actionId: string,
  ): Promise<{ ok: true } | { ok: false; holder: string }>;
  /** Releases (or with `next`, passes on) a target lock whose action ended without its end written (see finishAction). */
  unlockTarget(target: string, actionId: string, next?: LockHolder): Promise<void>;

  appendEvents(events: NewEvent[]): Promise<void>;
  eventsSince(deploymentId: string, afterId: number, limit: number): Promise<EventRow[]>;
  taskLog(taskId: string): Promise<EventRow[]>;

  /**
   * Records an accepted OIDC token's id until `expiresAt` (ms since the
   * epoch); false when it was recorded already, by any node: a replay.
   * Ids past their expiry are forgotten.
   */
  useTokenId(jti: string, expiresAt: number): Promise<boolean>;

  // ---- the check-run outbox (design: Check runs) ----
  // One row per deployment that reports to GitHub. `version` counts news;
  // the reporter sends the deployment's current state when version > sentVersion,
  // so an update that failed, or was pending when the agent died, is sent later.
  /** Records news for the deployment's check run, creating its row on first call. */
  touchCheckRun(deploymentId: string): Promise<void>;
  /** Rows with unsent news (version > sentVersion), oldest news first. */
  pendingCheckRuns(limit: number): Promise<CheckRunRow[]>;
  getCheckRun(deploymentId: string): Promise<CheckRunRow | null>;
  /** After GitHub accepted a create or update that reflected news up to `version`. */
  markCheckRunSent(
    deploymentId: string,
    sent: { version: number; checkRunId: number | null; at: number; annotations: number; completed: boolean },
  ): Promise<void>;
}

/** A deployment's GitHub check run and its outbox state. */
export interface CheckRunRow {
  deploymentId: string;
  /** GitHub's id, once the create call succeeded. */
  checkRunId: number | null;
  version: number;
  sentVersion: number;
  /** When the last update went out (ms since the epoch): updates are at least 10 s apart. */
  sentAt: number | null;
  /** Failed actions already sent as annotations (they are appended, 50 per request). */
  annotations: number;
  /** GitHub has the completed status: nothing more to send. */
  completed: boolean;
}
