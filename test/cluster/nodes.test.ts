// Several agents on one PostgreSQL, through the HTTP API: /v1/nodes lists
// every node, a drain sent to any node reaches the drained one (its /readyz
// turns 503), the other nodes take its queued tasks, and a database that
// cannot be used stops `flotilla agent --database-url` with a plain message.
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { runCli, startTestAgent, stopTestAgents, TEST_ENV, writeAgentConfig } from '../helpers/agent.ts';
import { finished, submit } from '../helpers/deploy.ts';
import { createTestSchema, postgresAvailable, type TestSchema } from '../helpers/postgres.ts';
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
