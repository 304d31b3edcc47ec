// Why tasks and actions wait: GET /v1/queue and GET /v1/deployments/:id carry
// a waitingOn reason for the task cap, a held concurrency tag, a draining
// node and a busy target. Scripts wait on a gate file, so every state the
// tests look at holds until the test opens the gate.
import { afterEach, describe, expect, it } from 'vitest';
import { startTestAgent, stopTestAgents } from '../helpers/agent.ts';
import { deployment, finished, scriptsStarted, submit, until } from '../helpers/deploy.ts';
import { checkRecords } from '../helpers/records.ts';
import { type Json, removeTempDirs, waitFor } from '../helpers/util.ts';
import { releaseWorkspaces, script, workspace } from '../helpers/workspace.ts';

afterEach(async () => {
  releaseWorkspaces();
  await stopTestAgents();
  removeTempDirs();
});

describe('waitingOn', () => {
  it('names the task cap, the tag holder and the draining node, in the queue and the deployment', async () => {
    const agent = await startTestAgent({ taskCap: 2 });
    const ws = workspace();
    const tag = '#{tenant.tags.g}';
    const sub = await submit(agent, {
      plan: {
        version: 1,
        project: 'shop',
        environment: 'prod',
        release: '1.0.0',
        tenants: [
          { name: 'a', tags: { g: 'x' } },
          { name: 'b', tags: { g: 'x' } },
          { name: 'c', tags: { g: 'y' } },
          { name: 'd', tags: { g: 'z' } },
        ],
        concurrency: { tag },
        variables: ws.variables(),
        steps: [{ name: 'work', on: 'worker', run: script('echo working', { tag, gated: true }) }],
      },
    });
    const [a, b, c, d] = sub.tasks;
    expect(sub.tasks.map((t) => t.concurrencyTag)).toEqual(['x', 'x', 'y', 'z']);

    expect(await scriptsStarted(agent, ws, 2)).toBe(2);
    expect(new Set(ws.starts().map((s) => s.task))).toEqual(new Set([a!.id, c!.id]));

    const queue = await agent.call('GET', '/v1/queue');
    expect(queue.status).toBe(200);
    expect(queue.json.map((t: Json) => t.id)).toEqual([b!.id, d!.id]);
    const reasons = new Map<string, string>(queue.json.map((t: Json) => [t.id, t.waitingOn]));
    expect(reasons.get(b!.id)).toMatch(
      new RegExp(`^concurrency tag x held by task ${a!.id} \\(deployment ${sub.id}, running .+\\)$`),
    );
    expect(reasons.get(d!.id)).toBe(`task cap: node ${agent.node} runs 2 of 2`);
    expect(queue.json[0]).toMatchObject({ deploymentId: sub.id, tenant: 'b', state: 'queued' });

    const view = await deployment(agent, sub.id);
    expect(view.state).toBe('running');
    const byId = new Map(view.tasks.map((t) => [t.id, t]));
    for (const running of [a!, c!]) {
      const t = byId.get(running.id)!;
      expect(t).toMatchObject({ state: 'running', node: agent.node, waitingOn: null });
      expect(t.startedAt).not.toBeNull();
      expect(t.actions).toEqual([
        expect.objectContaining({ step: 'work', state: 'running', attempt: 1, worker: agent.node }),
      ]);
    }
    for (const queued of [b!, d!]) {
      const t = byId.get(queued.id)!;
      expect(t.state).toBe('queued');
      // The same reason, but for the holder's running time, which grows.
      const stable = (r: string | null | undefined) => r?.replace(/, running [^)]*\)$/, ')');
      expect(stable(t.waitingOn)).toBe(stable(reasons.get(queued.id)));
      expect(t.actions).toEqual([]);
    }

    // Drained: running tasks go on, and the queue says the node drains.
    const drain = await agent.call('POST', `/v1/nodes/${agent.node}/drain`, { json: {} });
    expect(drain.status).toBe(200);
    const drainedReason = (await agent.call('GET', '/v1/queue')).json.find(
      (t: Json) => t.id === d!.id,
    )?.waitingOn;
    expect(drainedReason).toMatch(new RegExp(`^node ${agent.node} is draining`));

    ws.open();
    await until(agent, sub.id, 'a and c to finish', (v) =>
      [a!, c!].every((x) => v.tasks.find((t) => t.id === x.id)?.state === 'succeeded'),
    );
    // Tag x is free now; b waits only for the drained node.
    const afterRun = await waitFor('b to wait only for the drained node', async () => {
      const q = (await agent.call('GET', '/v1/queue')).json;
      return q.length === 2 && q.every((t: Json) => /is draining/.test(t.waitingOn)) ? q : undefined;
    });
    expect(afterRun.map((t: Json) => t.id)).toEqual([b!.id, d!.id]);
    expect(ws.starts().length).toBe(2);

    await agent.call('POST', `/v1/nodes/${agent.node}/resume`, { json: {} });
    const done = await finished(agent, sub.id);
    expect(done.state).toBe('succeeded');
    expect(done.tasks.map((t) => t.state)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    const check = checkRecords(ws.records(), {
      cap: 2,
      submissionOrder: sub.tasks.map((t) => t.id),
      tagOf: new Map(sub.tasks.map((t) => [t.id, t.concurrencyTag])),
    });
    expect(check.violations).toEqual([]);
    expect((await agent.call('GET', '/v1/queue')).json).toEqual([]);
  });

  it('says which task holds a busy target (mutex); bypassTargetMutex lets actions share it', async () => {
    const agent = await startTestAgent({
      taskCap: 4,
      worker: { targets: [{ name: 'web-1', roles: ['web'] }] },
    });
    const ws = workspace();
    const planOf = (bypass: boolean, release: string) => ({
      version: 1,
      project: 'shop',
      environment: bypass ? 'shared' : 'prod',
      release,
      tenants: ['a', 'b'],
      concurrency: { bypassTargetMutex: bypass },
      variables: ws.variables(),
      steps: [{ name: 'install', targets: { roles: ['web'] }, run: script('echo on', { gated: true }) }],
    });

    const sub = await submit(agent, { plan: planOf(false, '1.0.0') });
    const view = await until(agent, sub.id, 'one action running, one waiting for the target', (v) => {
      const acts = v.tasks.flatMap((t) => t.actions ?? []);
      return (
        acts.filter((x) => x.state === 'running').length === 1 &&
        acts.some((x) => x.state === 'pending' && x.waitingOn !== null)
      );
    });
    const holder = view.tasks.find((t) => t.actions?.[0]?.state === 'running')!;
    const waiter = view.tasks.find((t) => t.id !== holder.id)!;
    expect(waiter.state).toBe('running');
    expect(waiter.actions![0]!.waitingOn).toBe(`target web-1 busy with task ${holder.id} (mutex)`);
    ws.open();
    expect((await finished(agent, sub.id)).state).toBe('succeeded');
    expect(checkRecords(ws.records(), { cap: 4 }).violations).toEqual([]);

    // With the mutex lifted both actions run on web-1 at once.
    const ws2 = workspace();
    const shared = await submit(agent, {
      plan: { ...planOf(true, '1.0.1'), variables: ws2.variables() },
    });
    await waitFor('both actions to run on web-1 at once', () => ws2.starts().length === 2);
    const v2 = await deployment(agent, shared.id);
    expect(v2.tasks.flatMap((t) => t.actions!.map((x) => x.state))).toEqual(['running', 'running']);
    ws2.open();
    expect((await finished(agent, shared.id)).state).toBe('succeeded');
    const overlap = checkRecords(ws2.records(), { cap: 4 });
    expect(overlap.violations.some((v) => v.startsWith('target web-1'))).toBe(true);
    expect(checkRecords(ws2.records(), { cap: 4, bypassTargetMutex: true }).violations).toEqual([]);
  });

  it('cancelling a task that waits for a busy target ends it at once, leaving the holder alone', async () => {
    const agent = await startTestAgent({
      taskCap: 4,
      worker: { targets: [{ name: 'web-1', roles: ['web'] }] },
    });
    const ws = workspace();
    const planFor = (tenant: string) => ({
      version: 1,
      project: 'shop',
      environment: 'prod',
      release: '1.0.0',
      tenants: [tenant],
      variables: ws.variables(),
      steps: [{ name: 'install', targets: { roles: ['web'] }, run: script('echo on', { gated: true }) }],
    });
    const holder = await submit(agent, { plan: planFor('a') });
    expect(await scriptsStarted(agent, ws, 1)).toBe(1);
    const waiter = await submit(agent, { plan: planFor('b') });
    await until(agent, waiter.id, 'b to wait for web-1', (v) =>
      /^target web-1 busy with task /.test(v.tasks[0]?.actions?.[0]?.waitingOn ?? ''),
    );
    const cancel = await agent.call('POST', `/v1/deployments/${waiter.id}/cancel`);
    expect(cancel.status).toBe(200);
    const cancelled = await finished(agent, waiter.id, 10_000);
    expect(cancelled.state).toBe('cancelled');
    expect(cancelled.tasks[0]!.state).toBe('cancelled');
    expect(cancelled.tasks[0]!.actions![0]!.state).toBe('cancelled');
    expect((await deployment(agent, holder.id)).state).toBe('running');
    ws.open();
    expect((await finished(agent, holder.id)).state).toBe('succeeded');
    expect(ws.starts().map((x) => x.task)).toEqual([holder.tasks[0]!.id]);
  });
});
