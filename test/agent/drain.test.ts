// Draining a real `flotilla agent`: with `flotilla drain` running tasks
// finish and nothing new starts until `flotilla resume`; SIGTERM drains and
// then exits 0.
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { killChildren, runCli, spawnAgent, writeAgentConfig } from '../helpers/agent.ts';
import { deployment, finished, scriptsStarted, submit, until } from '../helpers/deploy.ts';
import { checkRecords } from '../helpers/records.ts';
import { type Json, removeTempDirs, waitFor } from '../helpers/util.ts';
import { releaseWorkspaces, script, type Workspace, workspace } from '../helpers/workspace.ts';

afterEach(async () => {
  releaseWorkspaces();
  await killChildren();
  removeTempDirs();
});

const gatedPlan = (ws: Workspace, tenants: string[]) => ({
  version: 1,
  project: 'shop',
  environment: 'prod',
  release: '1.0.0',
  tenants,
  variables: ws.variables(),
  steps: [{ name: 'work', on: 'worker', run: script('sleep 0.05', { gated: true }) }],
});

it('flotilla drain: running tasks finish, nothing new starts; flotilla resume: the rest run', async () => {
  const ws = workspace();
  const config = writeAgentConfig(join(ws.dir, 'agent'), { node: 'dr-1', taskCap: 2 });
  const agent = await spawnAgent(config);
  const sub = await submit(agent, { plan: gatedPlan(ws, ['a', 'b', 'c', 'd']) });
  const [a, b, c, d] = sub.tasks;
  expect(await scriptsStarted(agent, ws, 2)).toBe(2);

  const drain = await runCli(['drain', 'dr-1', '--agent', agent.url]);
  expect(drain.code, drain.stderr).toBe(0);
  expect(drain.stdout).toContain('node dr-1: task cap 0 (draining), 2 running');
  expect((await agent.call('GET', '/readyz')).status).toBe(503);

  ws.open();
  await until(agent, sub.id, 'a and b to finish', (v) =>
    [a!, b!].every((x) => v.tasks.find((t) => t.id === x.id)?.state === 'succeeded'),
  );
  const queue = await waitFor('c and d to wait for the drained node', async () => {
    const q = (await agent.call('GET', '/v1/queue')).json;
    return q.length === 2 && q.every((t: Json) => t.waitingOn?.startsWith('node dr-1 is draining'))
      ? q
      : undefined;
  });
  expect(queue.map((t: Json) => t.id)).toEqual([c!.id, d!.id]);
  const status = await runCli(['status', '--agent', agent.url]);
  expect(status.code).toBe(0);
  expect(status.stdout).toMatch(/dr-1\s+0\s+0\s+draining/);
  expect(status.stdout).toContain('node dr-1 is draining');
  expect(status.stdout).toMatch(/^dr-1 \(own\)\s+online\s+/m);
  // a and b start together: their start records may land in either order.
  expect(
    ws
      .starts()
      .map((s) => s.task)
      .sort(),
  ).toEqual([a!.id, b!.id].sort());

  const resume = await runCli(['resume', 'dr-1', '--agent', agent.url]);
  expect(resume.code, resume.stderr).toBe(0);
  expect(resume.stdout).toContain('node dr-1: resumed, task cap 2');
  const done = await finished(agent, sub.id);
  expect(done.state).toBe('succeeded');
  expect(ws.starts().length).toBe(4);
  expect(
    checkRecords(ws.records(), { cap: 2, submissionOrder: sub.tasks.map((t) => t.id) }).violations,
  ).toEqual([]);
  expect((await agent.call('GET', '/readyz')).status).toBe(200);
});

it('SIGTERM drains: running tasks finish, then the agent exits 0; the queued task runs after a restart', async () => {
  const ws = workspace();
  const config = writeAgentConfig(join(ws.dir, 'agent'), { node: 'st-1', taskCap: 2 });
  let agent = await spawnAgent(config);
  const sub = await submit(agent, { plan: gatedPlan(ws, ['a', 'b', 'c']) });
  const [a, b, c] = sub.tasks;
  expect(await scriptsStarted(agent, ws, 2)).toBe(2);

  let exit: { code: number | null; signal: string | null } | null = null;
  void agent.exited.then((e) => {
    exit = e;
  });
  process.kill(agent.pid, 'SIGTERM');
  await waitFor(
    'the agent to report draining',
    async () => (await agent.call('GET', '/readyz')).status === 503,
  );
  // Still serving while its tasks run.
  expect(exit).toBeNull();
  expect((await deployment(agent, sub.id)).tasks.map((t) => t.state)).toEqual([
    'running',
    'running',
    'queued',
  ]);

  ws.open();
  expect(await agent.exited).toEqual({ code: 0, signal: null });
  expect(agent.stdout()).toContain('draining: waiting for running tasks, then exiting');
  const ended = ws
    .records()
    .filter((r) => r.kind === 'end')
    .map((r) => r.task);
  expect(new Set(ended)).toEqual(new Set([a!.id, b!.id]));
  expect(ws.starts().some((s) => s.task === c!.id)).toBe(false);

  agent = await spawnAgent(config);
  const done = await finished(agent, sub.id);
  expect(done.tasks.map((t) => t.state)).toEqual(['succeeded', 'succeeded', 'succeeded']);
  expect(done.tasks.map((t) => t.message)).toEqual([null, null, null]);
  // Each ran once: a and b before the exit, c after the restart.
  expect(
    ws
      .starts()
      .map((s) => s.task)
      .sort(),
  ).toEqual([a!.id, b!.id, c!.id].sort());
});
