// Database rows to the store's types, shared by both implementations.
import type { ActionRow, CheckRunRow, DeploymentRow, EventRow, NewEvent, NodeRow, TaskRow } from './types.ts';

export type Row = Record<string, unknown>;

/** The order in which queued tasks are considered: high priority first, then submission. */
export const claimOrder = 'priority DESC, seq';

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
const str = (v: unknown) => (v === null || v === undefined ? null : String(v));
const json = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v);

export function toNode(r: Row): NodeRow {
  return {
    name: String(r.name),
    taskCap: Number(r.task_cap),
    resumeCap: num(r.resume_cap),
    epoch: Number(r.epoch),
    heartbeatAt: Number(r.heartbeat_at),
    startedAt: Number(r.started_at),
    stoppedAt: num(r.stopped_at),
    running: Number(r.running ?? 0),
  };
}

/** A node is live while its agent runs and has heartbeated within the lease. */
export function nodeIsLive(n: NodeRow, now: number, leaseTtlMs: number): boolean {
  return n.stoppedAt === null && n.heartbeatAt >= now - leaseTtlMs;
}

export function toDeployment(r: Row): DeploymentRow {
  return {
    id: String(r.id),
    idempotencyKey: str(r.idempotency_key),
    project: String(r.project),
    environment: String(r.environment),
    release: String(r.release),
    plan: json(r.plan),
    github: r.github ? json(r.github) : null,
    secrets: json(r.secret_values) ?? {},
    state: r.state as DeploymentRow['state'],
    createdAt: Number(r.created_at),
    finishedAt: num(r.finished_at),
  };
}

export function toTask(r: Row): TaskRow {
  return {
    id: String(r.id),
    seq: Number(r.seq),
    deploymentId: String(r.deployment_id),
    tenant: str(r.tenant),
    concurrencyTag: String(r.concurrency_tag),
    priority: Number(r.priority),
    state: r.state as TaskRow['state'],
    node: str(r.node),
    epoch: num(r.epoch),
    actionStarted: Boolean(Number(r.action_started)),
    queuedAt: Number(r.queued_at),
    startedAt: num(r.started_at),
    finishedAt: num(r.finished_at),
    message: str(r.message),
  };
}

export function toAction(r: Row): ActionRow {
  return {
    id: String(r.id),
    taskId: String(r.task_id),
    stepIndex: Number(r.step_index),
    step: String(r.step),
    target: str(r.target),
    worker: str(r.worker),
    state: r.state as ActionRow['state'],
    attempt: Number(r.attempt),
    startedAt: num(r.started_at),
    finishedAt: num(r.finished_at),
    exitCode: num(r.exit_code),
    message: str(r.message),
    waitingOn: str(r.waiting_on),
  };
}

export function toEvent(r: Row): EventRow {
  return {
    id: Number(r.id),
    deploymentId: String(r.deployment_id),
    taskId: str(r.task_id),
    type: String(r.type),
    data: json(r.data),
    at: Number(r.at),
  };
}

export function toCheckRun(r: Row): CheckRunRow {
  return {
    deploymentId: String(r.deployment_id),
    checkRunId: num(r.check_run_id),
    version: Number(r.version),
    sentVersion: Number(r.sent_version),
    sentAt: num(r.sent_at),
    annotations: Number(r.annotations),
    completed: Boolean(Number(r.completed)),
  };
}

/** Store columns of the action fields that updateAction may patch. */
export const ACTION_COLUMNS: Readonly<Record<string, string>> = {
  state: 'state',
  attempt: 'attempt',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
  exitCode: 'exit_code',
  message: 'message',
  worker: 'worker',
  waitingOn: 'waiting_on',
};

/**
 * The crash rule for one running task of a node that stopped: a task that had
 * started no action goes back to the queue (at its old position: seq is kept),
 * one that had goes back only when its plan says onInterrupt: requeue, else it
 * is interrupted. Returns the task as the store keeps it (the coordinator
 * reports these rows), with finishedAt left to the caller.
 */
export function afterCrash(task: TaskRow, onInterrupt: unknown): TaskRow {
  const message = task.actionStarted
    ? `node ${task.node} stopped while the task was running`
    : `node ${task.node} stopped before the task started an action; requeued`;
  if (task.actionStarted && onInterrupt !== 'requeue') return { ...task, state: 'interrupted', message };
  return {
    ...task,
    state: 'queued',
    node: null,
    epoch: null,
    startedAt: null,
    actionStarted: false,
    message: task.actionStarted ? `${message}; requeued (onInterrupt: requeue)` : message,
  };
}

/**
 * The event telling of a task the crash rule moved (task.requeued, or
 * task.finished as interrupted). Stores write it in the recovery's own
 * transaction: a node killed right after recovering cannot lose it.
 */
export function recoveryEvent(t: TaskRow): NewEvent {
  return {
    deploymentId: t.deploymentId,
    taskId: t.id,
    type: t.state === 'queued' ? 'task.requeued' : 'task.finished',
    data: { state: t.state, tenant: t.tenant, message: t.message },
  };
}
