// GitHub OIDC tokens (auth.oidc): verified with jose against a local issuer's
// JWKS (real RS256 keys), then matched against allow rules. Every refusal
// names the rule that failed and never echoes the token.
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resolveAgentSettings, SettingsError } from '../../runner-agent/src/config/settings.ts';
import {
  startTestAgent,
  stopTestAgents,
  TEST_ENV,
  type TestAgent,
  writeAgentConfig,
} from '../helpers/agent.ts';
import { type LocalIssuer, startLocalIssuer } from '../helpers/oidc.ts';
import { createTestSchema, postgresAvailable } from '../helpers/postgres.ts';
import { removeTempDirs, tempDir } from '../helpers/util.ts';

const withPostgres = await postgresAvailable();
let issuer: LocalIssuer;
let agent: TestAgent;

beforeAll(async () => {
  issuer = await startLocalIssuer();
});
afterAll(async () => {
  await issuer.close();
});
afterEach(async () => {
  await stopTestAgents();
  removeTempDirs();
});

async function start(
  allow: Record<string, unknown>[] = [{ repository: 'acme/storefront', ref: 'refs/heads/main' }],
) {
  agent = await startTestAgent({
    taskCap: 0,
    auth: { oidc: { issuer: issuer.issuer, audience: 'flotilla', allow } },
  });
}

const queue = (token: string) => agent.call('GET', '/v1/queue', { token });

async function refused(token: string, status: number, rule: RegExp) {
  const r = await queue(token);
  expect(r.status, r.text).toBe(status);
  expect(r.json.error.message).toMatch(rule);
  expect(r.text).not.toContain(token);
  const signature = token.split('.')[2];
  if (signature) expect(r.text).not.toContain(signature);
}

describe('OIDC tokens', () => {
  it('accepts a token from the issuer once, and refuses it replayed', async () => {
    await start();
    const token = await issuer.sign();
    expect((await queue(token)).status).toBe(200);
    await refused(token, 401, /rule jti: .*already used/);
    expect((await queue(await issuer.sign())).status).toBe(200);
  });

  it.skipIf(!withPostgres)(
    'refuses a token on one node that another node of the cluster accepted',
    async () => {
      const schema = await createTestSchema('flotilla_oidc');
      try {
        const env = { ...TEST_ENV, FLOTILLA_DATABASE_URL: schema.url };
        const auth = {
          oidc: { issuer: issuer.issuer, audience: 'flotilla', allow: [{ repository: 'acme/storefront' }] },
        };
        const a = await startTestAgent({ node: 'oidc-a', taskCap: 0, auth }, env);
        const b = await startTestAgent({ node: 'oidc-b', taskCap: 0, auth }, env);
        const token = await issuer.sign();
        expect((await a.call('GET', '/v1/queue', { token })).status).toBe(200);
        const replay = await b.call('GET', '/v1/queue', { token });
        expect(replay.status).toBe(401);
        expect(replay.json.error.message).toMatch(/rule jti: .*already used/);
      } finally {
        await stopTestAgents();
        await schema.drop();
      }
    },
  );

  it('refuses forged, expired, early, misaddressed and downgraded tokens, naming the rule', async () => {
    await start();
    const now = Math.floor(Date.now() / 1000);
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    await refused(await issuer.sign({}, { key: other }), 401, /rule signature/);
    await refused(await issuer.sign({ exp: now - 120, iat: now - 600, nbf: now - 600 }), 401, /rule exp/);
    await refused(await issuer.sign({ nbf: now + 600, iat: now }), 401, /rule nbf/);
    await refused(await issuer.sign({ iat: now + 600 }), 401, /rule iat/);
    await refused(await issuer.sign({ aud: 'someone-else' }), 401, /rule aud: the audience must be flotilla/);
    await refused(
      await issuer.sign({ iss: 'https://evil.example.com' }),
      401,
      /rule iss: the issuer must be/,
    );
    await refused(await issuer.sign({ jti: undefined }), 401, /rule jti/);

    // alg none: an unsigned token with an empty signature part.
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: issuer.issuer, aud: 'flotilla', exp: now + 300, iat: now, jti: 'x', repository: 'acme/storefront', ref: 'refs/heads/main' })}.`;
    await refused(none, 401, /rule alg: only RS256/);

    // HS256 with the issuer's public key as the HMAC secret (the classic key-confusion forgery).
    const pem = createPublicKey({ key: issuer.publicJwk as never, format: 'jwk' }).export({
      type: 'spki',
      format: 'pem',
    });
    await refused(
      await issuer.sign({}, { alg: 'HS256', key: new Uint8Array(Buffer.from(pem)) }),
      401,
      /rule alg/,
    );
  });

  it('refuses tokens of other repositories, refs, environments and events with 403 naming the claim', async () => {
    await start([
      {
        repository: 'acme/storefront',
        repository_id: 424242,
        environment: 'production',
        ref: 'refs/heads/main',
      },
      { repository: 'acme/storefront', event_name: 'pull_request', environment: 'preview', scopes: ['read'] },
    ]);
    await refused(
      await issuer.sign({ repository: 'acme/other' }),
      403,
      /allow\[0\]: repository must be acme\/storefront, token has acme\/other/,
    );
    // A repository deleted and re-created under the same name has a new id.
    await refused(
      await issuer.sign({ repository_id: '999' }),
      403,
      /repository_id must be 424242, token has 999/,
    );
    await refused(await issuer.sign({ ref: 'refs/heads/feature' }), 403, /ref must be refs\/heads\/main/);
    // The second rule matches but grants only read.
    const pr = { event_name: 'pull_request', environment: 'preview', ref: 'refs/pull/7/merge' };
    expect((await queue(await issuer.sign(pr))).status).toBe(200);
    const submit = await agent.call('POST', '/v1/deployments', {
      token: await issuer.sign(pr),
      json: {
        plan: {
          version: 1,
          project: 'p',
          environment: 'e',
          release: '1',
          steps: [{ name: 's', on: 'worker', run: 'true' }],
        },
      },
    });
    expect(submit.status, submit.text).toBe(403);
    expect(submit.json.error.message).toMatch(/allow\[1\] does not grant scope deploy/);
    expect(
      (await agent.call('POST', '/v1/nodes/test-node/drain', { token: await issuer.sign(), json: {} }))
        .status,
    ).toBe(200);
  });
});

describe('auth.oidc configuration', () => {
  it('refuses an allow rule with an unknown claim or a non-numeric repository_id, naming the field', async () => {
    const dir = tempDir();
    const config = writeAgentConfig(dir, {
      auth: {
        oidc: {
          issuer: 'https://token.actions.githubusercontent.com',
          audience: 'flotilla',
          allow: [{ repo: 'acme/storefront' }, { repository_id: 'abc' }],
        },
      },
    });
    const err = await resolveAgentSettings({ config }, {}, dir).catch((e) => e);
    expect(err).toBeInstanceOf(SettingsError);
    expect(err.message).toMatch(/\/auth\/oidc\/allow\/0.*repo/);
    expect(err.message).toMatch(/\/auth\/oidc\/allow\/1\/repository_id/);
  });
});
