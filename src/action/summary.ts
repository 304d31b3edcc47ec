// The job summary: counts, a table per task, and a Mermaid Gantt chart of the
// tasks' timeline (queued tasks that never ran have no bar).
import type { DeploymentView, TaskView } from '../client/types.ts';

/** Mermaid renders slowly past a few hundred bars; the table still lists every task. */
const GANTT_MAX_TASKS = 150;

const seconds = (t: TaskView) =>
  t.startedAt && t.finishedAt
    ? `${Math.round((Date.parse(t.finishedAt) - Date.parse(t.startedAt)) / 1000)}s`
    : '';

/** Markdown table cells may not hold pipes or newlines. */
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

export function taskTable(tasks: TaskView[]): string {
  const rows = tasks.map((t) =>
    [
      t.tenant ?? '(untenanted)',
      t.state,
      t.node ?? '',
      t.startedAt?.slice(11, 19) ?? '',
      seconds(t),
      t.waitingOn ?? t.message ?? '',
    ]
      .map(cell)
      .join(' | '),
  );
  return [
    '| tenant | state | node | started (UTC) | duration | waiting on / message |',
    '| --- | --- | --- | --- | --- | --- |',
  ]
    .concat(rows.map((r) => `| ${r} |`))
    .join('\n');
}

export function gantt(d: DeploymentView): string {
  const ran = d.tasks.filter((t) => t.startedAt);
  if (ran.length === 0) return '';
  const shown = ran.slice(0, GANTT_MAX_TASKS);
  const tag = (t: TaskView) =>
    t.state === 'succeeded'
      ? 'done, '
      : t.state === 'running'
        ? 'active, '
        : t.state === 'queued'
          ? ''
          : 'crit, ';
  // Mermaid task names end at ':' and lines at '#' or ';'.
  const name = (t: TaskView) => (t.tenant ?? 'task').replace(/[:#;]/g, ' ');
  const lines = [
    '```mermaid',
    'gantt',
    `  title ${d.project} → ${d.environment} ${d.release}`.replace(/[:#;]/g, ' '),
    '  dateFormat x',
    '  axisFormat %H:%M:%S',
    '  section tasks',
    ...shown.map(
      (t) =>
        `  ${name(t)} :${tag(t)}${Date.parse(t.startedAt!)}, ${Date.parse(t.finishedAt ?? new Date().toISOString())}`,
    ),
    '```',
  ];
  if (ran.length > shown.length)
    lines.push(`_the chart shows the first ${shown.length} of ${ran.length} tasks_`);
  return lines.join('\n');
}

export function summaryMarkdown(d: DeploymentView): string {
  const counts = Map.groupBy(d.tasks, (t) => t.state);
  return [
    `## Flotilla: ${d.project} → ${d.environment} ${d.release}`,
    '',
    `Deployment [${d.id}](${d.url}) **${d.state}**: ${[...counts].map(([s, ts]) => `${ts.length} ${s}`).join(', ')}`,
    '',
    gantt(d),
    '',
    taskTable(d.tasks),
    '',
  ].join('\n');
}
