// Prepares a plan file for submission, on the client's side: the plan is
// checked here (with line numbers), and script paths, which mean files next to
// the plan on this machine, are replaced by the scripts' text, since the agent
// cannot see this machine's files.
import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import {
  type Plan,
  type PlanIssue,
  parseScript,
  readDocumentFile,
  validatePlanValue,
} from '../plan/index.ts';

import { hashUploads, type Upload } from './packages.ts';

const MAX_SCRIPT_BYTES = 1024 * 1024;

export type PreparedPlan =
  | { ok: true; plan: Plan; body: Record<string, unknown>; uploads: Upload[] }
  | { ok: false; issues: PlanIssue[] };

/**
 * `workspace` is where `upload:` paths start (where the commands run: the
 * repository root in a workflow); each upload file is hashed and its sha256
 * set in the body, ready for `uploadMissing`.
 */
export async function preparePlan(path: string, workspace: string): Promise<PreparedPlan> {
  const source = await readDocumentFile(path);
  if (!source.ok) return source;
  const checked = validatePlanValue(source.value, source.locate);
  if (!checked.ok) return checked;
  const body = structuredClone(source.value) as { steps: { run?: string }[] } & Record<string, unknown>;
  const issues: PlanIssue[] = [];
  for (const [i, step] of body.steps.entries()) {
    if (typeof step.run !== 'string') continue;
    const script = parseScript(step.run);
    if (!('path' in script)) continue;
    const file = resolve(dirname(path), script.path);
    try {
      const info = await stat(file);
      if (info.size > MAX_SCRIPT_BYTES) throw new Error(`it is larger than 1 MiB`);
      // A leading comment keeps the origin visible in logs and makes the text inline for the agent.
      step.run = `# ${script.path}\n${await readFile(file, 'utf8')}`;
    } catch (err) {
      const why =
        (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : (err as Error).message;
      issues.push({
        path: `/steps/${i}/run`,
        message: `script ${file} cannot be read: ${why}`,
        ...source.locate(['steps', i, 'run']),
      });
    }
  }
  const hashed = await hashUploads(body, workspace);
  issues.push(...hashed.issues);
  return issues.length
    ? { ok: false, issues }
    : { ok: true, plan: checked.plan, body, uploads: hashed.uploads };
}
