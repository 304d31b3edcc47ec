// GitHub API calls the check-run reporter makes for a 400-tenant deployment
// that runs about 3 minutes, against the local GitHub API (which validates
// every request against GitHub's OpenAPI description). Goal: <= 25 calls in
// all, never more than 80 content-creating requests in a minute.
//
// BENCH_GITHUB_SCALE=10 runs it 10 times faster: tasks last a tenth as long and
// the update interval is 1 s instead of 10 s, so the number of updates (run
// time / interval) is the same as in real time, and "a minute" becomes 6 s.

import { startLocalGitHub } from '../test/helpers/github-api.ts';
import { benchAgent, fmt } from './lib.ts';

const TENANTS = 400;
const CAP = 20;
const SCALE = Number(process.env.BENCH_GITHUB_SCALE ?? 1);
/** 400 tasks on 20 lanes: 20 tasks per lane, 9 s each, 180 s in all (in real time). */
const TASK_SECONDS = 9 / SCALE;

export async function githubBench() {
  const gh = await startLocalGitHub();
  process.env.FLOTILLA_CHECK_RUN_INTERVAL_MS = String(10_000 / SCALE);
  const bench = await benchAgent({ taskCap: CAP, targets: [] });
  try {
    const co = bench.agent.coordinator;
    const t0 = performance.now();
    const { deployment } = await co.submit(
      {
        plan: {
          version: 1,
          project: 'bench',
          environment: 'production',
          release: 'r1',
          tenants: Array.from({ length: TENANTS }, (_, i) => `tenant-${i}`),
          steps: [{ name: 'deploy', on: 'worker', run: `sleep ${TASK_SECONDS}` }],
        },
        github: {
          apiUrl: gh.url,
          serverUrl: 'https://github.com',
          repository: 'acme/storefront',
          sha: 'a'.repeat(40),
          ref: 'refs/heads/main',
          event: 'push',
          runId: 1,
          runAttempt: 1,
          job: 'deploy',
          token: 'ghs_bench',
        },
      },
      bench.agent.url,
    );
    for (;;) {
      const run = [...gh.checkRuns.values()].find((r) => r.external_id === deployment.id);
      if (run?.status === 'completed') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const seconds = (performance.now() - t0) / 1000;
    const calls = gh.requests.length;
    const refused = gh.requests.filter((r) => r.status >= 400).length;
    // Content-creating requests in the busiest minute (6 s at scale 10).
    const times = gh.requests.filter((r) => r.method !== 'GET').map((r) => r.at);
    let perMinute = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while (times[i]! - times[j]! >= 60_000 / SCALE) j++;
      perMinute = Math.max(perMinute, i - j + 1);
    }
    return {
      name: 'github: check-run calls for 400 tenants over ~3 minutes',
      scale: SCALE,
      seconds,
      realSeconds: seconds * SCALE,
      calls,
      refused,
      contentPerMinute: perMinute,
      goal: '<= 25 calls, <= 80 content-creating per minute',
      line:
        `github: ${calls} GitHub API calls (${refused} refused) for ${TENANTS} tenants over ${fmt(seconds * SCALE, 0)} s` +
        `${SCALE === 1 ? '' : ` (run ${SCALE}x faster: ${fmt(seconds, 1)} s)`}; busiest minute ${perMinute} content-creating requests ` +
        '(goal <= 25 in all, <= 80 a minute)',
    };
  } finally {
    await bench.close();
    await gh.close();
  }
}

if (import.meta.main) console.log((await githubBench()).line);
