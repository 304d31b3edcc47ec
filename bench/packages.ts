// Package acquisition and extraction against the tools people would use by
// hand, run in the same script on the same archive, plus 400 tenants asking a
// worker for one package at once. The archive (BENCH_PACKAGE_MB, default 300)
// is generated in a temp dir: files of random bytes with some text, packed
// with GNU tar and gzip. The feed is a separate node:http process on
// 127.0.0.1, so both sides download from the same server.
import { execFileSync, execSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { PackageCache } from '../runner-agent/src/packages/cache.ts';
import { extractArchive } from '../runner-agent/src/packages/extract.ts';
import type { AcquireReport } from '../runner-agent/src/worker/types.ts';
import { sha256File } from '../src/client/packages.ts';
import { benchAgent, fmt } from './lib.ts';

const MB = Number(process.env.BENCH_PACKAGE_MB ?? 300);
const TENANTS = Number(process.env.BENCH_PACKAGE_TENANTS ?? 400);
const TENANT_PACKAGE_MB = Number(process.env.BENCH_TENANT_PACKAGE_MB ?? 5);
const RUNS = 3;

/** A gzipped tar of about `mb` MB: 1 MiB files, seven eighths random bytes and one eighth text. */
export function makeArchive(dir: string, name: string, mb: number): string {
  const src = join(dir, `${name}-src`);
  const text = Buffer.from('flotilla deploys packages to tenants; '.repeat(4096)).subarray(0, 1 << 17);
  for (let i = 0; i < Math.ceil((mb * 1e6) / ((7 / 8) * (1 << 20))); i++) {
    const sub = join(src, `d${Math.floor(i / 50)}`);
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `f${i}.bin`), Buffer.concat([randomBytes((7 << 20) / 8), text]));
  }
  const archive = join(dir, `${name}.tar.gz`);
  execSync(`tar -C ${src} -cf - . | gzip -1 > ${archive}`);
  rmSync(src, { recursive: true, force: true });
  return archive;
}

const FEED = `
const http = require('node:http'), fs = require('node:fs');
let requests = 0;
const server = http.createServer((req, res) => {
  if (req.url === '/requests') return res.end(String(requests));
  requests++;
  const file = process.argv[1];
  res.writeHead(200, { 'content-length': fs.statSync(file).size });
  fs.createReadStream(file, { highWaterMark: 1 << 20 }).pipe(res);
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

export async function startFeed(file: string) {
  const child = spawn(process.execPath, ['-e', FEED, file], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) =>
    child.stdout.once('data', (d) => resolve(Number(String(d).trim()))),
  );
  const url = `http://127.0.0.1:${port}/package.tar.gz`;
  return {
    url,
    requests: async () => Number(await (await fetch(`http://127.0.0.1:${port}/requests`)).text()),
    stop: () => child.kill(),
  };
}

const time = async (fn: () => unknown): Promise<number> => {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
};
const best = (xs: number[]) => Math.min(...xs);

/** Seconds `fn` took, and the longest the event loop was blocked meanwhile (what heartbeats and the API would wait). */
async function timeBlocked(fn: () => Promise<unknown>): Promise<{ seconds: number; blockedMs: number }> {
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  const seconds = await time(fn);
  h.disable();
  return { seconds, blockedMs: h.max / 1e6 };
}

