// 400 tenants x 2 steps (a worker step; a step on 4 targets with window 2),
// task cap 50, scripts `sleep 0.1`: makespan against the lower bound that the
// cap, the tags and the target mutex imply. The bound is taken two ways:
// computed from the measured duration of one action, and measured, by running
// the same actions in an ideal schedule (50 lanes, each running its tasks'
// chains back to back, no store, no events) on this machine in this run: on
// two cores, starting 2,000 bash processes is itself a limit the computed
// bound does not know. BENCH_ROUNDS (default 3) sets how many rounds the
// agent runs.
import { type BenchTarget, benchAgent, fmt, rawLanes } from './lib.ts';

const TENANTS = 400;
const GROUPS = 25; // 25 groups of 4 targets; tenant i deploys to group i % 25
const CAP = 50;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

export async function makespanBench() {
  // The duration of one action as this machine runs it: bash start-up plus the sleep.
  const d = rawLanes({ script: 'sleep 0.1', tasks: 20, lanes: 1, stages: [1] }) / 20;
  const tenants = Array.from({ length: TENANTS }, (_, i) => `t${String(i).padStart(3, '0')}`);
  const targets: BenchTarget[] = [];
  for (let g = 0; g < GROUPS; g++) {
    for (let k = 0; k < 4; k++) {
      targets.push({
        name: `g${g}-web-${k}`,
        roles: ['web'],
        tenants: tenants.filter((_, i) => i % GROUPS === g),
      });
    }
  }
  const plan = {
    version: 1,
    project: 'bench',
    environment: 'perf',
    release: 'r1',
    tenants,
    steps: [
      { name: 'prepare', on: 'worker', run: 'sleep 0.1' },
      { name: 'roll', targets: { roles: ['web'] }, window: 2, run: 'sleep 0.1' },
    ],
  };
  // Each task is a chain of 3 action durations (1 + 4 targets / window 2).
  const perTask = 3 * d;
  const capBound = (TENANTS * perTask) / CAP;
  const mutexBound = (TENANTS / GROUPS) * d + d; // every action of a target in a row, after one worker step
  const lowerBound = Math.max(capBound, mutexBound, perTask);
  // The same 400 task chains on 50 lanes with nothing in between, run
  // between the agent's rounds; each round counts against the mean of the
  // ideal runs on either side of it, and the figure is the median round:
  // this machine's speed drifts by more than the goal's 5% within a minute.
  const idealRun = () => rawLanes({ script: 'sleep 0.1', tasks: TENANTS, lanes: CAP, stages: [1, 2, 2] });
  const ideals = [idealRun()];
  const rounds: { seconds: number; ratio: number; state: string }[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const bench = await benchAgent({ taskCap: CAP, targets });
    try {
      const r = await bench.run(plan, TENANTS);
      ideals.push(idealRun());
      rounds.push({ ...r, ratio: r.seconds / ((ideals[i]! + ideals[i + 1]!) / 2) });
    } finally {
      await bench.close();
    }
  }
  const median = rounds.slice().sort((a, b) => a.ratio - b.ratio)[Math.floor(ROUNDS / 2)]!;
  const ideal = median.seconds / median.ratio;
  const spread = rounds.map((r) => fmt(r.ratio, 3)).join(', ');
  return {
    name: 'makespan: 400 tenants x 2 steps, cap 50, sleep 0.1',
    actionSeconds: d,
    lowerBoundSeconds: lowerBound,
    idealScheduleSeconds: ideal,
    makespanSeconds: median.seconds,
    ratio: median.ratio,
    roundRatios: rounds.map((r) => r.ratio),
    ratioToComputedBound: median.seconds / lowerBound,
    goal: '<= 1.05',
    state: rounds.every((r) => r.state === 'succeeded') ? 'succeeded' : rounds.map((r) => r.state).join(','),
    line:
      `makespan ${fmt(median.seconds)} s vs ideal schedule run here ${fmt(ideal)} s: ratio ${fmt(median.ratio, 3)} ` +
      `(median of ${ROUNDS} rounds: ${spread}; goal <= 1.05); ` +
      `computed bound ${fmt(lowerBound)} s (action ${fmt(d * 1000, 1)} ms): ratio ${fmt(median.seconds / lowerBound, 3)}`,
  };
}
