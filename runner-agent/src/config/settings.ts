// The agent's settings: defaults < config file < environment < flags, in one
// typed object. Nothing else reads flags or FLOTILLA_* variables.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { durationMs, formatIssue, type Target } from '../../../src/plan/index.ts';
import type { AuthSettings } from '../api/auth.ts';
import type { GithubSettings } from '../github/octokit.ts';
import type { CacheSettings } from '../packages/cache.ts';
import { inventoryOf, loadAgentConfigFile } from './load.ts';
import type { AgentConfigInput } from './schema.ts';

export interface AgentFlags {
  config?: string;
  listen?: string;
  dataDir?: string;
  databaseUrl?: string;
  node?: string;
  taskCap?: string;
  leaseTtl?: string;
}

export interface AgentSettings {
  node: string;
  listen: { host: string; port: number };
  dataDir: string;
  databaseUrl?: string;
  taskCap: number;
  leaseTtlMs: number;
  retryBackoffMs: number;
  killGraceMs: number;
  /** An API connection that moves no byte for this long is closed. */
  idleTimeoutMs: number;
  /** maxActions: the worker's action cap; absent on an agent's own worker unless configured. */
  worker: { pools: string[]; targets: Target[]; maxActions?: number };
  packages: CacheSettings;
  auth: AuthSettings;
  github: GithubSettings;
}

export class SettingsError extends Error {
  readonly issues: string[];
  constructor(issues: string[]) {
    super(issues.join('\n'));
    this.issues = issues;
  }
}

const ENV: Record<keyof AgentFlags, string> = {
  config: 'FLOTILLA_CONFIG',
  listen: 'FLOTILLA_LISTEN',
  dataDir: 'FLOTILLA_DATA_DIR',
  databaseUrl: 'FLOTILLA_DATABASE_URL',
  node: 'FLOTILLA_NODE',
  taskCap: 'FLOTILLA_TASK_CAP',
  leaseTtl: 'FLOTILLA_LEASE_TTL',
};

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|\[::1\]|localhost)$/;

export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}

