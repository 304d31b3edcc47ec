// Static token auth (auth.tokens with sha256 and scopes), and the refusal to
// listen beyond loopback without auth.
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveAgentSettings, SettingsError } from '../../runner-agent/src/config/settings.ts';
import { startTestAgent, stopTestAgents, TEST_ENV, writeAgentConfig } from '../helpers/agent.ts';
import { http, removeTempDirs, tempDir } from '../helpers/util.ts';

const sha = (t: string) => createHash('sha256').update(t).digest('hex');
const CI = 'ci-token-0123456789';
const OPS = 'ops-token-9876543210';
const AUTH = {
  tokens: [
    { name: 'ci', sha256: sha(CI), scopes: ['deploy', 'read'] },
    { name: 'ops', sha256: sha(OPS), scopes: ['drain'] },
  ],
};
const plan = {
  version: 1,
  project: 'shop',
  environment: 'prod',
  release: '1.0.0',
  steps: [{ name: 'hello', on: 'worker', run: 'echo hi' }],
};

afterEach(async () => {
  await stopTestAgents();
  removeTempDirs();
});

describe('static tokens', () => {
  it('401 without or with a wrong token, 403 without the scope, OK with the right one', async () => {
    const agent = await startTestAgent({ taskCap: 0, auth: AUTH });
    const submit = (token?: string) =>
      agent.call('POST', '/v1/deployments', { json: { plan }, ...(token ? { token } : {}) });

    const none = await submit();
    expect(none.status).toBe(401);
    expect(none.json.error.code).toBe('unauthorized');
    const wrong = await submit('not-a-token');
    expect(wrong.status).toBe(401);
    expect(wrong.json.error.code).toBe('unauthorized');
    const badScheme = await agent.call('POST', '/v1/deployments', {
      json: { plan },
      headers: { authorization: `Basic ${CI}` },
    });
    expect(badScheme.status).toBe(401);
    const noScope = await submit(OPS);
    expect(noScope.status).toBe(403);
    expect(noScope.json.error).toMatchObject({ code: 'forbidden' });
    expect(noScope.json.error.message).toContain('deploy');
    const ok = await submit(CI);
    expect(ok.status, ok.text).toBe(201);

    // Reads need `read`; node control needs `drain`.
    expect((await agent.call('GET', `/v1/deployments/${ok.json.id}`)).status).toBe(401);
    expect((await agent.call('GET', `/v1/deployments/${ok.json.id}`, { token: CI })).status).toBe(200);
    expect((await agent.call('GET', '/v1/queue', { token: OPS })).status).toBe(403);
    expect((await agent.call('GET', `/v1/tasks/${ok.json.tasks[0].id}/log`)).status).toBe(401);
    expect((await agent.call('GET', `/v1/deployments/${ok.json.id}/events`)).status).toBe(401);
    expect((await agent.call('POST', `/v1/deployments/${ok.json.id}/cancel`, { token: OPS })).status).toBe(
      403,
    );
    const cap = (token?: string) =>
      agent.call('PUT', `/v1/nodes/${agent.node}`, { json: { taskCap: 0 }, ...(token ? { token } : {}) });
    expect((await cap()).status).toBe(401);
    expect((await cap(CI)).status).toBe(403);
    expect((await cap(OPS)).status).toBe(200);

    // Probes stay open for load balancers.
    expect((await agent.call('GET', '/healthz')).status).toBe(200);
    expect((await agent.call('GET', '/readyz')).status).toBe(503);
  });

  it('an agent on 0.0.0.0 with auth starts and enforces it', async () => {
    const agent = await startTestAgent({ taskCap: 0, listen: '0.0.0.0:0', auth: AUTH });
    const port = new URL(agent.url).port;
    const base = `http://127.0.0.1:${port}`;
    expect((await http(base, 'GET', '/v1/nodes')).status).toBe(401);
    expect((await http(base, 'GET', '/v1/nodes', { token: CI })).status).toBe(200);
  });
});

describe('listening beyond loopback', () => {
  it('without auth, the agent refuses to start and says why', async () => {
    const dir = tempDir();
    const config = writeAgentConfig(dir, { listen: '0.0.0.0:8420' });
    const err = await resolveAgentSettings({ config }, TEST_ENV, dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SettingsError);
    const message = (err as Error).message;
    expect(message).toContain('refusing to listen on 0.0.0.0:8420 without auth');
    expect(message).toContain('auth.tokens');

    // The --listen flag is held to the same rule.
    const flagged = await resolveAgentSettings({ listen: '0.0.0.0:0' }, {}, dir).catch((e: unknown) => e);
    expect(flagged).toBeInstanceOf(SettingsError);
    // Loopback needs no auth.
    await expect(resolveAgentSettings({ listen: '127.0.0.1:0' }, {}, dir)).resolves.toBeTruthy();
  });
});
