// The load remote workers take off a coordinator: one deployment of
// BENCH_WORKER_TENANTS (default 400) tenants, each deploying a url package to
// two targets and running a script on each, once with the targets on the
// coordinator's own worker and once with them on two `flotilla worker`
// processes. Measured on the coordinator process only (/proc/<pid>/stat and
// /proc/<pid>/io): CPU seconds, bytes it read and wrote (sockets and files),
// and how many package downloads reached the feed.
import { createHash } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { sha256File } from '../src/client/packages.ts';
import {
  type ChildAgent,
  killChildren,
  spawnAgent,
  spawnCli,
  writeAgentConfig,
} from '../test/helpers/agent.ts';
import { http, type Json, removeTempDirs, tempDir, waitFor } from '../test/helpers/util.ts';
import { fmt } from './lib.ts';
import { makeArchive, startFeed } from './packages.ts';

const TENANTS = Number(process.env.BENCH_WORKER_TENANTS ?? 400);
const TOKEN = 'bench-worker-token';
const CAP = 20;

interface Usage {
  cpuSeconds: number;
  bytes: number;
}

function usage(pid: number): Usage {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const io = Object.fromEntries(
    readFileSync(`/proc/${pid}/io`, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(': ') as [string, string]),
  );
  return { cpuSeconds: ticks / 100, bytes: Number(io.rchar) + Number(io.wchar) };
}

async function once(mode: 'local' | 'workers', feedUrl: string, sha256: string) {
  const dir = tempDir(`flotilla-bench-workers-${mode}-`);
  const targets = ['web-1', 'web-2'];
  const config = writeAgentConfig(dir, {
    node: 'coord',
    taskCap: CAP,
    worker:
      mode === 'local' ? { targets: targets.map((name) => ({ name, roles: ['web'] })) } : { targets: [] },
    packages: { allowedHosts: ['127.0.0.1'] },
    ...(mode === 'workers'
      ? {
          auth: {
            tokens: [
              {
                name: 'w',
                sha256: createHash('sha256').update(TOKEN).digest('hex'),
                scopes: ['worker', 'deploy', 'read'],
              },
            ],
          },
        }
      : {}),
  });
  // The same action cap on each side: 2 x 10 on the workers, 20 locally.
  writeFileSync(
    config,
    readFileSync(config, 'utf8').replace(/^worker:\n/m, `worker:\n  maxActions: ${CAP}\n`),
  );
  const co: ChildAgent = await spawnAgent(config);
  if (mode === 'workers') {
    for (const [i, t] of targets.entries()) {
      const wdir = join(dir, `w${i}`);
      const wconfig = join(dir, `w${i}.yml`);
      writeFileSync(wconfig, stringify({ packages: { allowedHosts: ['127.0.0.1'] } }));
      spawnCli(
        [
          'worker',
          '--coordinator',
          co.url,
          '--token',
          TOKEN,
          '--name',
          `w${i}`,
          '--target',
          `${t}:web`,
          '--config',
          wconfig,
          '--data-dir',
          wdir,
          '--max-actions',
          String(CAP / 2),
        ],
        { env: { FLOTILLA_LOG_LEVEL: 'warn' } },
      );
    }
    await waitFor('workers online', async () => {
      const list = (await http(co.url, 'GET', '/v1/workers', { token: TOKEN })).json as { state: string }[];
      return list.filter((w) => w.state === 'online').length === targets.length + 1;
    });
  }
  const before = usage(co.pid);
  const t0 = performance.now();
  const submitted = await http(co.url, 'POST', '/v1/deployments', {
    token: TOKEN,
    json: {
      plan: {
        version: 1,
        project: 'bench',
        environment: 'perf',
        release: 'r1',
        tenants: Array.from({ length: TENANTS }, (_, i) => `t${i}`),
        concurrency: { bypassTargetMutex: true },
        packages: { app: { url: feedUrl, sha256 } },
        steps: [
          { name: 'install', deploy: 'app', targets: { roles: ['web'] } },
          { name: 'check', run: 'ls "$FLOTILLA_INSTALL_DIR" | wc -l', targets: { roles: ['web'] } },
        ],
      },
    },
  });
  if (submitted.status !== 201) throw new Error(`submission answered ${submitted.status}: ${submitted.text}`);
  const state = await waitFor(
    'the deployment to finish',
    async () => {
      const d = await http(co.url, 'GET', `/v1/deployments/${submitted.json.id}`, { token: TOKEN });
      return ['queued', 'running'].includes(d.json.state) ? undefined : (d.json.state as string);
    },
    30 * 60_000,
    1000,
  );
  const seconds = (performance.now() - t0) / 1000;
  const after = usage(co.pid);
  const cancelSeconds = await cancelLatency(co.url);
  await killChildren();
  return {
    seconds,
    cancelSeconds,
    state,
    cpuSeconds: after.cpuSeconds - before.cpuSeconds,
    bytes: after.bytes - before.bytes,
  };
}

