// Remote workers end to end: a coordinator and `flotilla worker` processes
// (the real CLI as child processes) on loopback. Each worker hosts its own
// targets; deploy steps acquire url packages straight from a feed on the
// worker and uploaded packages from the coordinator; a worker killed with
// SIGKILL has its action failed as `worker lost` (and retried elsewhere when
// the step has retries); a target whose worker is offline makes its action
// wait and say so; bad or wrong-scope tokens are refused naming the rule.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  type ChildAgent,
  killChildren,
  runCli,
  spawnAgent,
  spawnCli,
  writeAgentConfig,
} from '../helpers/agent.ts';
import { finished, submit, until } from '../helpers/deploy.ts';
import { type HttpOptions, http, removeTempDirs, tempDir, waitFor } from '../helpers/util.ts';
import { type Feed, startFeed } from '../packages/feed.ts';
import { samplePackage } from '../packages/tarball.ts';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const DEPLOYER = 'deployer-secret-token';
const WORKER = 'worker-secret-token';

const feeds: Feed[] = [];
afterEach(async () => {
  await killChildren();
  await Promise.all(feeds.splice(0).map((f) => f.close()));
  removeTempDirs();
});

interface Coordinator extends ChildAgent {
  dir: string;
  configPath: string;
  as: (method: string, path: string, opts?: HttpOptions) => ReturnType<typeof http>;
}

async function coordinator(dir = tempDir('flotilla-coord-'), port = 0): Promise<Coordinator> {
  const configPath = writeAgentConfig(dir, {
    node: 'coord',
    listen: `127.0.0.1:${port}`,
    leaseTtl: '3s',
    taskCap: 10,
    auth: {
      tokens: [
        { name: 'ci', sha256: sha(DEPLOYER), scopes: ['deploy', 'read'] },
        { name: 'runner', sha256: sha(WORKER), scopes: ['worker'] },
      ],
    },
  });
  const agent = await spawnAgent(configPath);
  const as = (method: string, path: string, opts: HttpOptions = {}) =>
    http(agent.url, method, path, { token: DEPLOYER, ...opts });
  return { ...agent, dir, configPath, as, call: as };
}

function startWorker(
  url: string,
  name: string,
  targets: string[],
  opts: { pools?: string[]; dir?: string } = {},
) {
  const dir = opts.dir ?? tempDir(`flotilla-${name}-`);
  const config = join(dir, 'worker.yml');
  writeFileSync(config, stringify({ packages: { allowedHosts: ['127.0.0.1'] } }));
  const args = ['worker', '--coordinator', url, '--token', WORKER, '--name', name, '--config', config];
  args.push('--root', join(dir, 'roots'), '--data-dir', join(dir, 'data'));
  for (const t of targets) args.push('--target', t);
  for (const p of opts.pools ?? []) args.push('--pool', p);
  return { ...spawnCli(args), dir };
}

async function online(co: Coordinator, names: string[]) {
  return waitFor(`workers ${names.join(', ')} online`, async () => {
    const list = (await co.as('GET', '/v1/workers')).json as { name: string; state: string }[];
    return names.every((n) => list.some((w) => w.name === n && w.state === 'online')) ? list : undefined;
  });
}

/** Runs `script` on w1's target web-1, sends w1 SIGTERM while it runs, and waits for w1 to show as draining. */
async function drainWhileRunning(co: Coordinator, w1: ReturnType<typeof startWorker>, script: string) {
  const r = await submit(co, {
    plan: plan('1', [{ name: 'slow', run: script, targets: { roles: ['web'] } }]),
  });
  await until(co, r.id, 'the action running', (d) => d.tasks[0]!.actions![0]!.state === 'running');
  process.kill(w1.proc.pid!, 'SIGTERM');
  await waitFor('w1 draining', async () => {
    const list = (await co.as('GET', '/v1/workers')).json as { name: string; state: string }[];
    return list.find((w) => w.name === 'w1')?.state === 'draining' ? true : undefined;
  });
  return r;
}

