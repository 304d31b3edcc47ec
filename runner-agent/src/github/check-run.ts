// What a deployment's check run says: status and conclusion from the
// deployment's state, a summary (tasks by state, why waiting tasks wait), a
// per-task table, and failed actions as annotations. Cut to GitHub's limits.
import { makeMask } from '../scheduler/mask.ts';
import { secretValuesOf } from '../scheduler/task-runner.ts';
import type { ActionRow, DeploymentRow, TaskRow } from '../store/types.ts';

/** GitHub refuses summary and text longer than this (characters). */
export const GITHUB_TEXT_LIMIT = 65_535;
/** GitHub takes at most this many annotations per create or update request. */
export const ANNOTATIONS_PER_REQUEST = 50;
/**
 * Annotations need a file path; the agent does not know the plan's path in the
 * repository, so they point at the action's default plan path.
 */
export const ANNOTATION_PATH = '.flotilla/plan.yml';

export interface CheckRunContent {
  name: string;
  status: 'queued' | 'in_progress' | 'completed';
  conclusion?: 'success' | 'failure' | 'cancelled';
  started_at?: string;
  completed_at?: string;
  output: { title: string; summary: string; text: string };
}

export interface Annotation {
  path: string;
  start_line: number;
  end_line: number;
  annotation_level: 'failure';
  title: string;
  message: string;
}

const CONCLUSIONS = { succeeded: 'success', failed: 'failure', cancelled: 'cancelled' } as const;
const TRUNCATED = '\n\n… (cut to GitHub’s limit; the full list is on the agent)';

export function cut(text: string, limit = GITHUB_TEXT_LIMIT): string {
  return text.length <= limit ? text : text.slice(0, limit - TRUNCATED.length) + TRUNCATED;
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

export function checkRunName(d: DeploymentRow): string {
  return d.github?.checkName ?? `flotilla: ${d.project} → ${d.environment}`;
}

export function renderCheckRun(
  d: DeploymentRow,
  tasks: TaskRow[],
  waiting: Map<string, string>,
): CheckRunContent {
  const mask = makeMask(secretValuesOf(d));
  const byState = Map.groupBy(tasks, (t) => t.state);
  const count = (s: string) => tasks.filter((t) => t.state === s).length;
  const started = tasks.reduce<number | null>(
    (m, t) => (t.startedAt && (m === null || t.startedAt < m) ? t.startedAt : m),
    null,
  );
  const terminal = d.state in CONCLUSIONS;
  const status = terminal ? 'completed' : started !== null ? 'in_progress' : 'queued';

  const title = `${d.release}: ${count('succeeded')}/${tasks.length} tasks succeeded${
    count('failed') + count('interrupted') ? `, ${count('failed') + count('interrupted')} failed` : ''
  }${count('running') ? `, ${count('running')} running` : ''}${count('queued') ? `, ${count('queued')} queued` : ''}`;
  const waitingRows = tasks
    .filter((t) => t.state === 'queued')
    .map((t) => `| ${cell(t.tenant ?? '(untenanted)')} | ${cell(mask(waiting.get(t.id) ?? 'queued'))} |`);
  const summary = [
    `Deployment \`${d.id}\` of **${d.project}** ${d.release} to **${d.environment}**: **${d.state}**`,
    '',
    '| state | tasks |',
    '| --- | --- |',
    ...[...byState].map(([s, ts]) => `| ${s} | ${ts.length} |`),
    ...(waitingRows.length
      ? ['', '### Waiting', '', '| tenant | waiting on |', '| --- | --- |', ...waitingRows]
      : []),
  ].join('\n');
  const text = [
    '| tenant | state | node | started | finished | message |',
    '| --- | --- | --- | --- | --- | --- |',
    ...tasks.map(
      (t) =>
        `| ${cell(t.tenant ?? '(untenanted)')} | ${t.state} | ${t.node ?? ''} | ${iso(t.startedAt)} | ${iso(t.finishedAt)} | ${cell(mask(t.message ?? ''))} |`,
    ),
  ].join('\n');

  return {
    name: checkRunName(d),
    status,
    ...(terminal ? { conclusion: CONCLUSIONS[d.state as keyof typeof CONCLUSIONS] } : {}),
    ...(started !== null ? { started_at: new Date(started).toISOString() } : {}),
    ...(terminal ? { completed_at: new Date(d.finishedAt ?? Date.now()).toISOString() } : {}),
    output: { title: cut(title, 255), summary: cut(summary), text: cut(text) },
  };
}

const iso = (ms: number | null) => (ms === null ? '' : new Date(ms).toISOString().slice(11, 19));

/** Failed actions in a stable order, so "the first n were sent" stays true across restarts. */
export function failedActions(actions: ActionRow[]): ActionRow[] {
  return actions
    .filter((a) => a.state === 'failed')
    .sort((a, b) => (a.finishedAt ?? 0) - (b.finishedAt ?? 0) || a.id.localeCompare(b.id));
}

export function annotationOf(d: DeploymentRow, a: ActionRow, tenant: string | null): Annotation {
  const mask = makeMask(secretValuesOf(d));
  return {
    path: ANNOTATION_PATH,
    start_line: 1,
    end_line: 1,
    annotation_level: 'failure',
    title: cut(`${tenant ?? 'task'}: step ${a.step}${a.target ? ` on ${a.target}` : ''} failed`, 255),
    message: cut(mask(a.message ?? `exit code ${a.exitCode}`), 64 * 1024 - 1),
  };
}
