// Step and task semantics end to end: real bash scripts run by an in-process
// agent, driven and observed through the HTTP API.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestAgent, stopTestAgents, type TestAgent } from '../helpers/agent.ts';
import { deployment, finished, scriptsStarted, submit, until } from '../helpers/deploy.ts';
import { checkRecords } from '../helpers/records.ts';
import { processAlive, removeTempDirs, waitFor } from '../helpers/util.ts';
import { releaseWorkspaces, script, type Workspace, workspace } from '../helpers/workspace.ts';

afterEach(async () => {
  releaseWorkspaces();
  await stopTestAgents();
  removeTempDirs();
});

const FOUR_TARGETS = {
  targets: ['web-1', 'web-2', 'web-3', 'web-4'].map((name) => ({ name, roles: ['web'] })),
};

function basePlan(ws: Workspace, extra: Record<string, unknown>) {
  return {
    version: 1,
    project: 'shop',
    environment: 'prod',
    release: '1.0.0',
    variables: ws.variables(),
    ...extra,
  };
}

const actionsOf = (d: Awaited<ReturnType<typeof deployment>>) => d.tasks.flatMap((t) => t.actions ?? []);

describe('retries and timeouts', () => {
  it('retries a failed action; FLOTILLA_ATTEMPT counts attempts', async () => {
    const agent = await startTestAgent({ taskCap: 2 });
    const ws = workspace();
    const flaky = 'echo "attempt $FLOTILLA_ATTEMPT"; if [ "$FLOTILLA_ATTEMPT" = 1 ]; then exit 7; fi';
    const ok = await submit(agent, {
      plan: basePlan(ws, { steps: [{ name: 'flaky', on: 'worker', run: flaky, retries: 1 }] }),
    });
    const d = await finished(agent, ok.id);
    expect(d.state).toBe('succeeded');
    expect(actionsOf(d)).toEqual([expect.objectContaining({ state: 'succeeded', attempt: 2, exitCode: 0 })]);
    const log = (await agent.call('GET', `/v1/tasks/${ok.tasks[0]!.id}/log`)).text;
    expect(log).toContain('attempt 1');
    expect(log).toContain('attempt 2');

    const noRetry = await submit(agent, {
      plan: basePlan(ws, {
        release: '1.0.1',
        steps: [{ name: 'flaky', on: 'worker', run: flaky }],
      }),
    });
    const failed = await finished(agent, noRetry.id);
    expect(failed.state).toBe('failed');
    expect(failed.tasks[0]).toMatchObject({ state: 'failed', message: 'step flaky failed' });
    expect(actionsOf(failed)).toEqual([
      expect.objectContaining({ state: 'failed', attempt: 1, exitCode: 7, message: 'exit code 7' }),
    ]);
  });

  it('a timeout kills the whole process group of the action', async () => {
    const agent = await startTestAgent({ taskCap: 2 });
    const ws = workspace();
    const pidFile = join(ws.out, 'child.pid');
    const sub = await submit(agent, {
      plan: basePlan(ws, {
        steps: [
          {
            name: 'hang',
            on: 'worker',
            timeout: '1s',
            run: `sleep 100 &\necho $! > "${pidFile}"\nsleep 100`,
          },
        ],
      }),
    });
    const d = await finished(agent, sub.id);
    expect(d.state).toBe('failed');
    expect(actionsOf(d)).toEqual([
      expect.objectContaining({ state: 'failed', message: 'timed out after 1s' }),
    ]);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(pid).toBeGreaterThan(1);
    await waitFor(`the background sleep (pid ${pid}) to be gone`, () => !processAlive(pid), 10_000);
  });
});

