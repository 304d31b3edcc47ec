// Reading a plan (or any YAML/JSON document) from disk without trusting it: the
// size is checked before the file is read, so a 50 MB document costs nothing.
import { readFile, stat } from 'node:fs/promises';
import { type PlanResult, validatePlanValue } from './load.ts';
import { formatBytes, MAX_PLAN_BYTES, type PlanIssue, parsePlanSource, type SourceResult } from './source.ts';

export async function readDocumentFile(path: string, what = 'plan'): Promise<SourceResult> {
  const fail = (message: string): SourceResult => ({ ok: false, issues: [{ path: '/', message }] });
  try {
    const info = await stat(path);
    if (!info.isFile()) return fail(`${path} is not a file`);
    if (info.size > MAX_PLAN_BYTES)
      return fail(`the ${what} is ${formatBytes(info.size)}; the limit is 1 MiB`);
    return parsePlanSource(await readFile(path, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return fail(`${what} file ${path} does not exist`);
    if (code === 'EACCES') return fail(`${what} file ${path} cannot be read (permission denied)`);
    return fail(`${what} file ${path} cannot be read: ${(err as Error).message}`);
  }
}

export async function loadPlanFile(path: string): Promise<PlanResult> {
  const source = await readDocumentFile(path);
  return source.ok ? validatePlanValue(source.value, source.locate) : source;
}

/** `file:line:column: /path: message`, the form editors and GitHub annotations understand. */
export function formatIssue(file: string, issue: PlanIssue): string {
  const where = issue.line ? `${file}:${issue.line}:${issue.column ?? 1}` : file;
  return `${where}: ${issue.path}: ${issue.message}`;
}