export async function packagesBench() {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-bench-packages-'));
  try {
    const archive = makeArchive(dir, 'big', MB);
    const bytes = statSync(archive).size;
    const sha256 = await sha256File(archive);
    const feed = await startFeed(archive);
    const curl: number[] = [];
    const ours: number[] = [];
    let maxLoopDelayMs = 0;
    const record = (list: number[], r: { seconds: number; blockedMs: number }) => {
      list.push(r.seconds);
      maxLoopDelayMs = Math.max(maxLoopDelayMs, r.blockedMs);
    };
    try {
      for (let run = 0; run < RUNS; run++) {
        curl.push(
          await time(() => {
            const out = execFileSync('bash', ['-c', `set -o pipefail; curl -sf ${feed.url} | sha256sum`], {
              encoding: 'utf8',
            });
            if (!out.startsWith(sha256)) throw new Error(`curl | sha256sum gave ${out}`);
          }),
        );
        const cache = new PackageCache({
          dir: join(dir, `cache-${run}`),
          maxCacheBytes: 4 * bytes,
          maxPackageBytes: 2 * bytes,
          allowedHosts: ['127.0.0.1'],
          attempts: 1,
          backoffMs: 0,
          stallTimeoutMs: 30_000,
        });
        mkdirSync(cache.settings.dir);
        await cache.open();
        const signal = new AbortController().signal;
        record(
          ours,
          await timeBlocked(() =>
            cache.acquire(
              { name: 'big', source: 'url', url: feed.url, sha256, allowSymlinks: false },
              'bench',
              signal,
            ),
          ),
        );
        await cache.close();
        rmSync(cache.settings.dir, { recursive: true, force: true });
      }
    } finally {
      feed.stop();
    }

    const gnu: number[] = [];
    const extract: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const a = join(dir, `gnu-${run}`);
      mkdirSync(a);
      gnu.push(await time(() => execFileSync('tar', ['-xzf', archive, '-C', a])));
      rmSync(a, { recursive: true, force: true });
      const b = join(dir, `ours-${run}`);
      mkdirSync(b);
      record(extract, await timeBlocked(() => extractArchive(archive, b, { allowSymlinks: false })));
      rmSync(b, { recursive: true, force: true });
    }

    const tenants = await tenantsAcquiring(dir);
    const acquireRatio = best(ours) / best(curl);
    const extractRatio = best(extract) / best(gnu);
    return {
      name: `packages: ${fmt(bytes / 1e6, 0)} MB package`,
      packageBytes: bytes,
      curlSeconds: curl,
      acquireSeconds: ours,
      acquireRatio,
      gnuTarSeconds: gnu,
      extractSeconds: extract,
      extractRatio,
      maxLoopDelayMs,
      goal: '<= 1.25 each; one download for all tenants',
      ...tenants,
      line:
        `packages (${fmt(bytes / 1e6, 0)} MB, best of ${RUNS}): acquire ${fmt(best(ours))} s vs curl|sha256sum ${fmt(best(curl))} s: ratio ${fmt(acquireRatio)} (goal <= 1.25); ` +
        `extract ${fmt(best(extract))} s vs GNU tar ${fmt(best(gnu))} s: ratio ${fmt(extractRatio)} (goal <= 1.25); ` +
        `event loop blocked at most ${fmt(maxLoopDelayMs, 1)} ms meanwhile; ` +
        `${TENANTS} tenants on one worker (${TENANT_PACKAGE_MB} MB package): ${tenants.downloads} download(s) (goal 1), ` +
        `${tenants.hits} cache hits, ${tenants.joined} joined; acquisition ${fmt(tenants.acquisitionWallSeconds)} s from first ask to last answer, ` +
        `deployment ${fmt(tenants.deploymentSeconds)} s (${tenants.state})`,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One deployment of TENANTS tenants, all running at once on one worker, deploying one url package. */
async function tenantsAcquiring(dir: string) {
  const archive = makeArchive(dir, 'tenants', TENANT_PACKAGE_MB);
  const sha256 = await sha256File(archive);
  const feed = await startFeed(archive);
  const bench = await benchAgent({
    taskCap: TENANTS,
    targets: [{ name: 'web-1', roles: ['web'] }],
    packages: { allowedHosts: ['127.0.0.1'] },
  });
  const reports: AcquireReport[] = [];
  const asked: number[] = [];
  const answered: number[] = [];
  bench.agent.coordinator.signals.on('taskStarted', () => asked.push(performance.now()));
  bench.agent.coordinator.signals.on('packageAcquired', (r: AcquireReport) => {
    answered.push(performance.now());
    reports.push(r);
  });
  try {
    const r = await bench.run(
      {
        version: 1,
        project: 'bench',
        environment: 'perf',
        release: 'r1',
        tenants: Array.from({ length: TENANTS }, (_, i) => `t${i}`),
        concurrency: { bypassTargetMutex: true },
        packages: { app: { url: feed.url, sha256 } },
        steps: [{ name: 'install', deploy: 'app', targets: { roles: ['web'] } }],
      },
      TENANTS,
    );
    const count = (c: string) => reports.filter((x) => x.cache === c).length;
    return {
      downloads: await feed.requests(),
      misses: count('miss'),
      joined: count('joined'),
      hits: count('hit'),
      failed: reports.length - count('miss') - count('joined') - count('hit'),
      acquisitionWallSeconds: (Math.max(...answered) - Math.min(...asked)) / 1000,
      acquisitionSumSeconds: reports.reduce((s, x) => s + (x.seconds ?? 0), 0),
      deploymentSeconds: r.seconds,
      state: r.state,
    };
  } finally {
    feed.stop();
    await bench.close();
  }
}

if (import.meta.main) console.log((await packagesBench()).line);
