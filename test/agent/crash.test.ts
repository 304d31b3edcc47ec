// kill -9 of a real `flotilla agent` mid-run, then a restart on the same data
// dir: nothing accepted is lost, tasks that had not started an action run,
// tasks that had become `interrupted` (or run again with onInterrupt:
// requeue), and every task ends in a terminal state.
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { killChildren, spawnAgent, writeAgentConfig } from '../helpers/agent.ts';
import { deployment, finished, scriptsStarted, submit } from '../helpers/deploy.ts';
import { checkRecords } from '../helpers/records.ts';
import { type Json, removeTempDirs } from '../helpers/util.ts';
import { releaseWorkspaces, script, workspace } from '../helpers/workspace.ts';

afterEach(async () => {
  releaseWorkspaces();
  await killChildren();
  removeTempDirs();
});

it('survives kill -9: no deployment lost, unstarted tasks run, started ones are interrupted or requeued', async () => {
  const ws = workspace();
  // One target per deployment, so both crashed tasks hold a target's mutex when the agent dies.
  const config = writeAgentConfig(join(ws.dir, 'agent'), {
    node: 'k9',
    taskCap: 2,
    worker: {
      targets: [
        { name: 'web-fail', roles: ['fail'] },
        { name: 'web-requeue', roles: ['requeue'] },
      ],
    },
  });
  let agent = await spawnAgent(config);

  const plan = (onInterrupt: string, names: string[]) => ({
    version: 1,
    project: `p-${onInterrupt}`,
    environment: 'prod',
    release: '1.0.0',
    tenants: names,
    onInterrupt,
    // One task of each deployment at a time: the second waits, unstarted.
    concurrency: { maxRunningTasks: 1 },
    variables: ws.variables(),
    steps: [
      {
        name: 'slow',
        targets: { roles: [onInterrupt] },
        run: script('sleep 0.05', { tag: '#{tenant}/#{project}/#{environment}', gated: true }),
      },
      { name: 'after', on: 'worker', run: 'echo after' },
    ],
  });
  const failing = await submit(agent, { plan: plan('fail', ['a', 'b']) });
  const requeue = await submit(agent, { plan: plan('requeue', ['c', 'd']) });
  const [a, b] = failing.tasks;
  const [c, d] = requeue.tasks;
  expect(await scriptsStarted(agent, ws, 2)).toBe(2);
  expect(new Set(ws.starts().map((s) => s.task))).toEqual(new Set([a!.id, c!.id]));

  // Accepted just before the crash, queued behind the full task cap.
  const late = await submit(agent, {
    plan: {
      version: 1,
      project: 'late',
      environment: 'prod',
      release: '1.0.0',
      variables: ws.variables(),
      // Needs both targets, whose locks the crashed tasks held.
      steps: [
        {
          name: 'quick',
          targets: { roles: ['fail', 'requeue'] },
          run: script('true', { tag: '#{project}/#{environment}' }),
        },
      ],
    },
  });
  expect((await deployment(agent, late.id)).tasks[0]!.state).toBe('queued');

  process.kill(agent.pid, 'SIGKILL');
  expect(await agent.exited).toEqual({ code: null, signal: 'SIGKILL' });
  // The machine died with the agent: its scripts die too.
  ws.killScripts();
  ws.open();

  agent = await spawnAgent(config);
  const [f, r, l] = [
    await finished(agent, failing.id),
    await finished(agent, requeue.id),
    await finished(agent, late.id),
  ];

  const state = (view: typeof f, id: string) => view.tasks.find((t) => t.id === id)!;
  expect(state(f, a!.id)).toMatchObject({ state: 'interrupted' });
  expect(state(f, a!.id).message).toContain('node k9 stopped while the task was running');
  expect(state(f, b!.id).state).toBe('succeeded');
  expect(f.state).toBe('failed');

  expect(state(r, c!.id).state).toBe('succeeded');
  expect(state(r, d!.id).state).toBe('succeeded');
  expect(r.state).toBe('succeeded');
  expect(l.state).toBe('succeeded');

  const startsOf = (id: string) => ws.starts().filter((s) => s.task === id).length;
  expect(startsOf(a!.id)).toBe(1); // interrupted, never run again
  expect(startsOf(b!.id)).toBe(1);
  expect(startsOf(c!.id)).toBe(2); // requeued and run again
  expect(startsOf(d!.id)).toBe(1);
  expect(startsOf(l.tasks[0]!.id)).toBe(2); // one action per target

  const all = (await agent.call('GET', '/v1/deployments')).json.map((x: Json) => x.id);
  expect(all).toEqual(expect.arrayContaining([failing.id, requeue.id, late.id]));
  // After the restart the rules still held (the killed runs have no end line).
  const check = checkRecords(ws.records(), { cap: 2, complete: false });
  expect(check.violations).toEqual([]);
  expect((await agent.call('GET', '/v1/queue')).json).toEqual([]);
});
