// The local GitHub API refuses what the real one would, so the reporter's
// tests can fail: over-long summaries, too many annotations, a completed
// check run without a conclusion, unknown routes, missing credentials.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalGitHub, startLocalGitHub } from '../helpers/github-api.ts';
import { http } from '../helpers/util.ts';
import { SHA } from './context.ts';

let gh: LocalGitHub;
beforeAll(async () => {
  gh = await startLocalGitHub();
});
afterAll(() => gh.close());

const post = (json: unknown, token: string | undefined = 'ghs_x') =>
  http(gh.url, 'POST', '/repos/acme/storefront/check-runs', {
    json,
    ...(token ? { headers: { authorization: `token ${token}` } } : {}),
  });
const annotation = { path: 'a', start_line: 1, end_line: 1, annotation_level: 'failure', message: 'm' };

describe('local GitHub API', () => {
  it('accepts a valid create and refuses what GitHub refuses', async () => {
    expect((await post({ name: 'n', head_sha: SHA, status: 'queued' })).status).toBe(201);
    expect((await post({ name: 'n', head_sha: SHA }, '')).status).toBe(401);
    const long = await post({
      name: 'n',
      head_sha: SHA,
      output: { title: 't', summary: 'x'.repeat(65_536) },
    });
    expect(long.status).toBe(422);
    expect(long.json.message).toMatch(/summary must NOT have more than 65535 characters/);
    const many = await post({
      name: 'n',
      head_sha: SHA,
      output: { title: 't', summary: 's', annotations: Array(51).fill(annotation) },
    });
    expect(many.status).toBe(422);
    expect(many.json.message).toMatch(/annotations must NOT have more than 50 items/);
    expect((await post({ head_sha: SHA })).status).toBe(422);
    expect((await post({ name: 'n', head_sha: SHA, status: 'bogus' })).status).toBe(422);
    expect((await post({ name: 'n', head_sha: SHA, status: 'completed' })).status).toBe(422);
    const unknown = await http(gh.url, 'POST', '/repos/acme/storefront/check-runz', {
      json: {},
      headers: { authorization: 'token x' },
    });
    expect(unknown.status).toBe(404);
    const badId = await http(gh.url, 'PATCH', '/repos/acme/storefront/check-runs/abc', {
      json: {},
      headers: { authorization: 'token x' },
    });
    expect(badId.status).toBe(422);
  });
});
