// The event stream (SSE with ids and Last-Event-ID) and task logs (timestamped,
// secrets masked), over real HTTP.
import { afterEach, describe, expect, it } from 'vitest';
import { startTestAgent, stopTestAgents } from '../helpers/agent.ts';
import { deployment, finished, submit } from '../helpers/deploy.ts';
import { openSse } from '../helpers/sse.ts';
import { removeTempDirs, waitFor } from '../helpers/util.ts';
import { releaseWorkspaces, script, workspace } from '../helpers/workspace.ts';

afterEach(async () => {
  releaseWorkspaces();
  await stopTestAgents();
  removeTempDirs();
});

describe('GET /v1/deployments/:id/events', () => {
  it('streams transitions and log lines with increasing ids, ends after deployment.finished, and resumes after Last-Event-ID', async () => {
    const agent = await startTestAgent({ taskCap: 2 });
    const ws = workspace();
    const sub = await submit(agent, {
      plan: {
        version: 1,
        project: 'shop',
        environment: 'prod',
        release: '1.0.0',
        tenants: ['a', 'b'],
        variables: ws.variables(),
        steps: [
          { name: 'first', on: 'worker', run: script('echo "first of $FLOTILLA_TENANT"', { gated: true }) },
          { name: 'second', on: 'worker', run: 'echo "second of $FLOTILLA_TENANT"' },
        ],
      },
    });
    const url = `${agent.url}/v1/deployments/${sub.id}/events`;
    const live = await openSse(url);
    await waitFor(
      'both tasks to start',
      () => live.events.filter((e) => e.type === 'task.started').length === 2,
    );
    ws.open();
    const all = await live.ended;

    expect(all.at(-1)!.type).toBe('deployment.finished');
    expect(all.at(-1)!.data.data).toMatchObject({ state: 'succeeded', succeeded: 2 });
    for (const [i, e] of all.entries()) {
      expect(e.id).toBe(e.data.id);
      expect(e.type).toBe(e.data.type);
      if (i > 0) expect(e.id).toBeGreaterThan(all[i - 1]!.id);
    }
    const types = new Set(all.map((e) => e.type));
    for (const t of [
      'deployment.queued',
      'task.queued',
      'deployment.running',
      'task.started',
      'action.started',
      'log',
      'action.succeeded',
      'task.finished',
    ]) {
      expect(types, t).toContain(t);
    }
    const logs = all.filter((e) => e.type === 'log').map((e) => e.data.data.line);
    expect(logs).toEqual(expect.arrayContaining(['first of a', 'first of b', 'second of a', 'second of b']));

    // Resuming after an event gives exactly the events after it, to the end.
    const middle = all.findIndex((e) => e.type === 'action.succeeded');
    const resumed = await openSse(url, { 'last-event-id': String(all[middle]!.id) });
    const rest = await resumed.ended;
    expect(rest.map((e) => e.id)).toEqual(all.slice(middle + 1).map((e) => e.id));
    expect(rest.at(-1)!.type).toBe('deployment.finished');

    const byQuery = await (await openSse(`${url}?lastEventId=${all.at(-2)!.id}`)).ended;
    expect(byQuery.map((e) => e.id)).toEqual([all.at(-1)!.id]);

    // Resuming after the last event of a finished deployment: nothing more, and the stream ends.
    const afterEnd = await (await openSse(url, { 'last-event-id': String(all.at(-1)!.id) }, 10_000)).ended;
    expect(afterEnd).toEqual([]);

    const bad = await agent.call('GET', `/v1/deployments/${sub.id}/events`, {
      headers: { 'last-event-id': 'yesterday' },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('bad_request');
  });
});

describe('GET /v1/tasks/:id/log', () => {
  it('has timestamped lines and masks plan secrets, tenant secret values and submitted secrets everywhere', async () => {
    const agent = await startTestAgent({ taskCap: 2 });
    const planToken = 'plan-SECRET-1111';
    const tenantToken = 'tenant-SECRET-2222';
    const apiKey = 'api-SECRET-3333';
    const sub = await submit(agent, {
      plan: {
        version: 1,
        project: 'shop',
        environment: 'prod',
        release: '1.0.0',
        tenants: [{ name: 'acme', variables: { TOKEN: tenantToken } }, 'globex'],
        variables: { TOKEN: planToken },
        secrets: ['TOKEN'],
        steps: [
          {
            name: 'print',
            on: 'worker',
            run: [
              'echo "token=$TOKEN"',
              'echo "api=$API_KEY"',
              'echo "plain line"',
              'echo "err $TOKEN" >&2',
              'echo "both $TOKEN and $API_KEY in one line"',
            ].join('\n'),
          },
          { name: 'fail', on: 'worker', run: 'echo "failing with $API_KEY"; exit 3', continueOnError: true },
        ],
      },
      secrets: { API_KEY: apiKey },
    });
    const done = await finished(agent, sub.id);
    expect(done.state).toBe('succeeded');

    for (const task of sub.tasks) {
      const r = await agent.call('GET', `/v1/tasks/${task.id}/log`);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
      const lines = r.text.trimEnd().split('\n');
      expect(lines.length).toBeGreaterThanOrEqual(6);
      for (const l of lines) expect(l).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /);
      const bodies = lines.map((l) => l.slice(25));
      expect(bodies).toEqual(
        expect.arrayContaining([
          '[print] token=***',
          '[print] api=***',
          '[print] plain line',
          '[print] err ***',
          '[print] both *** and *** in one line',
          '[fail] failing with ***',
        ]),
      );
      expect(r.text).not.toContain('SECRET');
    }

    // Not in the event stream or the deployment view either.
    const events = await (await openSse(`${agent.url}/v1/deployments/${sub.id}/events`)).ended;
    expect(events.length).toBeGreaterThan(5);
    expect(JSON.stringify(events)).not.toContain('SECRET');
    expect(JSON.stringify(await deployment(agent, sub.id))).not.toContain('SECRET');
  });
});