export async function resolveAgentSettings(
  flags: AgentFlags,
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): Promise<AgentSettings> {
  const pick = (k: keyof AgentFlags) => flags[k] ?? env[ENV[k]] ?? undefined;
  const problems: string[] = [];
  let file: AgentConfigInput = {};
  let baseDir = cwd;
  const configPath = pick('config');
  if (configPath) {
    const loaded = await loadAgentConfigFile(resolve(cwd, configPath));
    if (!loaded.ok) throw new SettingsError(loaded.issues.map((i) => formatIssue(configPath, i)));
    file = loaded.config;
    baseDir = dirname(resolve(cwd, configPath));
  }

  const listenText = pick('listen') ?? file.listen ?? '127.0.0.1:8420';
  const listen = parseListen(listenText);
  if (!listen) problems.push(`listen must be host:port (e.g. 127.0.0.1:8420), not "${listenText}"`);

  const capText = pick('taskCap') ?? (file.taskCap === undefined ? '5' : String(file.taskCap));
  if (!/^\d+$/.test(capText)) problems.push(`task cap must be a whole number from 0, not "${capText}"`);

  const ttlText = pick('leaseTtl') ?? (file.leaseTtl === undefined ? '30s' : String(file.leaseTtl));
  const leaseTtlMs = /^\d+(\.\d+)?$/.test(ttlText) ? Number(ttlText) * 1000 : durationMs(ttlText);
  if (!(leaseTtlMs >= 1000))
    problems.push(`leaseTtl must be a duration of at least 1s (e.g. 30s), not "${ttlText}"`);

  const node = pick('node') ?? file.node ?? hostname();
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(node))
    problems.push(`node name "${node}" may use letters, digits, ".", "_" and "-"`);

  // Paths from the config file are relative to it; paths from flags, to the working directory.
  const dataDirFlag = flags.dataDir ?? env.FLOTILLA_DATA_DIR;
  const dataDir = dataDirFlag ? resolve(cwd, dataDirFlag) : resolve(baseDir, file.dataDir ?? '.flotilla');

  const auth: AuthSettings = {
    tokens: (file.auth?.tokens ?? []).map((t) => ({ name: t.name, sha256: t.sha256, scopes: t.scopes })),
    oidc: file.auth?.oidc && {
      ...file.auth.oidc,
      allow: file.auth.oidc.allow.map(({ repository_id, ...rule }) => ({
        ...rule,
        ...(repository_id === undefined ? {} : { repository_id: String(repository_id) }),
      })),
    },
  };
  const hasAuth = auth.tokens.length > 0 || file.auth?.oidc !== undefined;
  if (listen && !isLoopback(listen.host) && !hasAuth) {
    problems.push(
      `refusing to listen on ${listen.host}:${listen.port} without auth: anyone who reaches it could deploy. ` +
        'Configure auth.tokens or auth.oidc in the config file, or listen on 127.0.0.1.',
    );
  }
  const packages = file.packages ?? {};
  const maxCacheBytes = parseBytes(packages.maxCacheBytes ?? '20GB');
  const maxPackageBytes = parseBytes(packages.maxPackageBytes ?? '4GB');
  let app: GithubSettings['app'];
  if (file.github?.app) {
    const keyFile = resolve(baseDir, file.github.app.privateKeyFile);
    try {
      app = { id: file.github.app.id, privateKey: readFileSync(keyFile, 'utf8') };
    } catch (err) {
      problems.push(`github.app.privateKeyFile ${keyFile} cannot be read: ${(err as Error).message}`);
    }
  }
  const checkIntervalMs = Number(env.FLOTILLA_CHECK_RUN_INTERVAL_MS ?? 10_000);
  if (!(checkIntervalMs >= 0))
    problems.push(
      `FLOTILLA_CHECK_RUN_INTERVAL_MS must be milliseconds, not "${env.FLOTILLA_CHECK_RUN_INTERVAL_MS}"`,
    );
  if (problems.length) throw new SettingsError(problems);

  return {
    node,
    listen: listen!,
    dataDir,
    databaseUrl: pick('databaseUrl') ?? file.databaseUrl,
    taskCap: Number(capText),
    leaseTtlMs,
    retryBackoffMs: Number(env.FLOTILLA_RETRY_BACKOFF_MS ?? 1000),
    killGraceMs: Number(env.FLOTILLA_KILL_GRACE_MS ?? 10_000),
    idleTimeoutMs: Number(env.FLOTILLA_IDLE_TIMEOUT_MS ?? 60_000),
    worker: {
      pools: file.worker?.pools ?? ['default'],
      ...(file.worker?.maxActions ? { maxActions: file.worker.maxActions } : {}),
      targets: inventoryOf({ ...file, dataDir }, baseDir),
    },
    packages: {
      dir: packages.cacheDir ? resolve(baseDir, packages.cacheDir) : join(dataDir, 'packages'),
      maxCacheBytes,
      maxPackageBytes,
      allowedHosts: packages.allowedHosts ?? [],
      attempts: 4,
      backoffMs: Number(env.FLOTILLA_RETRY_BACKOFF_MS ?? 1000),
      stallTimeoutMs: Number(env.FLOTILLA_PACKAGE_STALL_MS ?? 30_000),
    },
    auth,
    github: { apiUrl: file.github?.apiUrl ?? 'https://api.github.com', app, checkIntervalMs },
  };
}

function parseListen(text: string): { host: string; port: number } | null {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(text.trim());
  if (!m) return null;
  const port = Number(m[2]);
  if (port > 65535) return null;
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/** A size as the config schema accepts it: bytes, or like 500MB, 20GB, 2GiB. */
export function parseBytes(size: number | string): number {
  if (typeof size === 'number') return size;
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(size.trim())!;
  return Math.floor(Number(m[1]) * (UNITS[(m[2] || 'b').toLowerCase()] ?? 1));
}
