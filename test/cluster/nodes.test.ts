// Several agents on one PostgreSQL, through the HTTP API: /v1/nodes lists
// every node, a drain sent to any node reaches the drained one (its /readyz
// turns 503), the other nodes take its queued tasks, and a database that
// cannot be used stops `flotilla agent --database-url` with a plain message.
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { runCli, startTestAgent, stopTestAgents, TEST_ENV, writeAgentConfig } from '../helpers/agent.ts';
import { finished, submit } from '../helpers/deploy.ts';
import { createTestSchema, postgresAvailable, type TestSchema } from '../helpers/postgres.ts';
import { openSse } from '../helpers/sse.ts';
import { removeTempDirs, tempDir, waitFor } from '../helpers/util.ts';
import { releaseWorkspaces, script, workspace } from '../helpers/workspace.ts';

const available = await postgresAvailable();

let schema: TestSchema;
beforeAll(async () => {
  if (available) schema = await createTestSchema('flotilla_nodes');
});
afterAll(async () => {
  await schema?.drop();
});
afterEach(async () => {
  releaseWorkspaces();
  await stopTestAgents();
  removeTempDirs();
});

it.skipIf(!available)(
  'lists every node; a drained node answers 503 on /readyz and the others run its queued tasks',
  async () => {
    const env = { ...TEST_ENV, FLOTILLA_DATABASE_URL: schema.url };
    const a = await startTestAgent({ node: 'node-a', taskCap: 2 }, env);
    const b = await startTestAgent({ node: 'node-b', taskCap: 3 }, env);

    const nodes = (await a.call('GET', '/v1/nodes')).json;
    expect(
      nodes.map((n: { name: string; taskCap: number; running: number; draining: boolean; live: boolean }) => [
        n.name,
        n.taskCap,
        n.running,
        n.draining,
        n.live,
      ]),
    ).toEqual([
      ['node-a', 2, 0, false, true],
      ['node-b', 3, 0, false, true],
    ]);
    for (const n of nodes) expect(Date.parse(n.lastHeartbeat)).toBeGreaterThan(Date.now() - 60_000);

    // The drain goes to node-a's API; node-b hears of it from the database.
    expect((await a.call('POST', '/v1/nodes/node-b/drain')).json).toMatchObject({
      taskCap: 0,
      draining: true,
    });
    await waitFor(
      'node-b to answer 503 on /readyz',
      async () => (await b.call('GET', '/readyz')).status === 503,
    );
    expect((await a.call('GET', '/readyz')).status).toBe(200);

    const ws = workspace();
    const d = await submit(b, {
      plan: {
        version: 1,
        project: 'drain',
        environment: 'prod',
        release: '1.0.0',
        tenants: ['t1', 't2', 't3', 't4', 't5'],
        variables: ws.variables(),
        steps: [{ name: 'work', on: 'worker', run: script('true', { gated: true }) }],
      },
    });
    await waitFor('node-a to fill its cap', async () => {
      const n = (await b.call('GET', '/v1/nodes')).json;
      return n[0].running === 2 && n[1].running === 0;
    });
    ws.open();
    const done = await finished(b, d.id);
    expect(done.state).toBe('succeeded');
    expect(new Set(done.tasks.map((t) => t.node))).toEqual(new Set(['node-a']));

    // Resumed through its own API, node-b takes tasks again.
    expect((await b.call('POST', '/v1/nodes/node-b/resume')).json).toMatchObject({
      taskCap: 3,
      draining: false,
    });
    expect((await b.call('GET', '/readyz')).status).toBe(200);

    // A stopped agent's node is not live, without waiting for its lease to expire.
    await b.stop();
    const after = (await a.call('GET', '/v1/nodes')).json;
    expect(after.map((n: { name: string; live: boolean }) => [n.name, n.live])).toEqual([
      ['node-a', true],
      ['node-b', false],
    ]);
  },
);

