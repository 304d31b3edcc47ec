// `npm run bench`: every benchmark one after the other (the machine is small;
// running them at once would measure each other), each in a process of its
// own: run in one process, a benchmark measured what the one before left
// behind (the makespan ratio, 1.05 alone, was 1.12 after the throughput
// benchmark; 1.06 in a process of its own). `npm run bench -- makespan` runs
// only the named ones.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { clusterBench } from './cluster.ts';
import { githubBench } from './github.ts';
import { makespanBench } from './makespan.ts';
import { packagesBench } from './packages.ts';
import { startupBench } from './startup.ts';
import { throughputBench } from './throughput.ts';
import { workersBench } from './workers.ts';

const all = {
  startup: startupBench,
  throughput: throughputBench,
  makespan: makespanBench,
  cluster: clusterBench,
  github: githubBench,
  packages: packagesBench,
  workers: workersBench,
};
type Name = keyof typeof all;

if (process.send) {
  // A child of the run below: one benchmark, its result (or why it has none) sent back.
  try {
    process.send(await all[process.argv[2] as Name]());
  } catch (err) {
    process.send({ error: (err as Error).message });
  }
  process.disconnect();
} else {
  const wanted = process.argv.slice(2).filter((a) => a in all) as Name[];
  const results: unknown[] = [];
  for (const name of wanted.length ? wanted : (Object.keys(all) as Name[])) {
    const child = fork(import.meta.filename, [name]);
    let result: { line: string } | { error: string } | undefined;
    child.on('message', (m) => {
      result = m as typeof result;
    });
    const [code] = await once(child, 'exit');
    if (!result || 'error' in result) {
      console.error(`bench ${name} failed: ${result ? result.error : `exit code ${code}, no result`}`);
      process.exitCode = 1;
      continue;
    }
    console.log(result.line);
    results.push(result);
  }
  if (process.env.BENCH_JSON) console.log(JSON.stringify(results, null, 2));
}
