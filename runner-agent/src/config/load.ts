// flotilla.yml in, a checked configuration out, with every problem located.
import { resolve } from 'node:path';
import {
  type PlanIssue,
  readDocumentFile,
  type Target,
  toPointer,
  zodIssues,
} from '../../../src/plan/index.ts';
import { type AgentConfigInput, agentConfigSchema } from './schema.ts';

export type AgentConfigResult = { ok: true; config: AgentConfigInput } | { ok: false; issues: PlanIssue[] };

export async function loadAgentConfigFile(path: string): Promise<AgentConfigResult> {
  const source = await readDocumentFile(path, 'agent config');
  if (!source.ok) return source;
  const parsed = agentConfigSchema.safeParse(source.value ?? {});
  if (parsed.success) return { ok: true, config: parsed.data };
  return {
    ok: false,
    issues: zodIssues(parsed.error, source.value).map((i) => ({
      path: toPointer(i.path),
      message: i.message,
      ...source.locate(i.path),
    })),
  };
}

/** The targets this agent's own worker hosts; a target's root defaults to <dataDir>/targets/<name>. */
export function inventoryOf(config: AgentConfigInput, baseDir: string): Target[] {
  const dataDir = resolve(baseDir, config.dataDir ?? '.flotilla');
  return (config.worker?.targets ?? []).map((t) => ({
    name: t.name,
    roles: t.roles,
    host: t.host ?? t.name,
    root: resolve(baseDir, t.root ?? `${dataDir}/targets/${t.name}`),
    ...(t.tenants ? { tenants: t.tenants } : {}),
  }));
}