// Each test names its own nodes: a node's task cap outlives its agent.
/** Two nodes named `<prefix>-a` and `<prefix>-b`, and a plan whose tasks wait for the workspace's gate. */
async function twoNodesAndGatedPlan(prefix: string, taskCap: number, plan: Record<string, unknown>) {
  const env = { ...TEST_ENV, FLOTILLA_DATABASE_URL: schema.url };
  const a = await startTestAgent({ node: `${prefix}-a`, taskCap }, env);
  await startTestAgent({ node: `${prefix}-b`, taskCap }, env);
  const ws = workspace();
  const d = await submit(a, {
    plan: {
      version: 1,
      project: prefix,
      environment: 'prod',
      release: '1.0.0',
      variables: ws.variables(),
      steps: [{ name: 'work', on: 'worker', run: script('true', { gated: true }) }],
      ...plan,
    },
  });
  return { a, ws, d };
}

it.skipIf(!available)('says why a task waits once, not once per node', async () => {
  const { a, ws, d } = await twoNodesAndGatedPlan('wait', 1, {
    tenants: ['t1', 't2', 't3'],
    concurrency: { tag: 'one' },
  });
  const live = await openSse(`${a.url}/v1/deployments/${d.id}/events`);
  const waiting = () => live.events.filter((e) => e.type === 'task.waiting');
  await waitFor(
    'both queued tasks to be said waiting',
    () => new Set(waiting().map((e) => e.data.taskId)).size === 2,
  );
  // Both nodes look every 500 ms: time enough for a second node to say it again.
  await new Promise((r) => setTimeout(r, 1500));
  ws.open();
  // Each is said once, without the holder's running time (which the API adds).
  const all = await live.ended;
  const holder = all.find((e) => e.type === 'task.started')!.data.taskId;
  const queued = all
    .filter((e) => e.type === 'task.queued' && e.data.taskId !== holder)
    .map((e) => e.data.taskId);
  for (const id of queued) {
    // Once the gate opens, the third task may be said waiting behind the second.
    const said = waiting()
      .filter((e) => e.data.taskId === id)
      .map((e) => (e.data.data as { waitingOn: string }).waitingOn);
    expect(said[0]).toBe(`concurrency tag one held by task ${holder} (deployment ${d.id})`);
    expect(said).toEqual([...new Set(said)]);
  }
});

it.skipIf(!available)(
  'a deployment whose last tasks end on two nodes at once is said finished once',
  async () => {
    const { a, ws, d } = await twoNodesAndGatedPlan('ends', 2, { tenants: ['t1', 't2', 't3', 't4'] });
    await waitFor('both nodes to run two tasks', async () => {
      const n = (await a.call('GET', '/v1/nodes')).json;
      return n[0].running === 2 && n[1].running === 2;
    });
    ws.open();
    expect((await finished(a, d.id)).state).toBe('succeeded');
    // The stream ends at the first deployment.finished: count in the database,
    // after both nodes have written what they buffered.
    await new Promise((r) => setTimeout(r, 500));
    const sql = postgres(schema.url, { max: 1, onnotice: () => {} });
    try {
      const said = await sql`
      SELECT type, count(*)::int AS n FROM events
      WHERE deployment_id = ${d.id} AND type LIKE 'deployment.%' GROUP BY type ORDER BY type`;
      expect(said.map((r) => [r.type, r.n])).toEqual([
        ['deployment.finished', 1],
        ['deployment.queued', 1],
        ['deployment.running', 1],
      ]);
    } finally {
      await sql.end({ timeout: 1 });
    }
  },
);

it('an agent whose database cannot be used says so and exits', async () => {
  const dir = tempDir('flotilla-pg-');
  const config = writeAgentConfig(join(dir, 'agent'), { node: 'lost' });
  const r = await runCli([
    'agent',
    '--config',
    config,
    '--database-url',
    'postgres://postgres:pw@127.0.0.1:1/test',
  ]);
  expect(r.code).not.toBe(0);
  expect(r.stderr).toContain('cannot use the database at postgres://postgres:***@127.0.0.1:1/test');
  expect(r.stderr).not.toContain(':pw@');
  expect(r.stderr).not.toMatch(/\n\s+at /);
});
