// Several nodes on the machine's PostgreSQL (each run on its own schema).
// Throughput: 10,000 tasks of `true` in 500 concurrency tags on 3 agent
// processes with cap 50 each, against graphile-worker on the same database in
// the same run (one queue_name per tag, concurrency 150), and against raw
// spawning of `true` on 150 lanes (bench/raw-lanes.ts). Failover: from
// kill -9 of a node to every task it ran running on another node again
// (onInterrupt: requeue). BENCH_TASKS scales the first down; BENCH_LEASE_TTL
// (seconds, default 5) sets the nodes' leaseTtl.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import postgres from 'postgres';
import { type ChildAgent, killChildren, spawnAgent, writeAgentConfig } from '../test/helpers/agent.ts';
import { createTestSchema, PG_URL, postgresAvailable } from '../test/helpers/postgres.ts';
import { removeTempDirs, tempDir } from '../test/helpers/util.ts';
import { fmt, rawLanes } from './lib.ts';

const TASKS = Number(process.env.BENCH_TASKS ?? 10_000);
const TAGS = 500;
const NODES = 3;
const CAP = 50;
const LEASE_TTL_S = Number(process.env.BENCH_LEASE_TTL ?? 5);

async function startNodes(url: string): Promise<ChildAgent[]> {
  const dir = tempDir('flotilla-bench-cluster-');
  const agents: ChildAgent[] = [];
  for (let i = 1; i <= NODES; i++) {
    const config = writeAgentConfig(join(dir, `node-${i}`), {
      node: `node-${i}`,
      taskCap: CAP,
      leaseTtl: `${LEASE_TTL_S}s`,
    });
    agents.push(await spawnAgent(config, { FLOTILLA_DATABASE_URL: url }));
  }
  return agents;
}

async function submit(agent: ChildAgent, plan: unknown): Promise<string> {
  const r = await agent.call('POST', '/v1/deployments', { json: { plan } });
  if (r.status !== 201) throw new Error(`submission answered ${r.status}: ${r.text}`);
  return r.json.id;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number, everyMs = 50) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

async function flotillaSeconds(agents: ChildAgent[], sql: postgres.Sql): Promise<number> {
  const plan = {
    version: 1,
    project: 'bench',
    environment: 'perf',
    release: 'r1',
    tenants: Array.from({ length: TASKS }, (_, i) => ({ name: `t${i}`, tags: { group: String(i % TAGS) } })),
    concurrency: { tag: 'g#{tenant.tags.group}' },
    steps: [{ name: 'noop', on: 'worker', run: 'true' }],
  };
  const t0 = performance.now();
  const id = await submit(agents[0]!, plan);
  await until(
    'the benchmark deployment to finish',
    async () => {
      const [r] = await sql`SELECT state FROM deployments WHERE id = ${id}`;
      return !['queued', 'running'].includes(String(r?.state));
    },
    600_000,
    100,
  );
  return (performance.now() - t0) / 1000;
}

async function failoverSeconds(agents: ChildAgent[], sql: postgres.Sql): Promise<number> {
  await submit(agents[0]!, {
    version: 1,
    project: 'failover',
    environment: 'perf',
    release: 'r1',
    onInterrupt: 'requeue',
    tenants: Array.from({ length: 6 }, (_, i) => `f${i}`),
    steps: [{ name: 'hold', on: 'worker', run: 'sleep 60' }],
  });
  const running = async () =>
    sql`SELECT t.id, t.node FROM tasks t JOIN deployments d ON d.id = t.deployment_id
        WHERE d.project = 'failover' AND t.state = 'running' AND t.action_started`;
  await until('six tasks to start', async () => (await running()).length === 6, 30_000);
  const rows = await running();
  const victim = [...Map.groupBy(rows, (r) => String(r.node))].sort((a, b) => b[1].length - a[1].length)[0]!;
  const theirs = victim[1].map((r) => String(r.id));
  const agent = agents[Number(victim[0].split('-')[1]) - 1]!;
  const t0 = performance.now();
  process.kill(agent.pid, 'SIGKILL');
  await until(
    "the killed node's tasks to run elsewhere",
    async () => {
      const now = await sql`SELECT node, state FROM tasks WHERE id = ANY(${theirs}::text[])`;
      return now.every((r) => r.state === 'running' && r.node !== victim[0]);
    },
    LEASE_TTL_S * 1000 + 30_000,
    20,
  );
  return (performance.now() - t0) / 1000;
}

export async function clusterBench() {
  if (!(await postgresAvailable())) {
    return { name: 'cluster', skipped: true, line: `cluster: skipped, no PostgreSQL at ${PG_URL}` };
  }
  const flotilla = await createTestSchema('flotilla_bench');
  const gw = `gw_bench_${Date.now().toString(36)}`;
  const sql = postgres(flotilla.url, { max: 2, onnotice: () => {} });
  try {
    const agents = await startNodes(flotilla.url);
    const seconds = await flotillaSeconds(agents, sql);
    const rate = TASKS / seconds;
    const failover = await failoverSeconds(agents, sql);
    await killChildren();

    const gwSeconds = Number(
      execFileSync(
        process.execPath,
        [
          join(import.meta.dirname, 'graphile-worker.ts'),
          JSON.stringify({ url: PG_URL, schema: gw, tasks: TASKS, tags: TAGS, concurrency: NODES * CAP }),
        ],
        { encoding: 'utf8' },
      ).trim(),
    );
    const gwRate = TASKS / gwSeconds;
    // What the goal stands for: staying within about 0.75 of spawning `true`
    // from a bare process with as many lanes as the nodes have slots. Where
    // starting a process is dear, graphile-worker's own queue work weighs
    // little against it, and the ratio to graphile-worker says less than this.
    const rawTasks = Math.min(TASKS, 3000);
    const rawRate =
      rawTasks /
      (await rawLanes({ script: 'true', tasks: rawTasks, lanes: NODES * CAP, stages: [1] })).seconds;
    return {
      name: `cluster: ${TASKS} tasks of \`true\` in ${TAGS} tags on ${NODES} nodes of cap ${CAP}; failover`,
      tasksPerSecond: rate,
      graphileWorkerTasksPerSecond: gwRate,
      rawSpawnPerSecond: rawRate,
      ratio: rate / gwRate,
      ratioToRawSpawn: rate / rawRate,
      goal: '>= 1.3',
      failoverSeconds: failover,
      leaseTtlSeconds: LEASE_TTL_S,
      failoverGoal: `<= ${LEASE_TTL_S + 2} s`,
      line:
        `cluster ${fmt(rate, 0)} tasks/s on ${NODES} nodes vs graphile-worker ${fmt(gwRate, 0)}/s: ratio ${fmt(rate / gwRate, 3)} (goal >= 1.3); ` +
        `vs raw spawn ${fmt(rawRate, 0)}/s: ${fmt(rate / rawRate, 3)} (graphile-worker ${fmt(gwRate / rawRate, 3)}); ` +
        `failover ${fmt(failover)} s with leaseTtl ${LEASE_TTL_S} s (goal <= ${LEASE_TTL_S + 2} s)`,
    };
  } finally {
    await killChildren();
    removeTempDirs();
    await sql`DROP SCHEMA IF EXISTS ${sql(gw)} CASCADE`.catch(() => {});
    await sql.end({ timeout: 1 });
    await flotilla.drop();
  }
}
