// The baseline of the benchmarks, run as its own small process (as the
// agent's executor is, so neither side pays for forking a big heap): `lanes`
// lanes take `tasks` tasks one after another; a task runs its stages in order,
// each stage being that many copies of the script at once, started the way the
// executor starts an action. Prints the seconds it took.
//
//   node bench/raw-lanes.ts '{"script":"true","tasks":5000,"lanes":50,"stages":[1]}'
import { spawn } from 'node:child_process';

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
