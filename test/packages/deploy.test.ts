// Deploy steps end to end on an in-process agent: packages from a real feed on
// 127.0.0.1 and uploaded through the API, installed per tenant with hooks and
// a `current` switch; bad packages fail their action with a clear message
// while the agent keeps serving and nothing lands outside the target's root.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, startTestAgent, stopTestAgents } from '../helpers/agent.ts';
import { finished, submit } from '../helpers/deploy.ts';
import { openSse } from '../helpers/sse.ts';
import { removeTempDirs, tempDir } from '../helpers/util.ts';
import { type Feed, startFeed } from './feed.ts';
import { samplePackage, tgz } from './tarball.ts';

const feeds: Feed[] = [];
afterEach(async () => {
  await stopTestAgents();
  await Promise.all(feeds.splice(0).map((f) => f.close()));
  removeTempDirs();
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function setup(opts: { taskCap?: number; maxPackageBytes?: number } = {}) {
  const feed = await startFeed();
  feeds.push(feed);
  const dir = tempDir('flotilla-deploy-');
  const root = join(dir, 'web-root');
  const agent = await startTestAgent({
    taskCap: opts.taskCap ?? 4,
    worker: { targets: [{ name: 'web-1', roles: ['web'], root }] },
    packages: {
      allowedHosts: ['127.0.0.1'],
      ...(opts.maxPackageBytes ? { maxPackageBytes: opts.maxPackageBytes } : {}),
    },
  });
  return { feed, agent, dir, root };
}

function plan(pkg: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    version: 1,
    project: 'shop',
    environment: 'prod',
    release: '1.0.0',
    packages: { app: pkg },
    steps: [
      { name: 'install', deploy: 'app', targets: { roles: ['web'] } },
      { name: 'check', run: 'cat "$FLOTILLA_INSTALL_DIR/index.html"', targets: { roles: ['web'] } },
    ],
    ...extra,
  };
}

const actionMessages = (d: Awaited<ReturnType<typeof finished>>) =>
  d.tasks.flatMap((t) => t.actions ?? []).map((a) => `${a.step}: ${a.state}: ${a.message}`);

describe('deploy steps', () => {
  it('installs a url package per tenant, runs its hooks, switches current and reports the acquisition', async () => {
    const { feed, agent, root } = await setup();
    const body = samplePackage('one');
    const url = feed.route('/shop-1.0.0.tgz', { kind: 'body', body });
    const r = await submit(agent, {
      plan: plan(
        { url: `${feed.url}/shop-#{release}.tgz`, sha256: sha(body) },
        { tenants: ['acme', 'globex'] },
      ),
    });
    const events = await openSse(`${agent.url}/v1/deployments/${r.id}/events`);
    const d = await finished(agent, r.id);
    expect(d.state, actionMessages(d).join('\n')).toBe('succeeded');
    expect(feed.requests.get(new URL(url).pathname)).toHaveLength(1);
    for (const tenant of ['acme', 'globex']) {
      const project = join(root, tenant, 'shop');
      expect(readlinkSync(join(project, 'current'))).toBe('1.0.0');
      expect(readFileSync(join(project, 'current', 'index.html'), 'utf8')).toBe('<h1>one</h1>\n');
      expect(readFileSync(join(project, '1.0.0', 'pre.out'), 'utf8')).toBe(
        `pre ${tenant} ${join(project, '1.0.0')}\n`,
      );
      expect(readFileSync(join(project, '1.0.0', 'post.out'), 'utf8')).toBe(
        `post ${join(project, '1.0.0')}\n`,
      );
    }
    const all = await events.ended;
    const acquired = all.filter((e) => e.type === 'package.acquired').map((e) => e.data.data);
    expect(acquired).toHaveLength(2);
    expect(acquired.map((a) => a.cache).sort()).toEqual(expect.arrayContaining(['miss']));
    expect(acquired[0]).toMatchObject({
      package: 'app',
      sha256: sha(body),
      bytes: body.length,
      worker: 'test-node',
    });
    const log = (await agent.call('GET', `/v1/tasks/${d.tasks[0]!.id}/log`)).text;
    expect(log).toMatch(
      /package app \(sha256 [a-f0-9]{12}…\): (downloaded|cache hit|downloaded by another task), \d+ bytes in [\d.]+ s on worker test-node/,
    );
    expect(log).toContain('<h1>one</h1>');
    const metrics = (await agent.call('GET', '/metrics')).text;
    expect(metrics).toMatch(/flotilla_package_acquisitions_total\{worker="test-node",cache="miss"\} 1/);
    expect(metrics).toContain(`flotilla_package_downloaded_bytes_total{worker="test-node"} ${body.length}`);
  });

  it('fails the step with a clear message for a hash mismatch or a host outside allowedHosts', async () => {
    const { feed, agent } = await setup();
    const body = samplePackage();
    const url = feed.route('/app.tgz', { kind: 'body', body });
    const bad = await submit(agent, { plan: plan({ url, sha256: 'f'.repeat(64) }) });
    const d = await finished(agent, bad.id);
    expect(d.state).toBe('failed');
    expect(actionMessages(d)[0]).toMatch(
      new RegExp(
        `install: failed: package app could not be acquired: sha256 mismatch .* expected f{64}, got ${sha(body)}`,
      ),
    );
    expect(actionMessages(d)[1]).toMatch(/check: skipped/);
    const far = await submit(agent, {
      plan: plan({ url: 'https://packages.example.com/app.tgz', sha256: sha(body) }, { release: '2' }),
    });
    const d2 = await finished(agent, far.id);
    expect(actionMessages(d2)[0]).toMatch(
      /package host packages\.example\.com is not in packages\.allowedHosts \(127\.0\.0\.1\)/,
    );
  });

  it('refuses malicious packages, writes nothing outside the root, and keeps serving', async () => {
    const { feed, agent, dir, root } = await setup();
    const evil = [
      tgz([{ name: '../../../escaped', body: 'x' }]),
      tgz([{ name: '/abs-escaped', body: 'x' }]),
      tgz([
        { name: 'link', type: '2', linkname: dir },
        { name: 'link/escaped', body: 'x' },
      ]),
      tgz([{ name: 'h', type: '1', linkname: '../../../../etc/passwd' }]),
    ];
    for (const [i, body] of evil.entries()) {
      const r = await submit(agent, {
        plan: plan(
          { url: feed.route(`/evil-${i}.tgz`, { kind: 'body', body }), sha256: sha(body) },
          { release: `e${i}` },
        ),
      });
      const d = await finished(agent, r.id);
      expect(d.state).toBe('failed');
      expect(actionMessages(d)[0]).toMatch(/install: failed: entry ".*": /);
      expect((await agent.call('GET', '/healthz')).status).toBe(200);
    }
    expect(readdirSync(dir)).toEqual(['web-root']);
    expect(readdirSync(join(root, '_', 'shop'))).toEqual([]);
    const good = samplePackage('fine');
    const ok = await submit(agent, {
      plan: plan(
        { url: feed.route('/good.tgz', { kind: 'body', body: good }), sha256: sha(good) },
        { release: 'g1' },
      ),
    });
    expect((await finished(agent, ok.id)).state).toBe('succeeded');
  });

  it('takes uploads: HEAD says whether it has one, POST verifies the body', async () => {
    const { agent } = await setup({ maxPackageBytes: 100_000 });
    const body = samplePackage();
    const id = sha(body);
    expect((await agent.call('HEAD', `/v1/packages/${id}`)).status).toBe(404);
    const wrong = await agent.call('POST', `/v1/packages/${'0'.repeat(64)}`, {
      body,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(wrong.status).toBe(400);
    expect(wrong.json.error).toMatchObject({ code: 'hash_mismatch' });
    expect(wrong.json.error.message).toContain(`the body hashes to ${id}`);
    const bad = await agent.call('POST', '/v1/packages/not-a-hash', { body });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toMatch(/is not a sha256/);
    const huge = await agent.call('POST', `/v1/packages/${id}`, { body: Buffer.alloc(200_000) });
    expect(huge.status).toBe(413);
    const created = await agent.call('POST', `/v1/packages/${id}`, { body });
    expect(created.status).toBe(201);
    expect(created.json).toEqual({ sha256: id, bytes: body.length, created: true });
    expect((await agent.call('HEAD', `/v1/packages/${id}`)).status).toBe(200);
    expect((await agent.call('POST', `/v1/packages/${id}`, { body })).status).toBe(200);

    const r = await submit(agent, { plan: plan({ upload: './app.tgz', sha256: id }) });
    expect((await finished(agent, r.id)).state).toBe('succeeded');
    const unsent = await agent.call('POST', '/v1/deployments', {
      json: { plan: plan({ upload: './app.tgz' }) },
    });
    expect(unsent.status).toBe(400);
    expect(unsent.json.error.issues).toEqual([expect.objectContaining({ path: '/packages/app/sha256' })]);
  });

  it("flotilla run uploads the plan's package file and deploys it", async () => {
    const dir = tempDir('flotilla-cli-');
    writeFileSync(join(dir, 'app.tgz'), samplePackage('cli'));
    writeFileSync(
      join(dir, 'agent.yml'),
      `node: cli-node\ndataDir: ./data\nworker:\n  targets:\n    - { name: web-1, roles: [web], root: ./root }\n`,
    );
    writeFileSync(
      join(dir, 'plan.json'),
      JSON.stringify(plan({ upload: './app.tgz' }, { tenants: ['acme'] })),
    );
    const r = await runCli(['run', 'plan.json', '--config', 'agent.yml'], { cwd: dir });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/package app: uploaded \d+ bytes/);
    expect(readFileSync(join(dir, 'root', 'acme', 'shop', 'current', 'index.html'), 'utf8')).toBe(
      '<h1>cli</h1>\n',
    );
    writeFileSync(join(dir, 'bad.json'), JSON.stringify(plan({ upload: './missing.tgz' })));
    const missing = await runCli(['run', 'bad.json', '--config', 'agent.yml'], { cwd: dir });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(
      /\/packages\/app\/upload: package file .*missing\.tgz cannot be read: it does not exist/,
    );
    expect(missing.stdout).toBe('');
  });

  it('downloads once for many tenants on one worker', async () => {
    const { feed, agent } = await setup({ taskCap: 20 });
    const body = samplePackage();
    const url = feed.route('/many.tgz', { kind: 'body', body });
    const tenants = Array.from({ length: 20 }, (_, i) => `t${i}`);
    const r = await submit(agent, {
      plan: plan({ url, sha256: sha(body) }, { tenants, concurrency: { bypassTargetMutex: true } }),
    });
    expect((await finished(agent, r.id, 60_000)).state).toBe('succeeded');
    expect(feed.requests.get('/many.tgz')).toHaveLength(1);
  });
});
