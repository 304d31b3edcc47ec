// Puts an agent together from its settings: store, local worker, coordinator
// and HTTP API. Used by `flotilla agent`, by `flotilla run` (embedded) and by tests.
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { buildServer } from './api/server.ts';
import type { AgentSettings } from './config/settings.ts';
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
    throw new Error(
      'a shared PostgreSQL store (databaseUrl) is not available in this version; leave it unset',
    );
  }
  return new SqliteStore(settings.dataDir);
}

export async function startAgent(
  settings: AgentSettings,
  log: Logger = pino({ level: 'silent' }),
): Promise<RunningAgent> {
  const store = await openStore(settings);
  try {
    const worker = new LocalWorker({
      name: settings.node,
      pools: settings.worker.pools,
      targets: settings.worker.targets,
      workDir: join(settings.dataDir, 'work'),
      killGraceMs: settings.killGraceMs,
    });
    const coordinator = new Coordinator({
      store,
      node: settings.node,
      taskCap: settings.taskCap,
      worker,
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
    });
    await coordinator.start();
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
          worker.close();
          await server.close();
          await store.close();
        })();
        return stopped;
      },
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}
