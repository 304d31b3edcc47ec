// Submission, validation and error answers of the HTTP API, through real HTTP
// on loopback against an in-process agent.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestAgent, stopTestAgents, type TestAgent } from '../helpers/agent.ts';
import { type Json, removeTempDirs } from '../helpers/util.ts';
import { releaseWorkspaces } from '../helpers/workspace.ts';

const plan = (extra: Record<string, unknown> = {}) => ({
  version: 1,
  project: 'shop',
  environment: 'prod',
  release: '1.0.0',
  steps: [{ name: 'hello', on: 'worker', run: 'echo hi' }],
  ...extra,
});

/** Every error answer has this shape and no trace of the agent's internals. */
function expectError(r: { status: number; text: string; json: Json }, status: number, code: string) {
  expect(r.status, r.text).toBe(status);
  expect(r.json?.error?.code, r.text).toBe(code);
  expect(typeof r.json.error.message).toBe('string');
  expect(r.text).not.toMatch(/\n\s+at |\.ts:\d+|node_modules|stack/);
}

let agent: TestAgent;

beforeEach(async () => {
  // Cap 0: nothing runs, so these tests see only the API.
  agent = await startTestAgent({ taskCap: 0 });
});

afterEach(async () => {
  releaseWorkspaces();
  await stopTestAgents();
  removeTempDirs();
});