/** Starts w1 again (pool edge, web-1); the deployment's waiting `web` action then runs on it. */
async function comesBackAndRunsWeb(co: Coordinator, w1: ReturnType<typeof startWorker>, id: string) {
  startWorker(co.url, 'w1', ['web-1:web'], { pools: ['edge'], dir: w1.dir });
  const d = await finished(co, id, 20_000);
  expect(d.state, messages(d).join('\n')).toBe('succeeded');
  expect(d.tasks[0]!.actions!.find((a) => a.step === 'web')).toMatchObject({
    state: 'succeeded',
    worker: 'w1',
  });
}

const plan = (release: string, steps: unknown[]) => ({
  version: 1,
  project: 'shop',
  environment: 'prod',
  release,
  steps,
});

const messages = (d: Awaited<ReturnType<typeof finished>>) =>
  d.tasks
    .flatMap((t) => t.actions ?? [])
    .map((a) => `${a.step}@${a.target ?? a.worker}: ${a.state}: ${a.message}`);

describe('remote workers', () => {
  it('refuses bad flags with every problem named, before contacting anyone', async () => {
    const r = await runCli(['worker', '--coordinator', 'nowhere', '--target', 'web-1', '--max-actions', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `--coordinator must be the coordinator's URL (http://host:port), not "nowhere"`,
    );
    expect(r.stderr).toContain('--target must be name:role[,role…] (e.g. web-1:web,api), not "web-1"');
    expect(r.stderr).toContain('--max-actions must be a whole number from 1, not "0"');
  });

  it('register, are listed, and deploy url and uploaded packages to the targets they host', async () => {
    const feed = await startFeed();
    feeds.push(feed);
    const co = await coordinator();
    const w1 = startWorker(co.url, 'w1', ['web-1:web'], { pools: ['edge'] });
    const w2 = startWorker(co.url, 'w2', ['db-1:db'], { pools: ['edge'] });
    const list = await online(co, ['w1', 'w2']);
    expect(list.find((w: { name: string }) => w.name === 'w1')).toMatchObject({
      pools: ['edge'],
      targets: [{ name: 'web-1', roles: ['web'], host: 'web-1', tenants: null }],
      local: false,
      runningActions: 0,
      maxActions: 10,
    });
    expect(list.find((w: { name: string }) => w.name === 'coord')).toMatchObject({
      local: true,
      state: 'online',
    });

    const app = samplePackage('app');
    const appUrl = feed.route('/app-1.0.0.tgz', { kind: 'body', body: app });
    const web = samplePackage('uploaded');
    expect((await co.as('POST', `/v1/packages/${sha(web)}`, { body: web })).status).toBe(201);

    const r = await submit(co, {
      plan: {
        version: 1,
        project: 'shop',
        environment: 'prod',
        release: '1.0.0',
        tenants: ['acme', 'globex'],
        packages: {
          app: { url: `${feed.url}/app-#{release}.tgz`, sha256: sha(app) },
          site: { upload: './site.tgz', sha256: sha(web) },
        },
        steps: [
          { name: 'prepare', run: 'echo "prepared by $FLOTILLA_WORKER"', on: 'worker', pool: 'edge' },
          { name: 'app', deploy: 'app', targets: { roles: ['web'] } },
          { name: 'site', deploy: 'site', targets: { roles: ['db'] } },
          {
            name: 'check',
            run: 'echo "#{target} $FLOTILLA_WORKER $(cat "$FLOTILLA_INSTALL_DIR/index.html")"',
            targets: { roles: ['web', 'db'] },
          },
        ],
      },
    });
    const d = await finished(co, r.id);
    expect(d.state, messages(d).join('\n')).toBe('succeeded');
    for (const tenant of ['acme', 'globex']) {
      const webProject = join(w1.dir, 'roots', 'web-1', tenant, 'shop');
      expect(readlinkSync(join(webProject, 'current'))).toBe('1.0.0');
      expect(readFileSync(join(webProject, 'current', 'index.html'), 'utf8')).toBe('<h1>app</h1>\n');
      const dbProject = join(w2.dir, 'roots', 'db-1', tenant, 'shop');
      expect(readFileSync(join(dbProject, 'current', 'index.html'), 'utf8')).toBe('<h1>uploaded</h1>\n');
      const actions = d.tasks.find((t) => t.tenant === tenant)!.actions!;
      expect(actions.map((a) => [a.step, a.target, a.worker])).toEqual(
        expect.arrayContaining([
          ['app', 'web-1', 'w1'],
          ['site', 'db-1', 'w2'],
          ['check', 'web-1', 'w1'],
          ['check', 'db-1', 'w2'],
        ]),
      );
    }
    // The url package went from the feed to worker w1 once; never through the coordinator.
    expect(feed.requests.get('/app-1.0.0.tgz')).toHaveLength(1);
    expect(readdirSync(join(w1.dir, 'data', 'packages'))).toContain(sha(app));
    expect(readdirSync(join(w2.dir, 'data', 'packages'))).toContain(sha(web));
    expect(existsSync(join(co.dir, 'data', 'packages', sha(app)))).toBe(false);
    // Log lines streamed back from the workers.
    const log = (await co.as('GET', `/v1/tasks/${d.tasks[0]!.id}/log`)).text;
    expect(log).toMatch(/\[check@web-1\] web-1 w1 <h1>app<\/h1>/);
    expect(log).toMatch(/\[check@db-1\] db-1 w2 <h1>uploaded<\/h1>/);
    expect(log).toMatch(/prepared by w[12]/);
    expect(appUrl).toContain('/app-1.0.0.tgz');
  });

  it('fails the actions of a worker killed with SIGKILL as `worker lost`, retries elsewhere, and waits for an offline target', async () => {
    const co = await coordinator();
    const w1 = startWorker(co.url, 'w1', ['web-1:web'], { pools: ['edge'] });
    await online(co, ['w1']);
    startWorker(co.url, 'w2', ['db-1:db'], { pools: ['edge'] });
    await online(co, ['w1', 'w2']);
    const r = await submit(co, {
      plan: plan('1', [
        {
          name: 'edge',
          // Least busy first: both are idle, so the first registered (w1) takes it.
          run: 'if [ "$FLOTILLA_WORKER" = w1 ]; then sleep 60; fi; echo "ran on $FLOTILLA_WORKER"',
          on: 'worker',
          pool: 'edge',
          retries: 1,
        },
        { name: 'web', run: 'echo "web on $FLOTILLA_WORKER"', targets: { roles: ['web'] } },
      ]),
    });
    await until(co, r.id, 'the edge action running on w1', (d) =>
      d.tasks[0]!.actions!.some((a) => a.step === 'edge' && a.state === 'running' && a.worker === 'w1'),
    );
    await new Promise((res) => setTimeout(res, 300));
    process.kill(-w1.proc.pid!, 'SIGKILL');
    const waiting = await until(
      co,
      r.id,
      'the web action waiting for its offline worker',
      (d) =>
        d.tasks[0]!.actions!.some((a) => a.step === 'web' && /worker w1 is offline/.test(a.waitingOn ?? '')),
      15_000,
    );
    const edge = waiting.tasks[0]!.actions!.find((a) => a.step === 'edge')!;
    expect(edge).toMatchObject({ state: 'succeeded', worker: 'w2', attempt: 2 });
    const events = (await co.as('GET', `/v1/tasks/${waiting.tasks[0]!.id}/log`)).text;
    expect(events).toContain('ran on w2');
    const workers = (await co.as('GET', '/v1/workers')).json as { name: string; state: string }[];
    expect(workers.find((w) => w.name === 'w1')!.state).toBe('offline');
    // flotilla status lists the workers with their state.
    const status = await runCli(['status', '--agent', co.url, '--token', DEPLOYER]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^w1\s+offline\s+\S+\s+edge\s+web-1$/m);
    expect(status.stdout).toMatch(/^w2\s+online\s/m);

    // w1 comes back: the waiting action runs on it.
    await comesBackAndRunsWeb(co, w1, r.id);
  });

  it('drains a worker on SIGTERM: its running action finishes, nothing new goes to it, and it exits 0', async () => {
    const co = await coordinator();
    const w1 = startWorker(co.url, 'w1', ['web-1:web'], { pools: ['edge'] });
    await online(co, ['w1']);
    startWorker(co.url, 'w2', ['db-1:db'], { pools: ['edge'] });
    await online(co, ['w1', 'w2']);
    const marker = join(w1.dir, 'finished');
    const first = await drainWhileRunning(co, w1, `sleep 3; touch ${marker}`);
    // While w1 drains, its pool's worker steps go to w2 and its target's actions wait.
    const second = await submit(co, {
      plan: {
        ...plan('2', [
          { name: 'build', run: 'echo "built on $FLOTILLA_WORKER"', on: 'worker', pool: 'edge' },
          { name: 'web', run: 'echo "web on $FLOTILLA_WORKER"', targets: { roles: ['web'] } },
        ]),
        // Not waiting for the first deployment's lock: the wait shown is the drain's.
        concurrency: { bypassTargetMutex: true },
      },
    });
    const waiting = await until(co, second.id, 'the web action waiting for the draining worker', (d) =>
      d.tasks[0]!.actions!.some(
        (a) => a.step === 'web' && a.waitingOn === 'target web-1: worker w1 is draining (stopping)',
      ),
    );
    expect(waiting.tasks[0]!.actions!.find((a) => a.step === 'build')).toMatchObject({
      state: 'succeeded',
      worker: 'w2',
    });
    const exit = await w1.exited;
    expect(exit, w1.stderr()).toEqual({ code: 0, signal: null });
    const d1 = await finished(co, first.id);
    expect(d1.state, messages(d1).join('\n')).toBe('succeeded');
    expect(d1.tasks[0]!.actions![0]).toMatchObject({ state: 'succeeded', worker: 'w1' });
    expect(existsSync(marker)).toBe(true);

    // w1 back after its maintenance: the waiting action runs on it.
    await comesBackAndRunsWeb(co, w1, second.id);
  });

  it('stops a draining worker on a second SIGTERM: what still runs is stopped and lost', async () => {
    const co = await coordinator();
    const w1 = startWorker(co.url, 'w1', ['web-1:web']);
    await online(co, ['w1']);
    const marker = join(w1.dir, 'finished');
    const r = await drainWhileRunning(co, w1, `sleep 30; touch ${marker}`);
    process.kill(w1.proc.pid!, 'SIGTERM');
    expect(await w1.exited, w1.stderr()).toEqual({ code: 0, signal: null });
    const d = await finished(co, r.id, 20_000);
    expect(d.tasks[0]!.actions![0]).toMatchObject({ state: 'failed', message: 'worker lost', worker: 'w1' });
    expect(existsSync(marker)).toBe(false);
  });

  it('fails an action as `worker lost` when its worker dies and the step has no retries', async () => {
    const co = await coordinator();
    const w1 = startWorker(co.url, 'w1', ['web-1:web']);
    await online(co, ['w1']);
    const r = await submit(co, {
      plan: plan('1', [{ name: 'slow', run: 'sleep 60', targets: { roles: ['web'] } }]),
    });
    await until(co, r.id, 'the action running', (d) => d.tasks[0]!.actions![0]!.state === 'running');
    process.kill(-w1.proc.pid!, 'SIGKILL');
    const d = await finished(co, r.id, 20_000);
    expect(d.state).toBe('failed');
    expect(d.tasks[0]!.actions![0]).toMatchObject({ state: 'failed', message: 'worker lost', worker: 'w1' });
  });

  it('cancels a remote action: the worker stops its process', async () => {
    const co = await coordinator();
    const w1 = startWorker(co.url, 'w1', ['web-1:web']);
    await online(co, ['w1']);
    const marker = join(w1.dir, 'finished');
    const r = await submit(co, {
      plan: plan('1', [{ name: 'slow', run: `sleep 30; touch ${marker}`, targets: { roles: ['web'] } }]),
    });
    await until(co, r.id, 'the action running', (d) => d.tasks[0]!.actions![0]!.state === 'running');
    expect((await co.as('POST', `/v1/deployments/${r.id}/cancel`)).status).toBe(200);
    const d = await finished(co, r.id, 10_000);
    expect(d.state).toBe('cancelled');
    expect(d.tasks[0]!.actions![0]!.state).toBe('cancelled');
    const list = (await co.as('GET', '/v1/workers')).json as { name: string; runningActions: number }[];
    expect(list.find((w) => w.name === 'w1')!.runningActions).toBe(0);
    expect(existsSync(marker)).toBe(false);
  });

  it('keeps workers running across a coordinator restart: they register again and take new work', async () => {
    const co = await coordinator();
    const w1 = startWorker(co.url, 'w1', ['web-1:web']);
    await online(co, ['w1']);
    const r = await submit(co, {
      plan: plan('1', [{ name: 'slow', run: 'sleep 60', targets: { roles: ['web'] } }]),
    });
    await until(co, r.id, 'the action running', (d) => d.tasks[0]!.actions![0]!.state === 'running');
    process.kill(-co.pid, 'SIGKILL');
    await co.exited;
    const again = await coordinator(co.dir, Number(new URL(co.url).port));
    await online(again, ['w1']);
    // The crash rule settles the task that had started an action; the worker lives on.
    const old = await finished(again, r.id, 20_000);
    expect(old.tasks[0]!.state).toBe('interrupted');
    const next = await submit(again, {
      plan: plan('2', [
        { name: 'hello', run: 'echo "hello from $FLOTILLA_WORKER"', targets: { roles: ['web'] } },
      ]),
    });
    const d = await finished(again, next.id);
    expect(d.state, messages(d).join('\n')).toBe('succeeded');
    expect(d.tasks[0]!.actions![0]).toMatchObject({ worker: 'w1', state: 'succeeded' });
    expect(w1.proc.exitCode).toBeNull();
  });

  it('speaks the protocol: jobs by long poll, log batches, results fenced by the epoch, the action cap', async () => {
    const co = await coordinator();
    // The test plays a worker over raw HTTP, to send what a well-behaved worker never would.
    const w = (path: string, json: unknown) => http(co.url, 'POST', path, { token: WORKER, json });
    const target = { name: 'web-1', roles: ['web'], host: 'web-1', root: '/nonexistent' };
    const reg = await w('/v1/workers', { name: 'raw', pools: ['p'], targets: [target], maxActions: 1 });
    expect(reg.status).toBe(201);
    expect(reg.json).toMatchObject({ epoch: expect.any(Number), leaseTtlMs: 3000, pollMs: 1000 });
    const clash = await w('/v1/workers', { name: 'other', pools: ['p'], targets: [target] });
    expect(clash.status).toBe(409);
    expect(clash.json.error.message).toBe('target web-1 is already hosted by worker raw');

    const r = await submit(co, {
      plan: {
        ...plan('1', [{ name: 'one', run: 'echo "#{tenant}"', targets: { roles: ['web'] } }]),
        tenants: ['acme', 'globex'],
        concurrency: { bypassTargetMutex: true },
      },
    });
    const first = await w('/v1/workers/raw/poll', { epoch: reg.json.epoch });
    expect(first.json.jobs).toHaveLength(1);
    const job = first.json.jobs[0];
    expect(job).toMatchObject({
      type: 'action',
      request: { kind: 'run', cwd: expect.stringMatching(/^\/nonexistent\//) },
    });
    // maxActions 1: the other tenant's action waits and says why.
    await until(co, r.id, 'the second action waiting on the cap', (d) =>
      d.tasks.some((t) =>
        t.actions!.some((a) => a.waitingOn === 'worker raw runs 1 of 1 actions (worker.maxActions)'),
      ),
    );
    const lines = [{ stream: 'stdout', line: 'hello from a raw worker' }];
    expect((await w(`/v1/workers/raw/jobs/${job.id}/log`, { epoch: reg.json.epoch, lines })).status).toBe(
      200,
    );
    // The worker registers again (a restart): the old epoch's result is refused, its action failed as lost.
    const again = await w('/v1/workers', { name: 'raw', pools: ['p'], targets: [target], maxActions: 1 });
    const ok = { ok: true, cancelled: false, exitCode: 0, message: 'done' };
    const stale = await w(`/v1/workers/raw/jobs/${job.id}/result`, { epoch: reg.json.epoch, result: ok });
    expect(stale.status).toBe(409);
    expect(stale.json.error.code).toBe('stale_epoch');
    // The action that waited on the cap now comes to the new epoch.
    const next = await waitFor('a job for the new epoch', async () => {
      const p = await w('/v1/workers/raw/poll', { epoch: again.json.epoch });
      return p.json.jobs[0];
    });
    const res = await w(`/v1/workers/raw/jobs/${next.id}/result`, { epoch: again.json.epoch, result: ok });
    expect(res.status).toBe(200);
    const d = await finished(co, r.id);
    const actions = d.tasks.flatMap((t) => t.actions!);
    expect(actions.map((a) => a.state).sort()).toEqual(['failed', 'succeeded']);
    expect(actions.find((a) => a.state === 'failed')!.message).toBe('worker lost');
    const log = (
      await co.as('GET', `/v1/tasks/${d.tasks.find((t) => t.actions![0]!.state === 'failed')!.id}/log`)
    ).text;
    expect(log).toContain('hello from a raw worker');
  });

  it('places nothing on a draining worker: its pool waits naming the drain, until it registers again', async () => {
    const co = await coordinator();
    const w = (path: string, json: unknown) => http(co.url, 'POST', path, { token: WORKER, json });
    const reg = await w('/v1/workers', { name: 'raw', pools: ['p'], targets: [] });
    const bad = await w('/v1/workers/raw/poll', { epoch: reg.json.epoch, draining: 'yes' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.issues).toEqual([{ path: '/draining', message: expect.stringMatching(/boolean/) }]);
    expect((await w('/v1/workers/raw/poll', { epoch: reg.json.epoch, draining: true })).json).toEqual({
      jobs: [],
      cancel: [],
    });
    const list = (await co.as('GET', '/v1/workers')).json as { name: string; state: string }[];
    expect(list.find((x) => x.name === 'raw')!.state).toBe('draining');
    const r = await submit(co, {
      plan: plan('1', [{ name: 'build', run: 'true', on: 'worker', pool: 'p' }]),
    });
    await until(co, r.id, 'the action waiting for the drained pool', (d) =>
      d.tasks[0]!.actions!.some((a) => a.waitingOn === 'pool p: its online workers (raw) are draining'),
    );
    // Back from maintenance: a new registration takes work again.
    const again = await w('/v1/workers', { name: 'raw', pools: ['p'], targets: [] });
    const job = await waitFor('a job for the new registration', async () => {
      const p = await w('/v1/workers/raw/poll', { epoch: again.json.epoch });
      return p.json.jobs[0];
    });
    const ok = { ok: true, cancelled: false, exitCode: 0, message: 'done' };
    expect(
      (await w(`/v1/workers/raw/jobs/${job.id}/result`, { epoch: again.json.epoch, result: ok })).status,
    ).toBe(200);
    expect((await finished(co, r.id)).state).toBe('succeeded');
  });

  it('never takes a result from before a coordinator restart as the result of a new job', async () => {
    const co = await coordinator();
    const w = (path: string, json: unknown) => http(co.url, 'POST', path, { token: WORKER, json });
    const reg = {
      name: 'raw',
      pools: ['p'],
      targets: [{ name: 'web-1', roles: ['web'], host: 'h', root: '/r' }],
    };
    const first = await w('/v1/workers', reg);
    await submit(co, { plan: plan('1', [{ name: 'slow', run: 'sleep 60', targets: { roles: ['web'] } }]) });
    const old = await waitFor('the first job', async () => {
      const p = await w('/v1/workers/raw/poll', { epoch: first.json.epoch });
      return p.json.jobs[0];
    });
    process.kill(-co.pid, 'SIGKILL');
    await co.exited;
    // The worker lives on with the old job still running; it registers with the coordinator's new life.
    const again = await coordinator(co.dir, Number(new URL(co.url).port));
    const second = await w('/v1/workers', reg);
    expect(second.status).toBe(201);
    expect(second.json.epoch).not.toBe(first.json.epoch);
    const next = await submit(again, {
      plan: plan('2', [{ name: 'hello', run: 'true', targets: { roles: ['web'] } }]),
    });
    const job = await waitFor('a job for the new life', async () => {
      const p = await w('/v1/workers/raw/poll', { epoch: second.json.epoch });
      return p.json.jobs[0];
    });
    expect(job.id).not.toBe(old.id);
    // The old job's cancelled result arrives: refused, under its own epoch or under the new one.
    const cancelled = { ok: false, cancelled: true, exitCode: null, message: 'cancelled' };
    const stale = await w(`/v1/workers/raw/jobs/${old.id}/result`, {
      epoch: first.json.epoch,
      result: cancelled,
    });
    expect(stale.json.error.code).toBe('stale_epoch');
    const unknown = await w(`/v1/workers/raw/jobs/${old.id}/result`, {
      epoch: second.json.epoch,
      result: cancelled,
    });
    expect(unknown.json.error.code).toBe('unknown_job');
    const ok = { ok: true, cancelled: false, exitCode: 0, message: 'done' };
    expect(
      (await w(`/v1/workers/raw/jobs/${job.id}/result`, { epoch: second.json.epoch, result: ok })).status,
    ).toBe(200);
    const d = await finished(again, next.id);
    expect(d.state).toBe('succeeded');
  });

  it('refuses a worker with a bad token (401) or a token without the worker scope (403), naming the rule', async () => {
    const co = await coordinator();
    // Run where its default data dir (./.flotilla-worker) lands in a temp dir, not in this checkout.
    const cwd = tempDir('flotilla-w9-');
    const bad = await runCli(['worker', '--coordinator', co.url, '--token', 'nope', '--name', 'w9'], {
      cwd,
      timeoutMs: 20_000,
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/401 the token matches no configured token \(auth\.tokens\)/);
    const wrong = await runCli(['worker', '--coordinator', co.url, '--token', DEPLOYER, '--name', 'w9'], {
      cwd,
      timeoutMs: 20_000,
    });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/403 token ci lacks scope worker/);
    expect(wrong.stderr).not.toContain(DEPLOYER);
    const poll = await http(co.url, 'POST', '/v1/workers/w9/poll', { token: DEPLOYER, json: { epoch: 1 } });
    expect(poll.status).toBe(403);
    const unknown = await http(co.url, 'POST', '/v1/workers/w9/poll', { token: WORKER, json: { epoch: 1 } });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.message).toMatch(/worker w9 is not registered here/);
    const invalid = await http(co.url, 'POST', '/v1/workers', {
      token: WORKER,
      json: { name: 'w9', pools: [], targets: [{ name: 'x', roles: ['web'] }] },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.json.error.issues.map((i: { path: string }) => i.path)).toEqual(
      expect.arrayContaining(['/pools', '/targets/0/host', '/targets/0/root']),
    );
  });
});
