// Submits a prepared plan and follows it to the end with live progress: a line
// per transition, and on a TTY a one-line counter that redraws in place.
import type { AgentClient } from '../../../src/client/client.ts';
import { uploadMissing } from '../../../src/client/packages.ts';
import { preparePlan } from '../../../src/client/prepare.ts';
import { DeploymentProgress, formatTable } from '../../../src/client/progress.ts';
import { formatIssue } from '../../../src/plan/index.ts';

export interface SubmitFlags {
  release?: string;
  environment?: string;
  tenant?: string[];
}

export interface Out {
  line: (text: string) => void;
  /** Why a command failed: stderr, so that what a script reads from stdout is only the output. */
  error: (text: string) => void;
  tty: boolean;
  status?: (text: string) => void;
}

/** Returns the deployment id, or null after printing why the plan was refused. */
export async function submitPlanFile(
  client: AgentClient,
  file: string,
  flags: SubmitFlags,
  out: Out,
): Promise<string | null> {
  const prepared = await preparePlan(file, process.cwd());
  if (!prepared.ok) {
    for (const issue of prepared.issues) out.error(formatIssue(file, issue));
    return null;
  }
  await uploadMissing(client, prepared.uploads, out.line);
  const r = await client.submit({
    plan: prepared.body,
    release: flags.release,
    environment: flags.environment,
    tenants: flags.tenant,
  });
  out.line(`deployment ${r.id}: ${r.tasks.length} task${r.tasks.length === 1 ? '' : 's'} queued (${r.url})`);
  return r.id;
}

/** Follows to the end; returns the final state. */
export async function followDeployment(client: AgentClient, id: string, out: Out): Promise<string> {
  const progress = new DeploymentProgress();
  const { status } = out;
  // On a terminal, a counter stays on the last line: lines are printed above
  // it, and it is drawn again at once after them, else at most every 100 ms.
  let drawnAt = 0;
  let drawn = false;
  await client.follow(id, (e) => {
    const lines = progress.apply(e);
    if (!out.tty || !status) {
      for (const l of lines) out.line(l);
      return;
    }
    if (lines.length > 0) {
      status('');
      for (const l of lines) out.line(l);
      drawn = false;
    }
    if (progress.tasks.size === 0 || (drawn && Date.now() - drawnAt <= 100)) return;
    const c = progress.counts();
    status(
      `${progress.tasks.size} tasks: ${['running', 'queued', 'succeeded', 'failed'].map((s) => `${c[s] ?? 0} ${s}`).join(', ')}`,
    );
    drawnAt = Date.now();
    drawn = true;
  });
  if (out.tty && status) status('');
  const view = await client.deployment(id);
  const rows = [['TENANT', 'STATE', 'STARTED', 'FINISHED', 'MESSAGE']];
  for (const t of view.tasks) {
    rows.push([
      t.tenant ?? '-',
      t.state,
      t.startedAt?.slice(11, 19) ?? '-',
      t.finishedAt?.slice(11, 19) ?? '-',
      t.message ?? '',
    ]);
  }
  out.line(formatTable(rows.length > 51 ? [...rows.slice(0, 51), [`… ${rows.length - 51} more`]] : rows));
  return view.state;
}
