// `npm run bench`: every benchmark in one process, one after the other (the
// machine is small; running them at once would measure each other).
// `npm run bench -- makespan` runs only the named ones.
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
const wanted = process.argv.slice(2).filter((a) => a in all) as (keyof typeof all)[];
const results = [];
for (const name of wanted.length ? wanted : (Object.keys(all) as (keyof typeof all)[])) {
  const r = await all[name]();
  console.log(r.line);
  results.push(r);
}
if (process.env.BENCH_JSON) console.log(JSON.stringify(results, null, 2));