/** Seconds from POST cancel to the action reported cancelled (its process stopped on the worker). */
async function cancelLatency(url: string): Promise<number> {
  const call = (method: string, path: string, json?: unknown) =>
    http(url, method, path, { token: TOKEN, ...(json ? { json } : {}) });
  const plan = {
    version: 1,
    project: 'bench',
    environment: 'cancel',
    release: 'r1',
    steps: [{ name: 'slow', run: 'sleep 60', targets: { roles: ['web'] } }],
  };
  const { json } = await call('POST', '/v1/deployments', { plan });
  const actions = async () => (await call('GET', `/v1/deployments/${json.id}`)).json.tasks[0]?.actions ?? [];
  await waitFor('the action running', async () => (await actions()).some((a: Json) => a.state === 'running'));
  const t0 = performance.now();
  await call('POST', `/v1/deployments/${json.id}/cancel`);
  await waitFor(
    'the action cancelled',
    async () => (await actions()).every((a: Json) => a.state === 'cancelled'),
    10_000,
    10,
  );
  return (performance.now() - t0) / 1000;
}

export async function workersBench() {
  const dir = tempDir('flotilla-bench-workers-');
  const archive = makeArchive(dir, 'app', 1);
  const packageBytes = statSync(archive).size;
  const sha256 = await sha256File(archive);
  const feed = await startFeed(archive);
  try {
    const local = await once('local', feed.url, sha256);
    const localDownloads = await feed.requests();
    const remote = await once('workers', feed.url, sha256);
    const workerDownloads = (await feed.requests()) - localDownloads;
    const cpuRatio = remote.cpuSeconds / local.cpuSeconds;
    return {
      name: `workers: ${TENANTS} tenants`,
      tenants: TENANTS,
      packageBytes,
      local: { ...local, downloads: localDownloads },
      workers: { ...remote, downloads: workerDownloads },
      cpuRatio,
      line:
        `workers (${TENANTS} tenants x 2 targets, ${fmt(packageBytes / 1e6, 1)} MB url package, ${2 * TENANTS * 2} actions): ` +
        `coordinator's own worker: ${fmt(local.cpuSeconds)} CPU s, ${fmt(local.bytes / 1e6, 1)} MB read+written, ${localDownloads} download(s), ${fmt(local.seconds)} s (${local.state}); ` +
        `two remote workers: coordinator ${fmt(remote.cpuSeconds)} CPU s (ratio ${fmt(cpuRatio)}), ${fmt(remote.bytes / 1e6, 1)} MB read+written, ` +
        `${workerDownloads} download(s) by the workers, ${fmt(remote.seconds)} s (${remote.state}); ` +
        `cancel to action cancelled: ${fmt(local.cancelSeconds, 3)} s local, ${fmt(remote.cancelSeconds, 3)} s on a worker (goal < 1 s)`,
    };
  } finally {
    feed.stop();
    await killChildren();
    removeTempDirs();
  }
}
