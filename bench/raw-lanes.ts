// The baseline of the benchmarks, run as small processes (as the agent's
// executors are, so neither side pays for forking a big heap): `lanes` lanes
// take `tasks` tasks one after another; a task runs its stages in order, each
// stage being that many copies of the script at once, started the way the
// executor starts an action. lib.ts's rawLanes runs one such process per core
// (the agent has one executor per core) and starts them together: each says
// `ready` once loaded, starts on a line on stdin, and prints the seconds it took.
//
//   echo | node bench/raw-lanes.ts '{"script":"true","tasks":5000,"lanes":50,"stages":[1]}'
import { spawn } from 'node:child_process';
import { once } from 'node:events';

const { script, tasks, lanes, stages } = JSON.parse(process.argv[2] ?? '') as {
  script: string;
  tasks: number;
  lanes: number;
  stages: number[];
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

console.log('ready');
await once(process.stdin, 'data');
process.stdin.pause();
const t0 = performance.now();
let taken = 0;
async function lane() {
  while (taken < tasks) {
    taken++;
    for (const width of stages) await Promise.all(Array.from({ length: width }, action));
  }
}
await Promise.all(Array.from({ length: lanes }, lane));
console.log((performance.now() - t0) / 1000);
