// Store rows to the API's JSON: ISO times, no secrets, waitingOn attached.
import type { ActionView, DeploymentView, EventView, NodeView, TaskView } from '../../../src/client/types.ts';
import { nodeIsLive } from '../store/rows.ts';
import type { ActionRow, DeploymentRow, EventRow, NodeRow, TaskRow } from '../store/types.ts';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function taskView(t: TaskRow, waitingOn: string | null, actions?: ActionRow[]): TaskView {
  return {
    id: t.id,
    tenant: t.tenant,
    concurrencyTag: t.concurrencyTag,
    state: t.state,
    node: t.node,
    queuedAt: iso(t.queuedAt)!,
    startedAt: iso(t.startedAt),
    finishedAt: iso(t.finishedAt),
    message: t.message,
    waitingOn,
    ...(actions ? { actions: actions.map(actionView) } : {}),
  };
}

export function actionView(a: ActionRow): ActionView {
  return {
    id: a.id,
    step: a.step,
    target: a.target,
    worker: a.worker,
    state: a.state,
    attempt: a.attempt,
    startedAt: iso(a.startedAt),
    finishedAt: iso(a.finishedAt),
    exitCode: a.exitCode,
    message: a.message,
    waitingOn: a.state === 'pending' ? a.waitingOn : null,
  };
}

export function deploymentView(
  d: DeploymentRow,
  baseUrl: string,
  tasks: TaskRow[],
  waiting: Map<string, string>,
  actions: ActionRow[],
): DeploymentView {
  const byTask = Map.groupBy(actions, (a) => a.taskId);
  return {
    id: d.id,
    url: `${baseUrl}/v1/deployments/${d.id}`,
    project: d.project,
    environment: d.environment,
    release: d.release,
    state: d.state,
    createdAt: iso(d.createdAt)!,
    finishedAt: iso(d.finishedAt),
    tasks: tasks.map((t) => taskView(t, waiting.get(t.id) ?? null, byTask.get(t.id) ?? [])),
  };
}

export function nodeView(n: NodeRow, now: number, leaseTtlMs: number): NodeView {
  return {
    name: n.name,
    taskCap: n.taskCap,
    running: n.running,
    draining: n.taskCap === 0,
    live: nodeIsLive(n, now, leaseTtlMs),
    lastHeartbeat: iso(n.heartbeatAt)!,
  };
}

export function eventView(e: EventRow): EventView {
  return { id: e.id, type: e.type, taskId: e.taskId, at: iso(e.at)!, data: e.data };
}
