// Shared pieces of the benchmarks: an in-process agent on a temp data dir,
// raw process spawning as the baseline, and small statistics.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startAgent } from '../runner-agent/src/agent.ts';
import { resolveAgentSettings } from '../runner-agent/src/config/settings.ts';
import { EXECUTOR_V8_FLAGS } from '../runner-agent/src/worker/executor.ts';

export interface BenchTarget {
  name: string;
  roles: string[];
  tenants?: string[];
}

export async function benchAgent(opts: {
  taskCap: number;
  targets: BenchTarget[];
  packages?: { allowedHosts: string[] };
}) {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-bench-'));
  const config = join(dir, 'agent.yml');
  writeFileSync(
    config,
    JSON.stringify({
      node: 'bench-1',
      listen: '127.0.0.1:0',
      taskCap: opts.taskCap,
      worker: { targets: opts.targets.map((t) => ({ ...t, root: join(dir, 'targets', t.name) })) },
      ...(opts.packages ? { packages: opts.packages } : {}),
    }),
  );
  const agent = await startAgent(await resolveAgentSettings({ config }));
  /**
   * Submits a plan of `tasks` tasks and resolves with the seconds until its
   * deployment finished, the CPU this process (the agent) spent meanwhile,
   * and the machine's busy core-seconds meanwhile.
   */
  async function run(
    plan: unknown,
    tasks: number,
  ): Promise<{ seconds: number; state: string; agentCpuSeconds: number; busySeconds: number }> {
    const co = agent.coordinator;
    let finished = 0;
    const countFinished = () => finished++;
    co.signals.on('taskFinished', countFinished);
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const busy0 = machineBusySeconds();
    const { deployment } = await co.submit({ plan }, agent.url);
    // Only look the deployment up once every task has ended: a lookup per
    // event would load the agent with the benchmark's own work.
    const state = await new Promise<string>((resolve) => {
      const off = co.events.subscribe(deployment.id, async () => {
        if (finished < tasks) return;
        const d = await co.store.getDeployment(deployment.id);
        if (d && !['queued', 'running'].includes(d.state)) {
          off();
          resolve(d.state);
        }
      });
    });
    co.signals.off('taskFinished', countFinished);
    const cpu = process.cpuUsage(cpu0);
    return {
      seconds: (performance.now() - t0) / 1000,
      state,
      agentCpuSeconds: (cpu.user + cpu.system) / 1e6,
      busySeconds: machineBusySeconds() - busy0,
    };
  }
  // The baseline is timed inside its process, after the process started; so
  // the agent is measured as one in service is, its executors started (one
  // per core, hence actions side by side) by an earlier deployment.
  const cores = availableParallelism();
  await run(
    {
      version: 1,
      project: 'warm-up',
      environment: 'perf',
      release: 'r0',
      tenants: Array.from({ length: cores }, (_, i) => `w${i}`),
      steps: [{ name: 'warm-up', on: 'worker', run: 'sleep 0.05' }],
    },
    cores,
  );
  return {
    agent,
    run,
    async close() {
      await agent.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Core-seconds this machine has spent busy so far (user, system and interrupt
 * time of every process, from /proc/stat), or NaN where there is no /proc.
 */
export function machineBusySeconds(): number {
  try {
    const [user, nice, system, , , irq, softirq] = readFileSync('/proc/stat', 'utf8')
      .split('\n')[0]!
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    return (user! + nice! + system! + irq! + softirq!) / 100;
  } catch {
    return Number.NaN;
  }
}

/** A timed run: its seconds, and the machine's busy core-seconds meanwhile. */
export interface Timed {
  seconds: number;
  busySeconds: number;
}

type Round<R> = R & { baselineSeconds: number; baselineBusySeconds: number };

/**
 * Runs `measure` `rounds` times between runs of `baseline` and compares each
 * round with the mean of the baseline runs on either side of it: this
 * machine's speed drifts by more than a goal's margin within a minute.
 * Resolves with every round, and the median one.
 */
export async function pairedRounds<R extends { seconds: number }>(
  rounds: number,
  baseline: () => Promise<Timed>,
  measure: () => Promise<R>,
): Promise<{ rounds: Round<R>[]; median: Round<R> }> {
  const baselines = [await baseline()];
  const done: Round<R>[] = [];
  for (let i = 0; i < rounds; i++) {
    const r = await measure();
    baselines.push(await baseline());
    const [before, after] = [baselines[i]!, baselines[i + 1]!];
    done.push({
      ...r,
      baselineSeconds: (before.seconds + after.seconds) / 2,
      baselineBusySeconds: (before.busySeconds + after.busySeconds) / 2,
    });
  }
  const ratio = (r: Round<R>) => r.seconds / r.baselineSeconds;
  const median = done.slice().sort((a, b) => ratio(a) - ratio(b))[Math.floor(rounds / 2)]!;
  return { rounds: done, median };
}

/** The rounds' deployment states in one: `succeeded` when every round's was. */
export function roundsState(rounds: { state: string }[]): string {
  return rounds.every((r) => r.state === 'succeeded') ? 'succeeded' : rounds.map((r) => r.state).join(',');
}

/** The rounds a paired benchmark runs: BENCH_ROUNDS, else its own default. */
export function benchRounds(byDefault: number): number {
  return Number(process.env.BENCH_ROUNDS ?? byDefault);
}

/**
 * Seconds that bench/raw-lanes.ts takes to run `tasks` tasks on `lanes` lanes,
 * each task a chain of `stages` (see raw-lanes.ts); the lanes and tasks are
 * shared out over one process per core, as the agent's actions are over its
 * executors, and the slowest process's time counts. With target stages, task
 * i (in submission order) deploys to target group i % `groups`, and each
 * process takes whole groups, so that it holds their mutexes itself.
 */
export async function rawLanes(job: {
  script: string;
  tasks: number;
  lanes: number;
  stages: (number | { targets: number; window: number })[];
  groups?: number;
}): Promise<Timed> {
  const parts = Math.min(availableParallelism(), job.lanes);
  const share = (n: number, k: number) => Math.floor(n / parts) + (k < n % parts ? 1 : 0);
  const { groups, ...rest } = job;
  // Each task's group of targets, in submission order.
  const groupOf = Array.from({ length: groups === undefined ? 0 : job.tasks }, (_, i) => i % groups!);
  const lanesUpTo = (n: number) => Math.round((job.lanes * n) / job.tasks);
  const jobs = Array.from({ length: parts }, (_, k) => {
    if (groups === undefined) return { ...rest, tasks: share(job.tasks, k), lanes: share(job.lanes, k) };
    const mine = groupOf.filter((g) => g % parts === k);
    // Lanes in proportion to the tasks: each process's lanes take as many tasks in a row.
    const before = groupOf.filter((g) => g % parts < k).length;
    return {
      ...rest,
      tasks: mine.length,
      lanes: lanesUpTo(before + mine.length) - lanesUpTo(before),
      groups: mine,
    };
  });
  const children = jobs.map((part) =>
    // With the executor's V8 flags: the baseline starts processes as cheaply as the agent does.
    spawn(
      process.execPath,
      [...EXECUTOR_V8_FLAGS, join(import.meta.dirname, 'raw-lanes.ts'), JSON.stringify(part)],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    ),
  );
  const lines = children.map((c) => {
    const rl = createInterface({ input: c.stdout! });
    return rl[Symbol.asyncIterator]();
  });
  const next = async (i: number) => {
    const r = await lines[i]!.next();
    if (r.done) throw new Error('bench/raw-lanes.ts ended without an answer');
    return r.value;
  };
  await Promise.all(children.map((_, i) => next(i)));
  const busy0 = machineBusySeconds();
  for (const c of children) c.stdin!.end('go\n');
  const seconds = await Promise.all(children.map(async (_, i) => Number(await next(i))));
  return { seconds: Math.max(...seconds), busySeconds: machineBusySeconds() - busy0 };
}

export function percentile(values: number[], p: number): number {
  const sorted = values.slice().sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export const fmt = (n: number, digits = 2) => n.toFixed(digits);
