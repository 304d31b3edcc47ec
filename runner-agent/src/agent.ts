// Puts an agent together from its settings: store, local worker, coordinator
// and HTTP API. Used by `flotilla agent`, by `flotilla run` (embedded) and by tests.
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { buildServer } from './api/server.ts';
import type { AgentSettings } from './config/settings.ts';
import { CheckRunReporter } from './github/reporter.ts';
import { PackageCache } from './packages/cache.ts';
import { Coordinator } from './scheduler/coordinator.ts';
import { SqliteStore } from './store/sqlite.ts';
import type { Store } from './store/types.ts';
import { LocalWorker } from './worker/local.ts';

export interface RunningAgent {
  coordinator: Coordinator;
  url: string;
  /** Stops taking tasks, waits for running ones, closes the API and the store. */
  stop(): Promise<void>;
}

export async function openStore(settings: AgentSettings): Promise<Store> {
  if (settings.databaseUrl) {
    // Loaded only by nodes that share a database: one-node agents never load the driver.
    const { openPostgresStore } = await import('./store/postgres.ts');
    return openPostgresStore(settings.databaseUrl, { applicationName: `flotilla ${settings.node}` });
  }
  return new SqliteStore(settings.dataDir);
}

export async function startAgent(
  settings: AgentSettings,
  log: Logger = pino({ level: 'silent' }),
): Promise<RunningAgent> {
  const store = await openStore(settings);
  const packages = new PackageCache(settings.packages);
  try {
    await packages.open();
    const worker = new LocalWorker({
      name: settings.node,
      pools: settings.worker.pools,
      targets: settings.worker.targets,
      workDir: join(settings.dataDir, 'work'),
      killGraceMs: settings.killGraceMs,
      packages,
    });
    const coordinator = new Coordinator({
      store,
      node: settings.node,
      taskCap: settings.taskCap,
      worker,
      localMaxActions: settings.worker.maxActions,
      log,
      leaseTtlMs: settings.leaseTtlMs,
      retryBackoffMs: settings.retryBackoffMs,
    });
    coordinator.signals.on('error', (err) => log.error({ err }, 'request failed'));
    let url = '';
    const server = buildServer({
      coordinator,
      auth: settings.auth,
      leaseTtlMs: settings.leaseTtlMs,
      baseUrl: () => url,
      packages,
      idleTimeoutMs: settings.idleTimeoutMs,
    });
    const reporter = new CheckRunReporter({
      store,
      events: coordinator.events,
      github: settings.github,
      waitingOn: () => coordinator.waitingOn(),
      baseUrl: () => url,
      log,
    });
    await coordinator.start();
    reporter.start();
    const address = await server.listen({ host: settings.listen.host, port: settings.listen.port });
    url = address;
    log.info({ url, node: settings.node, taskCap: coordinator.taskCap }, 'agent ready');
    let stopped: Promise<void> | null = null;
    return {
      coordinator,
      url,
      stop: () => {
        stopped ??= (async () => {
          await coordinator.stop();
          await reporter.stop();
          await worker.close();
          await server.close();
          await packages.close();
          await store.close();
        })();
        return stopped;
      },
    };
  } catch (err) {
    await packages.close();
    await store.close();
    throw err;
  }
}
