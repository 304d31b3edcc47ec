// The agent's check-run reporter against a local GitHub API that validates
// every request against GitHub's OpenAPI description.
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GITHUB_TEXT_LIMIT, renderCheckRun } from '../../runner-agent/src/github/check-run.ts';
import type { DeploymentRow, TaskRow } from '../../runner-agent/src/store/types.ts';
import {
  killChildren,
  spawnAgent,
  startTestAgent,
  stopTestAgents,
  TEST_ENV,
  writeAgentConfig,
} from '../helpers/agent.ts';
import { finished, submit, tenants } from '../helpers/deploy.ts';
import { type LocalGitHub, SECONDARY_RATE_LIMIT, startLocalGitHub } from '../helpers/github-api.ts';
import { removeTempDirs, tempDir, waitFor } from '../helpers/util.ts';
import { githubContext, SHA, workerPlan } from './context.ts';

const ENV = { ...TEST_ENV, FLOTILLA_CHECK_RUN_INTERVAL_MS: '300' };
let gh: LocalGitHub | null = null;

afterEach(async () => {
  await stopTestAgents();
  await killChildren();
  await gh?.close();
  gh = null;
  removeTempDirs();
});

const completedRun = (g: LocalGitHub) =>
  waitFor(
    'the check run to complete',
    () => [...g.checkRuns.values()].find((r) => r.status === 'completed'),
    20_000,
  );

/** Every request the agent made was one GitHub would accept (faults aside). */
function expectOnlyValidRequests(g: LocalGitHub, faults = 0) {
  const refused = g.requests.filter((r) => r.status >= 400);
  expect(refused.length, JSON.stringify(refused.slice(0, 3))).toBe(faults);
}

