// Upload packages, on the client's side: each `upload:` file of a prepared
// plan is hashed (streaming), checked against the plan's sha256 when it
// gives one, and sent to the agent unless the agent has it already. The
// submission then carries the sha256, which is how the agent finds the file.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { PlanIssue } from '../plan/index.ts';
import type { AgentClient } from './client.ts';

type PackageBody = { upload?: string; sha256?: string };

export interface Upload {
  name: string;
  file: string;
  sha256: string;
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), hash);
  return hash.digest('hex');
}

/**
 * Hashes every upload package of a plan body and sets its sha256 there.
 * Paths are relative to `cwd` (the workspace, where the commands run).
 */
export async function hashUploads(
  body: Record<string, unknown>,
  cwd: string,
): Promise<{ uploads: Upload[]; issues: PlanIssue[] }> {
  const packages = (body.packages ?? {}) as Record<string, PackageBody>;
  const uploads: Upload[] = [];
  const issues: PlanIssue[] = [];
  for (const [name, p] of Object.entries(packages)) {
    if (typeof p.upload !== 'string') continue;
    const file = resolve(cwd, p.upload);
    const path = `/packages/${name}/upload`;
    let sha256: string;
    try {
      sha256 = await sha256File(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      issues.push({
        path,
        message: `package file ${file} cannot be read: ${code === 'ENOENT' ? 'it does not exist' : (err as Error).message}`,
      });
      continue;
    }
    if (p.sha256 && p.sha256 !== sha256) {
      issues.push({
        path: `/packages/${name}/sha256`,
        message: `${file} hashes to ${sha256}, not ${p.sha256}`,
      });
      continue;
    }
    p.sha256 = sha256;
    uploads.push({ name, file, sha256 });
  }
  return { uploads, issues };
}

/** Sends the packages the agent lacks; `say` reports each one. */
export async function uploadMissing(
  client: AgentClient,
  uploads: Upload[],
  say: (line: string) => void,
): Promise<void> {
  for (const u of uploads) {
    if (await client.hasPackage(u.sha256)) {
      say(`package ${u.name}: the agent has it already (sha256 ${u.sha256.slice(0, 12)}…)`);
      continue;
    }
    const t0 = performance.now();
    const r = await client.uploadPackage(u.sha256, u.file);
    say(`package ${u.name}: uploaded ${r.bytes} bytes in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  }
}