describe('failures', () => {
  // web-1 and web-2 fail; web-3 and web-4 succeed. Window 1 runs them in that order.
  const failTwo = (maxFailures: number | string, extra: Record<string, unknown> = {}) => [
    {
      name: 'roll',
      targets: { roles: ['web'] },
      window: 1,
      maxFailures,
      run: 'case "$FLOTILLA_TARGET" in web-1|web-2) exit 1;; esac; echo "ok on $FLOTILLA_TARGET"',
      ...extra,
    },
    { name: 'after', on: 'worker', run: 'echo after' },
  ];

  async function outcome(agent: TestAgent, ws: Workspace, release: string, steps: unknown[]) {
    const sub = await submit(agent, { plan: basePlan(ws, { release, steps }) });
    const d = await finished(agent, sub.id);
    const acts = actionsOf(d);
    return {
      task: d.tasks[0]!,
      roll: Object.fromEntries(acts.filter((a) => a.step === 'roll').map((a) => [a.target, a.state])),
      roll_messages: acts.filter((a) => a.step === 'roll').map((a) => a.message),
      after: acts.find((a) => a.step === 'after')!,
    };
  }

  it('maxFailures as a count: past it the step fails and the rest are skipped', async () => {
    const agent = await startTestAgent({ taskCap: 2, worker: FOUR_TARGETS });
    const ws = workspace();

    const tooMany = await outcome(agent, ws, '1.0.0', failTwo(1));
    expect(tooMany.task).toMatchObject({ state: 'failed', message: 'step roll failed' });
    expect(tooMany.roll).toEqual({
      'web-1': 'failed',
      'web-2': 'failed',
      'web-3': 'skipped',
      'web-4': 'skipped',
    });
    expect(tooMany.roll_messages.filter((m) => m?.includes('maxFailures')).length).toBe(2);
    expect(tooMany.after).toMatchObject({ state: 'skipped' });
    expect(tooMany.after.message).toContain('step roll failed');

    const within = await outcome(agent, ws, '1.0.1', failTwo(2));
    expect(within.task.state).toBe('succeeded');
    expect(within.roll).toEqual({
      'web-1': 'failed',
      'web-2': 'failed',
      'web-3': 'succeeded',
      'web-4': 'succeeded',
    });
    expect(within.after.state).toBe('succeeded');

    const none = await outcome(agent, ws, '1.0.2', failTwo(0));
    expect(none.task.state).toBe('failed');
    expect(none.roll).toEqual({
      'web-1': 'failed',
      'web-2': 'skipped',
      'web-3': 'skipped',
      'web-4': 'skipped',
    });
  });

  it('maxFailures as a percentage of the step’s targets', async () => {
    const agent = await startTestAgent({ taskCap: 2, worker: FOUR_TARGETS });
    const ws = workspace();
    const half = await outcome(agent, ws, '2.0.0', failTwo('50%'));
    expect(half.task.state).toBe('succeeded');
    expect(half.roll).toEqual({
      'web-1': 'failed',
      'web-2': 'failed',
      'web-3': 'succeeded',
      'web-4': 'succeeded',
    });

    const quarter = await outcome(agent, ws, '2.0.1', failTwo('25%'));
    expect(quarter.task.state).toBe('failed');
    expect(quarter.roll).toEqual({
      'web-1': 'failed',
      'web-2': 'failed',
      'web-3': 'skipped',
      'web-4': 'skipped',
    });
  });

  it('continueOnError: a failed step does not fail the task', async () => {
    const agent = await startTestAgent({ taskCap: 2, worker: FOUR_TARGETS });
    const ws = workspace();
    const r = await outcome(agent, ws, '3.0.0', failTwo(0, { continueOnError: true }));
    expect(r.task.state).toBe('succeeded');
    expect(r.roll['web-1']).toBe('failed');
    expect(r.after.state).toBe('succeeded');
  });
});

