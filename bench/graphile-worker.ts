// The comparison of bench/cluster.ts, run as its own small process (as the
// agent's executors are, so neither side pays for forking a big heap):
// graphile-worker on the same database, one queue_name per concurrency tag (its
// way to run one job of a queue at a time), `concurrency` jobs at once, each
// job starting `true` the way the executor starts an action. Prints the
// seconds from adding the jobs to the last one done.
//
//   node bench/graphile-worker.ts '{"url":"postgres://…","schema":"gw_x","tasks":10000,"tags":500,"concurrency":150}'
import { spawn } from 'node:child_process';
import { Logger, makeWorkerUtils, run } from 'graphile-worker';

const job = JSON.parse(process.argv[2] ?? '') as {
  url: string;
  schema: string;
  tasks: number;
  tags: number;
  concurrency: number;
};

function action(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', 'true'], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.resume();
    child.stderr.resume();
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}`))));
  });
}

const quiet = new Logger(() => () => {});
const options = { connectionString: job.url, schema: job.schema, logger: quiet };
const utils = await makeWorkerUtils(options);
await utils.migrate();
let done = 0;
let finish: () => void = () => {};
const allDone = new Promise<void>((resolve) => {
  finish = resolve;
});
const runner = await run({
  ...options,
  concurrency: job.concurrency,
  noHandleSignals: true,
  pollInterval: 1000,
  taskList: {
    noop: async () => {
      await action();
      if (++done === job.tasks) finish();
    },
  },
});
const t0 = performance.now();
const specs = Array.from({ length: job.tasks }, (_, i) => ({
  identifier: 'noop',
  payload: {},
  queueName: `g${i % job.tags}`,
  maxAttempts: 1,
}));
for (let i = 0; i < specs.length; i += 1000) await utils.addJobs(specs.slice(i, i + 1000));
await allDone;
const seconds = (performance.now() - t0) / 1000;
await runner.stop();
await utils.release();
console.log(seconds);
