// Shared pieces of the benchmarks: an in-process agent on a temp data dir,
// raw process spawning as the baseline, and small statistics.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent } from '../runner-agent/src/agent.ts';
import { resolveAgentSettings } from '../runner-agent/src/config/settings.ts';

export interface BenchTarget {
  name: string;
  roles: string[];
  tenants?: string[];
}

export async function benchAgent(opts: { taskCap: number; targets: BenchTarget[] }) {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-bench-'));
  const config = join(dir, 'agent.yml');
  writeFileSync(
    config,
    JSON.stringify({
      node: 'bench-1',
      listen: '127.0.0.1:0',
      taskCap: opts.taskCap,
      worker: { targets: opts.targets.map((t) => ({ ...t, root: join(dir, 'targets', t.name) })) },
    }),
  );
  const agent = await startAgent(await resolveAgentSettings({ config }));
  return {
    agent,
    /** Submits a plan and resolves with the seconds until its deployment finished. */
    async run(plan: unknown): Promise<{ seconds: number; state: string }> {
      const t0 = performance.now();
      const { deployment } = await agent.coordinator.submit({ plan }, agent.url);
      const state = await new Promise<string>((resolve) => {
        const off = agent.coordinator.events.subscribe(deployment.id, async () => {
          const d = await agent.coordinator.store.getDeployment(deployment.id);
          if (d && !['queued', 'running'].includes(d.state)) {
            off();
            resolve(d.state);
          }
        });
      });
      return { seconds: (performance.now() - t0) / 1000, state };
    },
    async close() {
      await agent.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One bash script started the way the agent's executor starts it. */
export function bashAction(script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.on('error', reject);
    child.on('close', () => resolve());
  });
}

/** Runs `count` bash scripts, `parallel` at a time; returns seconds. */
export async function spawnRaw(script: string, count: number, parallel: number): Promise<number> {
  const t0 = performance.now();
  let started = 0;
  const lane = async () => {
    while (started < count) {
      started++;
      await bashAction(script);
    }
  };
  await Promise.all(Array.from({ length: parallel }, lane));
  return (performance.now() - t0) / 1000;
}

export function percentile(values: number[], p: number): number {
  const sorted = values.slice().sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export const fmt = (n: number, digits = 2) => n.toFixed(digits);
