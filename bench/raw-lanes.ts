// The baseline of the benchmarks, run as small processes (as the agent's
// executors are, so neither side pays for forking a big heap): `lanes` lanes
// take `tasks` tasks one after another; a task runs its stages in order. A
// stage is either that many copies of the script at once (a worker step), or
// one copy per target of the task's group of targets, at most `window` at once
// under the per-target mutex, choosing as the agent's task runner does (a free
// target first, else wait for the first one left; waiters are served in
// order). Copies start the way the executor starts an action. lib.ts's
// rawLanes runs one such process per core (the agent has one executor per
// core) and starts them together: each says `ready` once loaded, starts on a
// line on stdin, and prints the seconds it took.
//
//   echo | node bench/raw-lanes.ts '{"script":"true","tasks":5000,"lanes":50,"stages":[1]}'
import { spawn } from 'node:child_process';
import { once } from 'node:events';

type Stage = number | { targets: number; window: number };
const { script, tasks, lanes, stages, groups } = JSON.parse(process.argv[2] ?? '') as {
  script: string;
  tasks: number;
  lanes: number;
  stages: Stage[];
  /** Target stages: the group of targets each task deploys to, in task order. */
  groups?: number[];
};

function action(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.resume();
    child.stderr.resume();
    child.on('error', reject);
    child.on('close', () => resolve());
  });
}

// The per-target mutex: this process runs every task of its groups, so it holds all their targets.
const held = new Set<string>();
const waiting = new Map<string, (() => void)[]>();

async function onTarget(target: string): Promise<void> {
  if (held.has(target)) {
    await new Promise<void>((resolve) => {
      waiting.set(target, [...(waiting.get(target) ?? []), resolve]);
    });
  }
  held.add(target);
  await action();
  const next = waiting.get(target)?.shift();
  // Handed straight to the next waiter, if any.
  if (next) next();
  else held.delete(target);
}

async function targetStage(group: number, targets: number, window: number): Promise<void> {
  const remaining = Array.from({ length: targets }, (_, k) => `${group}-${k}`);
  const running = new Set<Promise<void>>();
  while (remaining.length > 0) {
    if (running.size >= window) {
      await Promise.race(running);
      continue;
    }
    const free = remaining.findIndex((t) => !held.has(t));
    const target = remaining.splice(Math.max(free, 0), 1)[0]!;
    const p: Promise<void> = onTarget(target).then(() => {
      running.delete(p);
    });
    running.add(p);
  }
  await Promise.all(running);
}

console.log('ready');
await once(process.stdin, 'data');
process.stdin.pause();
const t0 = performance.now();
let taken = 0;
async function lane() {
  while (taken < tasks) {
    const task = taken++;
    for (const stage of stages) {
      if (typeof stage === 'number') await Promise.all(Array.from({ length: stage }, action));
      else await targetStage(groups![task]!, stage.targets, stage.window);
    }
  }
}
await Promise.all(Array.from({ length: lanes }, lane));
console.log((performance.now() - t0) / 1000);