describe('window', () => {
  it('runs at most `window` actions of a step at once and says why the others wait', async () => {
    const agent = await startTestAgent({ taskCap: 2, worker: FOUR_TARGETS });
    const ws = workspace();
    const sub = await submit(agent, {
      plan: basePlan(ws, {
        steps: [
          {
            name: 'roll',
            targets: { roles: ['web'] },
            window: 2,
            run: script('sleep 0.1', { gated: true, tag: '#{project}/#{environment}' }),
          },
        ],
      }),
    });
    const view = await until(agent, sub.id, 'two actions running', (d) => {
      return actionsOf(d).filter((a) => a.state === 'running').length === 2;
    });
    const waiting = actionsOf(view).filter((a) => a.state === 'pending');
    expect(waiting.length).toBe(2);
    for (const a of waiting) expect(a.waitingOn).toBe('window: step roll runs 2 of 2 actions at once');
    ws.open();
    expect((await finished(agent, sub.id)).state).toBe('succeeded');
    const check = checkRecords(ws.records(), { cap: 2, window: 2 });
    expect(check.violations).toEqual([]);
    expect(check.maxPerStep).toBe(2);
    expect(ws.starts().length).toBe(4);
  });
});

describe('queueing rules', () => {
  it('supersede: a newer queued task with the same tag cancels older queued ones', async () => {
    const agent = await startTestAgent({ taskCap: 2 });
    const ws = workspace();
    const plan = (release: string, supersede: boolean, gated: boolean) =>
      basePlan(ws, {
        release,
        supersede,
        steps: [
          {
            name: 'go',
            on: 'worker',
            run: script('echo "#{release}"', { tag: '#{project}/#{environment}', gated }),
          },
        ],
      });
    const running = await submit(agent, { plan: plan('1', false, true) });
    expect(await scriptsStarted(agent, ws, 1)).toBe(1);
    const older = await submit(agent, { plan: plan('2', true, false) });
    const newer = await submit(agent, { plan: plan('3', true, false) });

    // At once: the older queued deployment is cancelled; the running one is untouched.
    const o = await deployment(agent, older.id);
    expect(o.state).toBe('cancelled');
    expect(o.tasks[0]).toMatchObject({ state: 'cancelled', message: `superseded by deployment ${newer.id}` });
    expect((await deployment(agent, running.id)).state).toBe('running');
    expect((await deployment(agent, newer.id)).tasks[0]!.state).toBe('queued');

    ws.open();
    expect((await finished(agent, running.id)).state).toBe('succeeded');
    expect((await finished(agent, newer.id)).state).toBe('succeeded');
    expect(ws.starts().map((s) => s.task)).toEqual([running.tasks[0]!.id, newer.tasks[0]!.id]);

    // Without supersede, queued tasks of the tag all run.
    const ws2 = workspace();
    const p2 = (release: string, gated: boolean) => ({
      ...plan(release, false, gated),
      variables: ws2.variables(),
    });
    const first = await submit(agent, { plan: p2('4', true) });
    expect(await scriptsStarted(agent, ws2, 1)).toBe(1);
    const a = await submit(agent, { plan: p2('5', false) });
    const b = await submit(agent, { plan: p2('6', false) });
    expect((await deployment(agent, a.id)).state).toBe('queued');
    ws2.open();
    for (const id of [first.id, a.id, b.id]) expect((await finished(agent, id)).state).toBe('succeeded');
  });

  it('priority high is queued ahead of normal; FIFO within each', async () => {
    const agent = await startTestAgent({ taskCap: 1 });
    const ws = workspace();
    const plan = (project: string, priority: string, gated = false) =>
      basePlan(ws, {
        project,
        priority,
        steps: [
          { name: 'go', on: 'worker', run: script('true', { gated, tag: '#{project}/#{environment}' }) },
        ],
      });
    const blocker = await submit(agent, { plan: plan('blocker', 'normal', true) });
    expect(await scriptsStarted(agent, ws, 1)).toBe(1);
    const n1 = await submit(agent, { plan: plan('n1', 'normal') });
    const h1 = await submit(agent, { plan: plan('h1', 'high') });
    const n2 = await submit(agent, { plan: plan('n2', 'normal') });
    const h2 = await submit(agent, { plan: plan('h2', 'high') });
    const queue = (await agent.call('GET', '/v1/queue')).json;
    const order = [h1, h2, n1, n2].map((d) => d.tasks[0]!.id);
    expect(queue.map((t: { id: string }) => t.id)).toEqual(order);
    ws.open();
    for (const d of [blocker, n1, h1, n2, h2]) expect((await finished(agent, d.id)).state).toBe('succeeded');
    expect(ws.starts().map((x) => x.task)).toEqual([blocker.tasks[0]!.id, ...order]);
  });

  it('a submission may pick tenants and override release and environment', async () => {
    const agent = await startTestAgent({ taskCap: 0 });
    const ws = workspace();
    const plan = basePlan(ws, {
      tenants: ['a', 'b', 'c'],
      steps: [{ name: 'go', on: 'worker', run: 'true' }],
    });
    const sub = await submit(agent, { plan, tenants: ['c', 'a'], release: '7.0.0', environment: 'qa' });
    expect(sub.tasks.map((t) => [t.tenant, t.concurrencyTag])).toEqual([
      ['a', 'a/shop/qa'],
      ['c', 'c/shop/qa'],
    ]);
    const view = await deployment(agent, sub.id);
    expect(view).toMatchObject({ release: '7.0.0', environment: 'qa', project: 'shop' });
    const unknown = await agent.call('POST', '/v1/deployments', { json: { plan, tenants: ['zed'] } });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error.code).toBe('invalid_plan');
    expect(JSON.stringify(unknown.json.error.issues)).toContain('zed');
  });

  it('maxRunningTasks limits one deployment’s running tasks', async () => {
    const agent = await startTestAgent({ taskCap: 5 });
    const ws = workspace();
    const sub = await submit(agent, {
      plan: basePlan(ws, {
        tenants: ['a', 'b', 'c', 'd'],
        concurrency: { maxRunningTasks: 2 },
        steps: [{ name: 'go', on: 'worker', run: script('sleep 0.1', { gated: true }) }],
      }),
    });
    expect(await scriptsStarted(agent, ws, 2)).toBe(2);
    const queue = (await agent.call('GET', '/v1/queue')).json;
    expect(queue.length).toBe(2);
    for (const t of queue) expect(t.waitingOn).toBe(`deployment ${sub.id} runs 2 of maxRunningTasks 2`);
    ws.open();
    expect((await finished(agent, sub.id)).state).toBe('succeeded');
    const check = checkRecords(ws.records(), { cap: 2, submissionOrder: sub.tasks.map((t) => t.id) });
    expect(check.violations).toEqual([]);
    expect(ws.starts().length).toBe(4);
  });

  it('cancellation: queued tasks are cancelled at once; a running action gets SIGTERM on its process group', async () => {
    const agent = await startTestAgent({ taskCap: 1 });
    const ws = workspace();
    const term = join(ws.out, 'term.txt');
    const child = join(ws.out, 'child.pid');
    const body = [
      `trap 'echo "TERM $FLOTILLA_TENANT" >> "${term}"; exit 143' TERM`,
      `sleep 100 &`,
      `echo $! > "${child}"`,
      'wait',
    ].join('\n');
    const sub = await submit(agent, {
      plan: basePlan(ws, {
        tenants: ['a', 'b', 'c'],
        steps: [{ name: 'long', on: 'worker', run: script(body) }],
      }),
    });
    expect(await scriptsStarted(agent, ws, 1)).toBe(1);
    const cancel = await agent.call('POST', `/v1/deployments/${sub.id}/cancel`);
    expect(cancel.status, cancel.text).toBe(200);

    const right = await deployment(agent, sub.id);
    expect(right.tasks.slice(1).map((t) => t.state)).toEqual(['cancelled', 'cancelled']);

    const d = await finished(agent, sub.id);
    expect(d.state).toBe('cancelled');
    expect(d.tasks.map((t) => t.state)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    expect(actionsOf(d)).toEqual([expect.objectContaining({ state: 'cancelled' })]);
    expect(readFileSync(term, 'utf8')).toBe('TERM a\n');
    const pid = Number(readFileSync(child, 'utf8'));
    await waitFor('the script’s background child to be gone', () => !processAlive(pid), 10_000);
    expect(ws.starts().length).toBe(1);
  });
});