describe('check runs', () => {
  it('creates the check run queued, updates it, and completes it with success', async () => {
    gh = await startLocalGitHub();
    // A drained node: the check run shows the tasks queued and why they wait.
    const agent = await startTestAgent({ taskCap: 0 }, ENV);
    const d = await submit(agent, {
      plan: workerPlan(tenants(4), 'sleep 0.4'),
      github: githubContext(gh.url, { checkName: 'deploy production' }),
    });
    const queued = await waitFor('the check run', () => [...gh!.checkRuns.values()][0]);
    expect(queued.status).toBe('queued');
    await waitFor('the waiting reason on the check run', () =>
      queued.output.summary?.includes('is draining'),
    );
    expect((await agent.call('PUT', `/v1/nodes/${agent.node}`, { json: { taskCap: 2 } })).status).toBe(200);
    await finished(agent, d.id);
    const run = await completedRun(gh);
    expect(run).toMatchObject({
      head_sha: SHA,
      name: 'deploy production',
      conclusion: 'success',
      external_id: d.id,
      details_url: `${agent.url}/v1/deployments/${d.id}`,
      owner: 'acme',
      repo: 'storefront',
    });
    expect(run.output.title).toContain('4/4 tasks succeeded');
    expect(run.output.text).toContain('| t01 | succeeded |');
    const creates = gh.requests.filter((r) => r.route === 'POST /repos/{owner}/{repo}/check-runs');
    expect(creates).toHaveLength(1);
    expect((creates[0]!.body as { status: string }).status).toBe('queued');
    expectOnlyValidRequests(gh);
    // The API links the deployment to its check run.
    const view = (await agent.call('GET', `/v1/deployments/${d.id}`)).json;
    expect(view.checkRunId).toBe(run.id);
  });

  it('coalesces updates: at most one per interval per deployment', async () => {
    gh = await startLocalGitHub();
    const agent = await startTestAgent({ taskCap: 10 }, { ...ENV, FLOTILLA_CHECK_RUN_INTERVAL_MS: '1000' });
    const d = await submit(agent, {
      plan: workerPlan(tenants(30), 'sleep 0.1'),
      github: githubContext(gh.url),
    });
    await finished(agent, d.id);
    await completedRun(gh);
    const times = gh.requests.filter((r) => r.route.includes('check-runs')).map((r) => r.at);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(990);
    expectOnlyValidRequests(gh);
  });

  it('sends failed actions as annotations, at most 50 per request, and concludes failure', async () => {
    gh = await startLocalGitHub();
    // A 3 s interval: all 120 failures are in before the first update, so they go out 50, 50 and 20.
    const agent = await startTestAgent({ taskCap: 20 }, { ...ENV, FLOTILLA_CHECK_RUN_INTERVAL_MS: '3000' });
    const d = await submit(agent, {
      plan: workerPlan(tenants(120), 'echo "no disk" >&2; exit 3'),
      github: githubContext(gh.url),
    });
    expect((await finished(agent, d.id)).state).toBe('failed');
    const run = await waitFor('all annotations', () => {
      const r = [...gh!.checkRuns.values()][0];
      return r?.conclusion && r.annotations.length === 120 ? r : undefined;
    });
    expect(run.conclusion).toBe('failure');
    expect(run.annotations[0]).toMatchObject({ annotation_level: 'failure', path: '.flotilla/plan.yml' });
    const sizes = gh.requests
      .map((r) => (r.body as { output?: { annotations?: unknown[] } })?.output?.annotations?.length ?? 0)
      .filter((n) => n > 0);
    expect(sizes).toEqual([50, 50, 20]);
    expectOnlyValidRequests(gh);
  });

  it('loses no update when GitHub answers a secondary rate limit, then 502, then success', async () => {
    gh = await startLocalGitHub();
    gh.faults.push(SECONDARY_RATE_LIMIT, { status: 502, message: 'Server Error' });
    const agent = await startTestAgent({ taskCap: 2 }, ENV);
    const d = await submit(agent, { plan: workerPlan(tenants(2), 'true'), github: githubContext(gh.url) });
    await finished(agent, d.id);
    const run = await completedRun(gh);
    expect(run.conclusion).toBe('success');
    expect(gh.faults).toHaveLength(0);
    // The create was retried, not repeated: one check run.
    expect(gh.checkRuns.size).toBe(1);
    expect(gh.requests.map((r) => r.status).slice(0, 3)).toEqual([403, 502, 201]);
  });

  it('delivers the final conclusion after the agent was killed while the deployment ran', async () => {
    gh = await startLocalGitHub();
    const dir = tempDir('flotilla-restart-');
    const config = writeAgentConfig(dir, { taskCap: 2, listen: '127.0.0.1:0' });
    const first = await spawnAgent(config, ENV);
    // GitHub creates the check run but the agent dies before it hears the answer.
    gh.answerDelayMs = 5000;
    const d = await submit(first, { plan: workerPlan(tenants(2), 'sleep 1'), github: githubContext(gh.url) });
    await waitFor('the check run to exist', () => gh!.checkRuns.size === 1);
    first.proc.kill('SIGKILL');
    await first.exited;
    gh.answerDelayMs = 0;
    const second = await spawnAgent(config, ENV);
    // The tasks had started an action, so they end interrupted; the conclusion still goes out.
    await finished(second, d.id);
    const run = await completedRun(gh);
    expect(run.conclusion).toBe('failure');
    // The restarted agent found the check run by its external_id instead of creating a second one.
    expect(gh.checkRuns.size).toBe(1);
    expect(gh.requests.map((r) => r.route)).toContain('GET /repos/{owner}/{repo}/commits/{ref}/check-runs');
    expectOnlyValidRequests(gh);
  });

  it('posts as the GitHub App installation when the agent has an app', async () => {
    gh = await startLocalGitHub();
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    gh.app = {
      id: 12345,
      installationId: 777,
      publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    };
    const dir = tempDir('flotilla-app-');
    writeFileSync(join(dir, 'app.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const agent = await startTestAgent(
      { taskCap: 2, github: { apiUrl: gh.url, app: { id: 12345, privateKeyFile: join(dir, 'app.pem') } } },
      ENV,
    );
    const d = await submit(agent, {
      plan: workerPlan(tenants(1), 'true'),
      github: githubContext(gh.url, { token: undefined }),
    });
    await finished(agent, d.id);
    expect((await completedRun(gh)).conclusion).toBe('success');
    expect(gh.requests.map((r) => r.route)).toContain(
      'POST /app/installations/{installation_id}/access_tokens',
    );
    expectOnlyValidRequests(gh);
  });
});

describe('GitHub limits', () => {
  it('cuts summary and text to 65,535 characters', () => {
    const d = {
      id: 'dep_x',
      project: 'p',
      environment: 'e',
      release: '1',
      state: 'running',
      github: null,
      plan: { secrets: [], variables: {} },
      secrets: {},
      finishedAt: null,
    } as unknown as DeploymentRow;
    const tasks = Array.from(
      { length: 3000 },
      (_, i) =>
        ({
          id: `tsk_${i}`,
          tenant: `tenant-with-a-long-name-${i}`,
          state: 'queued',
          node: null,
          startedAt: null,
          finishedAt: null,
          message: null,
        }) as unknown as TaskRow,
    );
    const waiting = new Map(tasks.map((t) => [t.id, 'task cap: node deploy-1 runs 5 of 5']));
    const c = renderCheckRun(d, tasks, waiting);
    expect(c.output.summary.length).toBeLessThanOrEqual(GITHUB_TEXT_LIMIT);
    expect(c.output.text.length).toBeLessThanOrEqual(GITHUB_TEXT_LIMIT);
    expect(c.output.text).toContain('cut to GitHub');
  });
});
