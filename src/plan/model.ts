// The normalised plan: every default applied, every shorthand expanded. This
// is what the agent stores and schedules; PlanInput is only what users write.
import type { PlanInput, StepInput } from './schema.ts';

export const DEFAULTS = {
  maxParallelism: 10,
  acquireParallelism: 10,
  retries: 0,
  timeoutMs: 60 * 60 * 1000,
  keepReleases: 3,
  pool: 'default',
  tenantedTag: '#{tenant}/#{project}/#{environment}',
  untenantedTag: '#{project}/#{environment}',
} as const;

export interface Tenant {
  name: string;
  tags: Record<string, string>;
  variables: Record<string, string>;
}

export type MaxFailures = { count: number } | { percent: number };

interface StepBase {
  name: string;
  window: number;
  maxFailures: MaxFailures;
  retries: number;
  timeoutMs: number;
  continueOnError: boolean;
  variables: Record<string, string>;
}

/** A script is either inline bash or a path relative to the plan file. */
export type Script = { inline: string } | { path: string };

export type Step =
  | (StepBase & { kind: 'run'; on: 'worker'; pool: string; script: Script })
  | (StepBase & { kind: 'run'; on: 'targets'; roles: string[]; script: Script })
  | (StepBase & { kind: 'deploy'; on: 'targets'; roles: string[]; package: string; keepReleases: number });

export type Package =
  | { name: string; source: 'url'; url: string; sha256: string; allowSymlinks: boolean }
  | { name: string; source: 'upload'; upload: string; sha256?: string; allowSymlinks: boolean };

export interface Plan {
  version: 1;
  project: string;
  environment?: string;
  release?: string;
  /** null for an untenanted plan (one task). */
  tenants: Tenant[] | null;
  concurrency: {
    tag: string;
    maxParallelism: number;
    acquireParallelism: number;
    bypassTargetMutex: boolean;
    maxRunningTasks: number;
  };
  priority: 'normal' | 'high';
  supersede: boolean;
  onInterrupt: 'fail' | 'requeue';
  packages: Record<string, Package>;
  variables: Record<string, string>;
  secrets: string[];
  steps: Step[];
}

// A single line naming a .sh/.bash file, with no spaces, is a script path;
// anything else is script text. `./deploy.sh` is a path, `bash deploy.sh` text.
const SCRIPT_PATH = /^[\w./-]+\.(?:sh|bash)$/;

export function parseScript(run: string): Script {
  const trimmed = run.trim();
  return SCRIPT_PATH.test(trimmed) ? { path: trimmed } : { inline: run };
}

export function durationMs(d: number | string): number {
  if (typeof d === 'number') return Math.round(d * 1000);
  let ms = 0;
  for (const [, n, unit] of d.matchAll(/(\d+)(ms|h|m|s)/g)) {
    ms += Number(n) * ({ h: 3_600_000, m: 60_000, s: 1000, ms: 1 } as const)[unit as 'h' | 'm' | 's' | 'ms'];
  }
  return ms;
}

function stringVars(vars: Record<string, string | number | boolean> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(vars ?? {})) out[k] = String(v);
  return out;
}

function maxFailures(v: number | string | undefined): MaxFailures {
  if (v === undefined) return { count: 0 };
  if (typeof v === 'number') return { count: v };
  return { percent: Number.parseFloat(v) };
}

function normalizeStep(s: StepInput, maxParallelism: number): Step {
  const base: StepBase = {
    name: s.name,
    window: s.window ?? maxParallelism,
    maxFailures: maxFailures(s.maxFailures),
    retries: s.retries ?? DEFAULTS.retries,
    timeoutMs: s.timeout === undefined ? DEFAULTS.timeoutMs : durationMs(s.timeout),
    continueOnError: s.continueOnError ?? false,
    variables: stringVars(s.variables),
  };
  if (s.deploy !== undefined) {
    return {
      ...base,
      kind: 'deploy',
      on: 'targets',
      roles: s.targets?.roles ?? [],
      package: s.deploy,
      keepReleases: s.keepReleases ?? DEFAULTS.keepReleases,
    };
  }
  const script = parseScript(s.run ?? '');
  if (s.on === 'worker') return { ...base, kind: 'run', on: 'worker', pool: s.pool ?? DEFAULTS.pool, script };
  return { ...base, kind: 'run', on: 'targets', roles: s.targets?.roles ?? [], script };
}

/** Applies defaults to a plan that passed planSchema and checkPlan. */
export function normalizePlan(input: PlanInput): Plan {
  const tenants =
    input.tenants?.map((t) =>
      typeof t === 'string'
        ? { name: t, tags: {}, variables: {} }
        : { name: t.name, tags: { ...t.tags }, variables: stringVars(t.variables) },
    ) ?? null;
  const maxParallelism = input.concurrency?.maxParallelism ?? DEFAULTS.maxParallelism;
  const packages: Record<string, Package> = {};
  for (const [name, p] of Object.entries(input.packages ?? {})) {
    packages[name] =
      'url' in p
        ? { name, source: 'url', url: p.url, sha256: p.sha256, allowSymlinks: p.allowSymlinks ?? false }
        : {
            name,
            source: 'upload',
            upload: p.upload,
            sha256: p.sha256,
            allowSymlinks: p.allowSymlinks ?? false,
          };
  }
  return {
    version: 1,
    project: input.project,
    environment: input.environment,
    release: input.release,
    tenants,
    concurrency: {
      tag: input.concurrency?.tag ?? (tenants ? DEFAULTS.tenantedTag : DEFAULTS.untenantedTag),
      maxParallelism,
      acquireParallelism: input.concurrency?.acquireParallelism ?? DEFAULTS.acquireParallelism,
      bypassTargetMutex: input.concurrency?.bypassTargetMutex ?? false,
      maxRunningTasks: input.concurrency?.maxRunningTasks ?? 0,
    },
    priority: input.priority ?? 'normal',
    supersede: input.supersede ?? false,
    onInterrupt: input.onInterrupt ?? 'fail',
    packages,
    variables: stringVars(input.variables),
    secrets: input.secrets ?? [],
    steps: input.steps.map((s) => normalizeStep(s, maxParallelism)),
  };
}
