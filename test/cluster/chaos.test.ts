// Three real `flotilla agent --database-url …` processes on the machine's
// PostgreSQL run 200 tenants in 40 tag groups while nodes are killed with
// kill -9 and restarted at random. Each script records its start and end, with
// the node it ran on, in a shared file. The checks: every task ends in a
// terminal state; no two runs of one tag overlapped; no node ran more than its
// cap at once; a task ran more than once only when the store recorded that its
// run was interrupted and its plan says onInterrupt: requeue.
import { join } from 'node:path';
import { afterAll, afterEach, expect, it } from 'vitest';
import { openPostgresStore } from '../../runner-agent/src/store/postgres.ts';
import { type ChildAgent, killChildren, spawnAgent, writeAgentConfig } from '../helpers/agent.ts';
import { finished, submit } from '../helpers/deploy.ts';
import { createTestSchema, postgresAvailable, type TestSchema } from '../helpers/postgres.ts';
import { intervalsOf, maxOverlap } from '../helpers/records.ts';
import { removeTempDirs } from '../helpers/util.ts';
import { releaseWorkspaces, workspace } from '../helpers/workspace.ts';

const available = await postgresAvailable();
const CAP = 3;
const GROUPS = 40;
const LEASE_TTL_MS = 3000;

let schema: TestSchema | undefined;
afterEach(async () => {
  releaseWorkspaces();
  await killChildren();
  removeTempDirs();
});
afterAll(async () => {
  await schema?.drop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it.skipIf(!available)(
  'three nodes under kill -9 and restarts: terminal states, tags, caps, no silent second run',
  async () => {
    schema = await createTestSchema('flotilla_chaos');
    const ws = workspace();
    const names = ['node-1', 'node-2', 'node-3'];
    const configs = names.map((node) =>
      writeAgentConfig(join(ws.dir, node), { node, taskCap: CAP, leaseTtl: `${LEASE_TTL_MS / 1000}s` }),
    );
    // Scripts inherit the agent's environment: CHAOS_NODE tells them where they run.
    const start = (i: number) =>
      spawnAgent(configs[i]!, { FLOTILLA_DATABASE_URL: schema!.url, CHAOS_NODE: names[i]! });
    const agents: (ChildAgent | null)[] = [];
    for (let i = 0; i < names.length; i++) agents.push(await start(i));

    // The node goes in the target column of the records (these steps have no target).
    const body = [
      'rec() { echo "$1 $FLOTILLA_TASK_ID g#{tenant.tags.group} $CHAOS_NODE $FLOTILLA_STEP $(date +%s%N)" >> "$REC"; }',
      'rec start',
      "trap 'rec end' EXIT",
      'sleep 0.$((RANDOM % 4 + 2))',
    ].join('\n');
    const plan = (onInterrupt: 'requeue' | 'fail', from: number) => ({
      version: 1,
      project: `chaos-${onInterrupt}`,
      environment: 'prod',
      release: '1.0.0',
      onInterrupt,
      tenants: Array.from({ length: 100 }, (_, k) => ({
        name: `t${from + k}`,
        tags: { group: String((from + k) % GROUPS) },
      })),
      concurrency: { tag: 'g#{tenant.tags.group}' },
      variables: ws.variables(),
      steps: [{ name: 'work', on: 'worker', run: body }],
    });
    const requeue = await submit(agents[0]!, { plan: plan('requeue', 0) });
    const failing = await submit(agents[1]!, { plan: plan('fail', 100) });

    // Kill -9 a random node every 1.5–3 s; bring it back after 0.3 s or after
    // more than the lease (so the others must take its tasks over).
    const live = () => agents.filter((a): a is ChildAgent => a !== null);
    const anyLive = () => live()[Math.floor(Math.random() * live().length)]!;
    const done = async () => {
      const d = await Promise.all(
        [requeue.id, failing.id].map((id) => anyLive().call('GET', `/v1/deployments/${id}`)),
      );
      return d.every((r) => r.status === 200 && !['queued', 'running'].includes(r.json.state));
    };
    let kills = 0;
    const restarts: Promise<void>[] = [];
    const t0 = Date.now();
    while (!(await done()) && Date.now() - t0 < 70_000) {
      await sleep(1500 + Math.random() * 1500);
      const up = agents.map((a, i) => (a ? i : -1)).filter((i) => i >= 0);
      if (up.length < 2) continue;
      const victim = up[Math.floor(Math.random() * up.length)]!;
      process.kill(agents[victim]!.pid, 'SIGKILL');
      await agents[victim]!.exited;
      agents[victim] = null;
      kills++;
      const away = kills % 2 === 0 ? LEASE_TTL_MS + 1500 : 300;
      restarts.push(
        sleep(away).then(async () => {
          agents[victim] = await start(victim);
        }),
      );
    }
    await Promise.all(restarts);
    expect(kills).toBeGreaterThanOrEqual(2);

    // Every task reaches a terminal state.
    const views = await Promise.all([requeue.id, failing.id].map((id) => finished(anyLive(), id, 30_000)));
    for (const v of views) {
      for (const t of v.tasks)
        expect(['succeeded', 'interrupted'], `${t.id} is ${t.state}`).toContain(t.state);
    }
    expect(views[0]!.tasks.every((t) => t.state === 'succeeded')).toBe(true);

    // What the store recorded about interruptions, per task.
    const store = await openPostgresStore(schema.url);
    const interruptedRuns = new Map<string, number>();
    try {
      for (const v of views) {
        for (const e of await store.eventsSince(v.id, 0, 100_000)) {
          const message = String(e.data.message ?? '');
          const cut =
            (e.type === 'task.requeued' && message.includes('onInterrupt: requeue')) ||
            (e.type === 'task.finished' && e.data.state === 'interrupted');
          if (cut && e.taskId) interruptedRuns.set(e.taskId, (interruptedRuns.get(e.taskId) ?? 0) + 1);
        }
      }
    } finally {
      await store.close();
    }

    const lines = ws.records();
    const { intervals, unmatched } = intervalsOf(lines);
    const violations: string[] = [];
    // A run cut by kill -9 may lack its end record; only an interrupted run may.
    for (const u of unmatched) {
      if (u.kind === 'end' || !interruptedRuns.has(u.task))
        violations.push(`unmatched ${u.kind} of ${u.task}`);
    }
    for (const [tag, runs] of Map.groupBy(intervals, (i) => i.tag)) {
      if (maxOverlap(runs) > 1) violations.push(`tag ${tag}: two runs overlapped`);
    }
    for (const [node, runs] of Map.groupBy(intervals, (i) => i.target)) {
      const most = maxOverlap(runs);
      if (most > CAP) violations.push(`node ${node} ran ${most} tasks at once; its cap is ${CAP}`);
    }
    const requeueTasks = new Set(views[0]!.tasks.map((t) => t.id));
    for (const [task, starts] of Map.groupBy(
      lines.filter((l) => l.kind === 'start'),
      (l) => l.task,
    )) {
      const allowed = 1 + (requeueTasks.has(task) ? (interruptedRuns.get(task) ?? 0) : 0);
      if (starts.length > allowed)
        violations.push(`task ${task} ran ${starts.length} times, allowed ${allowed}`);
    }
    const ran = new Set(lines.map((l) => l.task));
    for (const v of views) {
      for (const t of v.tasks) {
        if (t.state === 'succeeded' && !ran.has(t.id))
          violations.push(`task ${t.id} succeeded without running`);
      }
    }
    expect(violations).toEqual([]);
    console.info(
      `chaos: ${kills} kills, ${intervals.length} runs, ${unmatched.length} cut short, ` +
        `${[...interruptedRuns.values()].reduce((a, b) => a + b, 0)} interruptions, ${Date.now() - t0} ms`,
    );
  },
  120_000,
);
