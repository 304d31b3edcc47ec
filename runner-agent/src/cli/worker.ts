// `flotilla worker`: a remote worker on a self-hosted runner until SIGTERM, which drains.
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { formatIssue, type Target } from '../../../src/plan/index.ts';
import { inventoryOf, loadAgentConfigFile } from '../config/load.ts';
import type { AgentConfigInput } from '../config/schema.ts';
import { parseBytes, SettingsError } from '../config/settings.ts';
import { RemoteWorkerProcess, WorkerRefused, type WorkerSettings } from '../worker/serve.ts';
import { cliLogger } from './log.ts';

export interface WorkerFlags {
  coordinator?: string;
  token?: string;
  name?: string;
  pool?: string[];
  target?: string[];
  root?: string;
  config?: string;
  dataDir?: string;
  maxActions?: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Flags over the config file's `worker`, `packages` and `dataDir` (the agent config format). */
export async function resolveWorkerSettings(
  flags: WorkerFlags,
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): Promise<WorkerSettings> {
  const problems: string[] = [];
  let file: AgentConfigInput = {};
  let baseDir = cwd;
  if (flags.config) {
    const loaded = await loadAgentConfigFile(resolve(cwd, flags.config));
    if (!loaded.ok) throw new SettingsError(loaded.issues.map((i) => formatIssue(flags.config!, i)));
    file = loaded.config;
    baseDir = dirname(resolve(cwd, flags.config));
  }
  const coordinator = flags.coordinator ?? env.FLOTILLA_COORDINATOR;
  if (!coordinator || !/^https?:\/\/[^/]+/.test(coordinator))
    problems.push(
      `--coordinator must be the coordinator's URL (http://host:port), not "${coordinator ?? ''}"`,
    );
  const name = flags.name ?? file.node ?? hostname();
  if (!NAME.test(name)) problems.push(`worker name "${name}" may use letters, digits, ".", "_" and "-"`);
  const dataDir = flags.dataDir
    ? resolve(cwd, flags.dataDir)
    : resolve(baseDir, file.dataDir ?? '.flotilla-worker');
  const rootDir = resolve(cwd, flags.root ?? join(dataDir, 'targets'));
  const targets: Target[] = inventoryOf({ ...file, dataDir }, baseDir);
  for (const spec of flags.target ?? []) {
    const m = /^([A-Za-z0-9][A-Za-z0-9._-]*):([^,\s]+(?:,[^,\s]+)*)$/.exec(spec);
    if (!m) {
      problems.push(`--target must be name:role[,role…] (e.g. web-1:web,api), not "${spec}"`);
      continue;
    }
    targets.push({ name: m[1]!, roles: m[2]!.split(','), host: m[1]!, root: join(rootDir, m[1]!) });
  }
  const maxText = flags.maxActions ?? String(file.worker?.maxActions ?? 10);
  if (!/^[1-9]\d*$/.test(maxText))
    problems.push(`--max-actions must be a whole number from 1, not "${maxText}"`);
  if (problems.length) throw new SettingsError(problems);
  const packages = file.packages ?? {};
  return {
    coordinator: coordinator!.replace(/\/+$/, ''),
    token: flags.token ?? env.FLOTILLA_TOKEN,
    name,
    pools: flags.pool?.length ? flags.pool : (file.worker?.pools ?? ['default']),
    targets,
    maxActions: Number(maxText),
    dataDir,
    killGraceMs: Number(env.FLOTILLA_KILL_GRACE_MS ?? 10_000),
    packages: {
      dir: packages.cacheDir ? resolve(baseDir, packages.cacheDir) : join(dataDir, 'packages'),
      maxCacheBytes: parseBytes(packages.maxCacheBytes ?? '20GB'),
      maxPackageBytes: parseBytes(packages.maxPackageBytes ?? '4GB'),
      allowedHosts: packages.allowedHosts ?? [],
      attempts: 4,
      backoffMs: Number(env.FLOTILLA_RETRY_BACKOFF_MS ?? 1000),
      stallTimeoutMs: Number(env.FLOTILLA_PACKAGE_STALL_MS ?? 30_000),
    },
  };
}

export async function workerCommand(flags: WorkerFlags): Promise<number> {
  const settings = await resolveWorkerSettings(flags);
  const log = cliLogger();
  const worker = new RemoteWorkerProcess(settings, log);
  // The first signal drains, as the agent's does; a second one stops what still runs.
  let signals = 0;
  const onSignal = (sig: string) => {
    if (++signals === 1) {
      log.info(
        { signal: sig },
        'draining: running actions finish, nothing new is taken; signal again to stop them',
      );
      worker.drain();
    } else {
      log.info({ signal: sig }, 'stopping: running actions are stopped, the coordinator retries them');
      void worker.stop();
    }
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    await worker.run();
  } catch (err) {
    if (!(err instanceof WorkerRefused)) throw err;
    console.error(`flotilla: the coordinator refused this worker: ${err.message}`);
    await worker.stop();
    return 2;
  }
  await worker.stop();
  log.info('stopped');
  return 0;
}