describe('action environment', () => {
  it('sets the FLOTILLA_* variables and applies plan < tenant < step variable precedence', async () => {
    const agent = await startTestAgent({
      node: 'env-node',
      taskCap: 2,
      worker: { targets: [{ name: 'web-1', roles: ['web'], host: '10.1.2.3' }] },
    });
    const ws = workspace();
    const dump = (name: string) =>
      `env | grep -E '^(FLOTILLA_|ONLY_PLAN|TENANT_WINS|STEP_WINS)' | sort > "$OUT/${name}-$FLOTILLA_TENANT.env"\n` +
      `echo "#{var.ONLY_PLAN} #{var.TENANT_WINS} #{var.STEP_WINS} #{target.host}" > "$OUT/${name}-$FLOTILLA_TENANT.interp"`;
    const sub = await submit(agent, {
      plan: basePlan(ws, {
        project: 'shop',
        environment: 'staging',
        release: '9.9.9',
        tenants: [{ name: 'acme', variables: { TENANT_WINS: 'tenant', STEP_WINS: 'tenant' } }],
        variables: { ...ws.variables(), ONLY_PLAN: 'plan', TENANT_WINS: 'plan', STEP_WINS: 'plan' },
        steps: [
          { name: 'onworker', on: 'worker', run: dump('worker').replace(' #{target.host}', '') },
          {
            name: 'ontarget',
            targets: { roles: ['web'] },
            variables: { STEP_WINS: 'step' },
            run: dump('target'),
          },
        ],
      }),
    });
    const d = await finished(agent, sub.id);
    expect(d.state).toBe('succeeded');
    const task = sub.tasks[0]!;
    const read = (f: string) =>
      Object.fromEntries(
        readFileSync(join(ws.out, f), 'utf8')
          .trim()
          .split('\n')
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
    const common = {
      FLOTILLA_DEPLOYMENT_ID: sub.id,
      FLOTILLA_TASK_ID: task.id,
      FLOTILLA_TENANT: 'acme',
      FLOTILLA_PROJECT: 'shop',
      FLOTILLA_ENVIRONMENT: 'staging',
      FLOTILLA_RELEASE: '9.9.9',
      FLOTILLA_WORKER: 'env-node',
      FLOTILLA_NODE: 'env-node',
      FLOTILLA_ATTEMPT: '1',
      ONLY_PLAN: 'plan',
      TENANT_WINS: 'tenant',
    };
    const onWorker = read('worker-acme.env');
    expect(onWorker).toMatchObject({
      ...common,
      FLOTILLA_STEP: 'onworker',
      FLOTILLA_TARGET: '',
      STEP_WINS: 'tenant',
    });
    expect(onWorker.FLOTILLA_INSTALL_DIR).toBeUndefined();

    const onTarget = read('target-acme.env');
    const root = agent.settings.worker.targets[0]!.root;
    expect(onTarget).toMatchObject({
      ...common,
      FLOTILLA_STEP: 'ontarget',
      FLOTILLA_TARGET: 'web-1',
      STEP_WINS: 'step',
      FLOTILLA_INSTALL_DIR: join(root, 'acme', 'shop', '9.9.9'),
    });
    expect(readFileSync(join(ws.out, 'worker-acme.interp'), 'utf8').trim()).toBe('plan tenant tenant');
    expect(readFileSync(join(ws.out, 'target-acme.interp'), 'utf8').trim()).toBe('plan tenant step 10.1.2.3');
  });
});