describe('POST /v1/deployments', () => {
  it('answers 201, then 200 with the same deployment for the same idempotencyKey', async () => {
    const body = { plan: plan({ tenants: ['acme', 'globex'] }), idempotencyKey: 'run-1/attempt-1' };
    const first = await agent.call('POST', '/v1/deployments', { json: body });
    expect(first.status, first.text).toBe(201);
    expect(first.json.id).toMatch(/^dep_/);
    expect(first.json.url).toBe(`${agent.url}/v1/deployments/${first.json.id}`);
    expect(first.json.tasks.map((t: Json) => [t.tenant, t.concurrencyTag, t.state])).toEqual([
      ['acme', 'acme/shop/prod', 'queued'],
      ['globex', 'globex/shop/prod', 'queued'],
    ]);

    const again = await agent.call('POST', '/v1/deployments', { json: body });
    expect(again.status, again.text).toBe(200);
    expect(again.json.id).toBe(first.json.id);
    expect(again.json.tasks.map((t: Json) => t.id)).toEqual(first.json.tasks.map((t: Json) => t.id));

    const other = await agent.call('POST', '/v1/deployments', {
      json: { ...body, idempotencyKey: 'run-1/attempt-2' },
    });
    expect(other.status).toBe(201);
    expect(other.json.id).not.toBe(first.json.id);
    const list = await agent.call('GET', '/v1/deployments');
    expect(list.json.map((d: Json) => d.id).sort()).toEqual([first.json.id, other.json.id].sort());
  });

  it('refuses a bad YAML plan whole, with every issue located by path, line and column', async () => {
    const text = [
      'version: 1', //                      line 1
      'project: shop',
      'environment: prod',
      'steps:',
      '  - name: build',
      '    on: worker',
      '    run: echo hi',
      '    retries: -1', //                   line 8: negative
      '  - name: deploy',
      '    run: echo hi',
      '    targets: { roles: [] }', //        line 11: empty roles
      '    window: 0', //                     line 12: below 1
    ].join('\n');
    const r = await agent.call('POST', '/v1/deployments', { json: { plan: text } });
    expectError(r, 400, 'invalid_plan');
    const issues: { path: string; message: string; line?: number; column?: number }[] = r.json.error.issues;
    expect(issues.length).toBeGreaterThanOrEqual(3);
    for (const i of issues) {
      expect(i.path).toMatch(/^\//);
      expect(i.message.length).toBeGreaterThan(0);
      expect(typeof i.line, JSON.stringify(i)).toBe('number');
      expect(typeof i.column, JSON.stringify(i)).toBe('number');
    }
    const at = (path: string) => issues.find((i) => i.path === path);
    expect(at('/steps/1/window')).toMatchObject({ line: 12 });
    expect(at('/steps/1/targets/roles')).toMatchObject({ line: 11 });
    expect(at('/steps/0/retries')).toMatchObject({ line: 8 });
  });

  it('refuses an unknown #{name} in a YAML plan, naming the field and its line', async () => {
    const text =
      'version: 1\nproject: shop\nsteps:\n  - name: build\n    on: worker\n    run: "echo #{nope}"\n';
    const r = await agent.call('POST', '/v1/deployments', { json: { plan: text } });
    expectError(r, 400, 'invalid_plan');
    const issue = r.json.error.issues.find((i: Json) => i.path.startsWith('/steps/0/run'));
    expect(issue, r.text).toMatchObject({ line: 6 });
    expect(typeof issue.column).toBe('number');
    expect(issue.message).toContain('nope');
  });

  it('refuses a YAML syntax error with its line', async () => {
    const r = await agent.call('POST', '/v1/deployments', {
      json: { plan: 'version: 1\nproject: [shop\nsteps:\n' },
    });
    expectError(r, 400, 'invalid_plan');
    expect(r.json.error.issues[0].line).toBeGreaterThanOrEqual(2);
  });

  it('names unknown body keys (invalid_request)', async () => {
    const r = await agent.call('POST', '/v1/deployments', { json: { plan: plan(), relase: '1.0.1' } });
    expectError(r, 400, 'invalid_request');
    expect(JSON.stringify(r.json.error)).toContain('relase');
  });

  it('answers invalid_json, 415, 413, and never a 500 for bad input', async () => {
    const broken = await agent.call('POST', '/v1/deployments', {
      body: '{"plan": {',
      headers: { 'content-type': 'application/json' },
    });
    expectError(broken, 400, 'invalid_json');

    const wrongType = await agent.call('POST', '/v1/deployments', {
      body: 'version: 1',
      headers: { 'content-type': 'text/yaml' },
    });
    expect(wrongType.status, wrongType.text).toBe(415);
    expect(wrongType.json?.error?.code).toBe('unsupported_media_type');
    expect(wrongType.text).not.toMatch(/\n\s+at /);

    const huge = await agent.call('POST', '/v1/deployments', {
      json: { plan: `# ${'x'.repeat(5 * 1024 * 1024)}` },
    });
    expectError(huge, 413, 'body_too_large');

    for (const body of ['null', '[]', '"plan"', '42', '{}', '{"plan": 7}']) {
      const r = await agent.call('POST', '/v1/deployments', {
        body,
        headers: { 'content-type': 'application/json' },
      });
      expect(r.status, `${body}: ${r.text}`).toBe(400);
      expect(r.text).not.toMatch(/\n\s+at /);
    }
  });

  it('answers 404 JSON for unknown deployments, tasks, nodes and routes', async () => {
    expectError(await agent.call('GET', '/v1/deployments/dep_nope'), 404, 'not_found');
    expectError(await agent.call('GET', '/v1/deployments/dep_nope/events'), 404, 'not_found');
    expectError(await agent.call('POST', '/v1/deployments/dep_nope/cancel'), 404, 'not_found');
    expectError(await agent.call('GET', '/v1/tasks/tsk_nope/log'), 404, 'not_found');
    expectError(
      await agent.call('PUT', '/v1/nodes/no-such-node', { json: { taskCap: 1 } }),
      404,
      'not_found',
    );
    const route = await agent.call('GET', '/v1/nothing-here');
    expectError(route, 404, 'not_found');
    expect(route.headers.get('content-type')).toMatch(/application\/json/);
  });
});

describe('nodes, health and metrics', () => {
  it('/healthz is 200; /readyz is 503 while drained and 200 after resume', async () => {
    expect((await agent.call('GET', '/healthz')).status).toBe(200);
    // This agent started with cap 0: drained.
    const drained = await agent.call('GET', '/readyz');
    expect(drained.status).toBe(503);
    expect(drained.text).toContain('draining');

    const up = await agent.call('PUT', `/v1/nodes/${agent.node}`, { json: { taskCap: 3 } });
    expect(up.status, up.text).toBe(200);
    expect(up.json).toMatchObject({ name: agent.node, taskCap: 3, draining: false });
    expect((await agent.call('GET', '/readyz')).status).toBe(200);

    const drain = await agent.call('POST', `/v1/nodes/${agent.node}/drain`, { json: {} });
    expect(drain.status, drain.text).toBe(200);
    expect(drain.json).toMatchObject({ taskCap: 0, draining: true });
    expect((await agent.call('GET', '/readyz')).status).toBe(503);

    const resume = await agent.call('POST', `/v1/nodes/${agent.node}/resume`, { json: {} });
    expect(resume.status, resume.text).toBe(200);
    expect(resume.json).toMatchObject({ taskCap: 3, draining: false });
    expect((await agent.call('GET', '/readyz')).status).toBe(200);

    // A cap of 0 set directly is a drain too, and resume returns to the cap before it.
    const zero = await agent.call('PUT', `/v1/nodes/${agent.node}`, { json: { taskCap: 0 } });
    expect(zero.json).toMatchObject({ taskCap: 0, draining: true });
    expect((await agent.call('GET', '/readyz')).status).toBe(503);
    const back = await agent.call('POST', `/v1/nodes/${agent.node}/resume`);
    expect(back.status, back.text).toBe(200);
    expect(back.json).toMatchObject({ taskCap: 3, draining: false });
    expect((await agent.call('GET', '/readyz')).status).toBe(200);

    const nodes = await agent.call('GET', '/v1/nodes');
    expect(nodes.json).toEqual([expect.objectContaining({ name: agent.node, taskCap: 3, live: true })]);
  });

  it('PUT /v1/nodes/:name refuses a bad body with 400', async () => {
    for (const json of [{}, { taskCap: -1 }, { taskCap: 1.5 }, { taskCap: '3' }, { taskCap: 2, extra: 1 }]) {
      const r = await agent.call('PUT', `/v1/nodes/${agent.node}`, { json });
      expectError(r, 400, 'invalid_request');
    }
    const notJson = await agent.call('PUT', `/v1/nodes/${agent.node}`, {
      body: 'cap=3',
      headers: { 'content-type': 'application/json' },
    });
    expectError(notJson, 400, 'invalid_json');
    const badDrain = await agent.call('POST', `/v1/nodes/${agent.node}/drain`, { json: { wait: 'yes' } });
    expectError(badDrain, 400, 'invalid_request');
  });

  it('/metrics reports queue depth and the oldest queued age', async () => {
    await agent.call('POST', '/v1/deployments', { json: { plan: plan({ tenants: ['a', 'b', 'c'] }) } });
    const r = await agent.call('GET', '/metrics');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/text\/plain/);
    expect(r.text).toMatch(/^flotilla_queue_depth 3$/m);
    const age = /^flotilla_oldest_queued_age_seconds ([\d.e+-]+)$/m.exec(r.text);
    expect(age, r.text).not.toBeNull();
    expect(Number(age![1])).toBeGreaterThanOrEqual(0);
    expect(r.text).toMatch(new RegExp(`^flotilla_task_cap\\{node="${agent.node}"\\} 0$`, 'm'));
  });
});
