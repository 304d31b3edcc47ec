// 5,000 single-action tasks running `true` under cap 50: tasks per second
// against spawning `bash -c true` 50 at a time in the same run (the median of
// BENCH_ROUNDS rounds, 3 by default, each against the raw runs on either side of it), and the
// dispatch latency from a freed slot to the next task's first action (over all rounds).
import { benchAgent, benchRounds, fmt, pairedRounds, percentile, rawLanes, roundsState } from './lib.ts';

const TASKS = Number(process.env.BENCH_TASKS ?? 5000);
const CAP = 50;

export async function throughputBench() {
  const raw = () => rawLanes({ script: 'true', tasks: TASKS, lanes: CAP, stages: [1] });
  // Each finish frees one slot; the next first action started answers it.
  const latencies: number[] = [];
  const plan = {
    version: 1,
    project: 'bench',
    environment: 'perf',
    release: 'r1',
    tenants: Array.from({ length: TASKS }, (_, i) => `t${i}`),
    steps: [{ name: 'noop', on: 'worker', run: 'true' }],
  };
  const { rounds, median } = await pairedRounds(benchRounds(3), raw, async () => {
    const bench = await benchAgent({ taskCap: CAP, targets: [] });
    const co = bench.agent.coordinator;
    const freed: number[] = [];
    const seen = new Set<string>();
    co.signals.on('taskFinished', () => freed.push(performance.now()));
    co.signals.on('actionStarted', (taskId: string) => {
      if (seen.has(taskId)) return;
      seen.add(taskId);
      const t = freed.shift();
      if (t !== undefined) latencies.push(performance.now() - t);
    });
    try {
      return await bench.run(plan, TASKS);
    } finally {
      await bench.close();
    }
  });
  const rawRate = TASKS / median.baselineSeconds;
  const rate = TASKS / median.seconds;
  const ratios = rounds.map((r) => r.baselineSeconds / r.seconds);
  const spread = ratios.map((r) => fmt(r, 3)).join(', ');
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  return {
    name: 'throughput: 5,000 tasks of `true`, cap 50',
    rawTasksPerSecond: rawRate,
    tasksPerSecond: rate,
    ratio: rate / rawRate,
    roundRatios: ratios,
    goal: '>= 0.8',
    dispatchP50Ms: p50,
    dispatchP99Ms: p99,
    dispatchSamples: latencies.length,
    state: roundsState(rounds),
    line:
      `throughput ${fmt(rate, 0)} tasks/s vs raw spawn ${fmt(rawRate, 0)}/s: ratio ${fmt(rate / rawRate, 3)} ` +
      `(median of ${rounds.length} rounds: ${spread}; goal >= 0.8); ` +
      `dispatch latency p50 ${fmt(p50)} ms, p99 ${fmt(p99)} ms over ${latencies.length} slots (goal p99 < 20 ms)`,
  };
}
