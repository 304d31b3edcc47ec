// Turns a deployment's event stream into lines a person follows: one per
// task transition and per change of why a task waits, tenant first.
import type { EventView } from './types.ts';

export interface TaskProgress {
  id: string;
  tenant: string | null;
  state: string;
  waitingOn: string | null;
  message: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  failedActions: { step: string; target: string | null; message: string }[];
}

export class DeploymentProgress {
  readonly tasks = new Map<string, TaskProgress>();
  state = 'queued';
  finished = false;

  private task(e: EventView): TaskProgress | null {
    if (!e.taskId) return null;
    let t = this.tasks.get(e.taskId);
    if (!t) {
      t = {
        id: e.taskId,
        tenant: (e.data.tenant as string | null | undefined) ?? null,
        state: 'queued',
        waitingOn: null,
        message: null,
        startedAt: null,
        finishedAt: null,
        failedActions: [],
      };
      this.tasks.set(e.taskId, t);
    }
    return t;
  }

  /** Applies one event; returns the lines worth printing (possibly none). */
  apply(e: EventView): string[] {
    const t = this.task(e);
    const who = t ? (t.tenant ?? 'task') : 'deployment';
    const d = e.data;
    switch (e.type) {
      case 'task.queued':
        return [];
      case 'task.waiting':
        if (!t || t.waitingOn === d.waitingOn) return [];
        t.waitingOn = String(d.waitingOn);
        return [`${who}: waiting: ${t.waitingOn}`];
      case 'task.started':
        if (!t) return [];
        t.state = 'running';
        t.waitingOn = null;
        t.startedAt = e.at;
        return [`${who}: started on node ${d.node}`];
      case 'task.requeued':
        if (t) t.state = 'queued';
        return [`${who}: requeued: ${d.message}`];
      case 'task.finished':
        if (!t) return [];
        t.state = String(d.state);
        t.message = (d.message as string | null) ?? null;
        t.finishedAt = e.at;
        t.waitingOn = null;
        return [`${who}: ${t.state}${t.message && t.message !== t.state ? ` (${t.message})` : ''}`];
      case 'action.failed':
        t?.failedActions.push({
          step: String(d.step),
          target: (d.target as string | null) ?? null,
          message: String(d.message),
        });
        return [`${who}: ${d.step}${d.target ? `@${d.target}` : ''} failed: ${d.message}`];
      case 'action.retrying':
        return [
          `${who}: ${d.step}${d.target ? `@${d.target}` : ''} attempt ${d.attempt} failed (${d.message}); retrying`,
        ];
      case 'action.waiting':
        return [`${who}: ${d.step}${d.target ? `@${d.target}` : ''} waiting: ${d.waitingOn}`];
      case 'deployment.running':
        this.state = 'running';
        return [];
      case 'deployment.finished':
        this.state = String(d.state);
        this.finished = true;
        return [
          `deployment ${this.state}: ${d.succeeded} succeeded, ${d.failed} failed, ${d.interrupted} interrupted, ${d.cancelled} cancelled`,
        ];
      default:
        return [];
    }
  }

  counts(): Record<string, number> {
    const c: Record<string, number> = {};
    for (const t of this.tasks.values()) c[t.state] = (c[t.state] ?? 0) + 1;
    return c;
  }
}

export function formatTable(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
