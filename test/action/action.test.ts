// The action, run as the runner runs it (see run-action.ts), against a real
// agent on loopback that verifies GitHub OIDC tokens from a local issuer, and
// a local GitHub API for the check run.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestAgent, stopTestAgents, TEST_ENV, type TestAgent } from '../helpers/agent.ts';
import { finished } from '../helpers/deploy.ts';
import { type LocalGitHub, startLocalGitHub } from '../helpers/github-api.ts';
import { type LocalIssuer, startLocalIssuer } from '../helpers/oidc.ts';
import { removeTempDirs, tempDir, waitFor } from '../helpers/util.ts';
import { samplePackage } from '../packages/tarball.ts';
import { runAction, startAction } from './run-action.ts';

let issuer: LocalIssuer;
let gh: LocalGitHub;
const OPS_TOKEN = 'ops-token-0123456789abcdef';

beforeAll(async () => {
  issuer = await startLocalIssuer();
  gh = await startLocalGitHub();
});
afterAll(async () => {
  await issuer.close();
  await gh.close();
});
afterEach(async () => {
  await stopTestAgents();
  removeTempDirs();
});

async function agentWithOidc(taskCap = 5): Promise<TestAgent> {
  return startTestAgent(
    {
      taskCap,
      auth: {
        tokens: [
          {
            name: 'ops',
            sha256: createHash('sha256').update(OPS_TOKEN).digest('hex'),
            scopes: ['deploy', 'drain', 'read'],
          },
        ],
        oidc: { issuer: issuer.issuer, audience: 'flotilla', allow: [{ repository: 'acme/storefront' }] },
      },
    },
    { ...TEST_ENV, FLOTILLA_CHECK_RUN_INTERVAL_MS: '200' },
  );
}

/** A repository checkout with a plan in .flotilla/plan.yml (the action's default path). */
function checkout(tenants: string[], script: string): string {
  const dir = tempDir('flotilla-checkout-');
  const plan = [
    'version: 1',
    'project: storefront',
    'environment: production',
    'release: "2026.11.3"',
    `tenants: [${tenants.join(', ')}]`,
    'steps:',
    '  - name: deploy',
    '    on: worker',
    `    run: ${JSON.stringify(script)}`,
    '',
  ].join('\n');
  mkdirSync(join(dir, '.flotilla'));
  writeFileSync(join(dir, '.flotilla/plan.yml'), plan);
  return dir;
}

const oidcEnv = () => ({ ...issuer.requestEnv, GITHUB_API_URL: gh.url });

describe('deploy', () => {
  it('deploys with OIDC, follows progress, writes outputs, summary and the check run', async () => {
    const agent = await agentWithOidc(2);
    const cwd = checkout(['acme', 'globex', 'initech'], 'echo deploying $FLOTILLA_TENANT; sleep 0.3');
    const before = issuer.issued;
    const r = await runAction('main', { 'agent-url': agent.url }, { cwd, env: oidcEnv() });
    expect(r.code, r.log).toBe(0);
    expect(r.outputs).toMatchObject({ status: 'succeeded', 'tasks-succeeded': '3', 'tasks-failed': '0' });
    expect(r.outputs['deployment-id']).toMatch(/^dep_/);
    expect(r.outputs.url).toBe(`${agent.url}/v1/deployments/${r.outputs['deployment-id']}`);
    // Single-use OIDC tokens: one per request.
    expect(issuer.issued - before).toBeGreaterThanOrEqual(3);
    expect(r.log).toContain('acme: started on node test-node');
    expect(r.log).toMatch(/::group::acme: succeeded/);
    expect(r.summary).toContain('| acme | succeeded |');
    expect(r.summary).toContain('```mermaid\ngantt');
    expect(r.summary).toMatch(/ {2}globex :done, \d+, \d+/);
    // The check run, posted by the agent with the workflow's token on the pushed commit.
    const run = await waitFor('the check run', () =>
      [...gh.checkRuns.values()].find((c) => c.external_id === r.outputs['deployment-id']),
    );
    expect(run.head_sha).toBe('c0ffee'.padEnd(40, '1'));
    expect(r.outputs['check-run-id']).toBe(String(run.id));
    expect(gh.requests.filter((q) => q.status >= 400)).toEqual([]);
  });

  it('puts the check run of a pull_request on the PR head commit', async () => {
    const agent = await agentWithOidc();
    const cwd = checkout(['acme'], 'true');
    const head = 'beef'.padEnd(40, '2');
    const r = await runAction(
      'main',
      { 'agent-url': agent.url, environment: 'preview-7' },
      {
        cwd,
        env: { ...oidcEnv(), GITHUB_EVENT_NAME: 'pull_request', GITHUB_REF: 'refs/pull/7/merge' },
        event: { number: 7, pull_request: { number: 7, head: { sha: head, ref: 'feature' } } },
      },
    );
    expect(r.code, r.log).toBe(0);
    const run = await waitFor('the check run', () =>
      [...gh.checkRuns.values()].find((c) => c.external_id === r.outputs['deployment-id'] && c.conclusion),
    );
    expect(run.head_sha).toBe(head);
    expect(run.name).toBe('flotilla: storefront → preview-7');
  });

  it('fails the step when the deployment fails, with an annotation per failed action', async () => {
    const agent = await agentWithOidc();
    const cwd = checkout(['acme', 'globex'], 'echo "disk full" >&2; exit 4');
    const r = await runAction('main', { 'agent-url': agent.url }, { cwd, env: oidcEnv() });
    expect(r.code).toBe(1);
    expect(r.outputs).toMatchObject({ status: 'failed', 'tasks-failed': '2', 'tasks-succeeded': '0' });
    // Annotation properties escape ':' as %3A (the runner's command encoding).
    expect(r.log).toMatch(/::error title=acme%3A step deploy failed::exit code 4/);
    expect(r.log).toMatch(/::error::deployment dep_\w+ failed/);
    expect(r.log).toContain('disk full');
  });

  it('submits once per step: a retried step finds its first deployment', async () => {
    const agent = await agentWithOidc();
    const cwd = checkout(['acme'], 'true');
    const first = await runAction('main', { 'agent-url': agent.url }, { cwd, env: oidcEnv() });
    const again = await runAction('main', { 'agent-url': agent.url }, { cwd, env: oidcEnv() });
    expect(again.code, again.log).toBe(0);
    expect(again.outputs['deployment-id']).toBe(first.outputs['deployment-id']);
    expect(again.log).toContain('already submitted by an earlier attempt');
    // A new run attempt is a new deployment.
    const rerun = await runAction(
      'main',
      { 'agent-url': agent.url },
      { cwd, env: { ...oidcEnv(), GITHUB_RUN_ATTEMPT: '2' } },
    );
    expect(rerun.outputs['deployment-id']).not.toBe(first.outputs['deployment-id']);
  });

  it('authenticates with a token when told to', async () => {
    const agent = await agentWithOidc();
    const cwd = checkout(['acme'], 'true');
    const r = await runAction(
      'main',
      { 'agent-url': agent.url, auth: 'token', 'agent-token': OPS_TOKEN },
      { cwd, env: { GITHUB_API_URL: gh.url } },
    );
    expect(r.code, r.log).toBe(0);
    // Registered as a secret (the runner masks it), and never printed otherwise.
    expect(r.log).toContain(`::add-mask::${OPS_TOKEN}`);
    expect(r.log.replaceAll(`::add-mask::${OPS_TOKEN}`, '')).not.toContain(OPS_TOKEN);
  });

  it('uploads an upload: package the agent lacks, once, and installs it on the target', async () => {
    const dir = tempDir('flotilla-action-web-');
    const agent = await startTestAgent({
      taskCap: 2,
      worker: { targets: [{ name: 'web-1', roles: ['web'], root: dir }] },
      auth: {
        tokens: [
          {
            name: 'ops',
            sha256: createHash('sha256').update(OPS_TOKEN).digest('hex'),
            scopes: ['deploy', 'read'],
          },
        ],
      },
    });
    const cwd = tempDir('flotilla-checkout-');
    mkdirSync(join(cwd, '.flotilla'));
    mkdirSync(join(cwd, 'build'));
    writeFileSync(join(cwd, 'build/app.tar.gz'), samplePackage('from the workspace'));
    writeFileSync(
      join(cwd, '.flotilla/plan.yml'),
      [
        'version: 1',
        'project: storefront',
        'environment: production',
        'release: "2026.11.3"',
        'tenants: [acme, globex]',
        'packages:',
        '  app: { upload: build/app.tar.gz }',
        'steps:',
        '  - { name: install, deploy: app, targets: { roles: [web] } }',
        '',
      ].join('\n'),
    );
    const inputs = { 'agent-url': agent.url, auth: 'token', 'agent-token': OPS_TOKEN };
    const first = await runAction('main', inputs, { cwd, env: { GITHUB_API_URL: gh.url } });
    expect(first.code, first.log).toBe(0);
    expect(first.log).toMatch(/package app: uploaded \d+ bytes/);
    for (const tenant of ['acme', 'globex']) {
      expect(readFileSync(join(dir, tenant, 'storefront/current/index.html'), 'utf8')).toContain(
        'from the workspace',
      );
    }
    // A second run of the workflow (a new attempt) finds the package on the agent.
    const again = await runAction('main', inputs, {
      cwd,
      env: { GITHUB_API_URL: gh.url, GITHUB_RUN_ATTEMPT: '2' },
    });
    expect(again.code, again.log).toBe(0);
    expect(again.log).toContain('package app: the agent has it already');
  });

  it('fails clearly when the agent is unreachable', async () => {
    const cwd = checkout(['acme'], 'true');
    const r = await runAction('main', { 'agent-url': 'http://127.0.0.1:9' }, { cwd, env: oidcEnv() });
    expect(r.code).toBe(1);
    expect(r.log).toMatch(
      /::error::cannot reach the Flotilla agent at http:\/\/127\.0\.0\.1:9 \(ECONNREFUSED\)/,
    );
    expect(r.log).toContain('is the agent-url input right?');
  });

  it('says how to fix a job without id-token permission', async () => {
    const agent = await agentWithOidc();
    const cwd = checkout(['acme'], 'true');
    const r = await runAction('main', { 'agent-url': agent.url }, { cwd, env: { GITHUB_API_URL: gh.url } });
    expect(r.code).toBe(1);
    expect(r.log).toMatch(/::error::auth is oidc, but the job could not get an OIDC token .*id-token: write/);
  });

  it('fails naming the input when inputs are wrong', async () => {
    const cwd = checkout(['acme'], 'true');
    const r = await runAction(
      'main',
      { 'agent-url': 'ftp://x', command: 'explode' },
      { cwd, env: oidcEnv() },
    );
    expect(r.code).toBe(1);
    expect(r.log).toContain('input agent-url must be an http(s) URL');
    expect(r.log).toContain('input command must be one of deploy, drain, resume, cap, status, cancel');
  });

  it('refuses a token from a repository the agent does not allow', async () => {
    const agent = await agentWithOidc();
    const cwd = checkout(['acme'], 'true');
    issuer.claims.repository = 'evil/fork';
    try {
      const r = await runAction('main', { 'agent-url': agent.url }, { cwd, env: oidcEnv() });
      expect(r.code).toBe(1);
      expect(r.log).toMatch(
        /::error::OIDC token matches no auth.oidc.allow rule: allow\[0\]: repository must be acme\/storefront, token has evil\/fork/,
      );
    } finally {
      issuer.claims.repository = 'acme/storefront';
    }
  });

  it('the post step cancels the deployment when the run is cancelled', async () => {
    const agent = await agentWithOidc(1);
    const cwd = checkout(['acme', 'globex'], 'sleep 30');
    const main = startAction('main', { 'agent-url': agent.url }, { cwd, env: oidcEnv() });
    const id = await waitFor('the deployment id in the step state', () => main.state()['deployment-id']);
    // The runner stops the main step, then runs the post step (post-if: cancelled()).
    main.proc.kill('SIGINT');
    await main.done;
    const post = await runAction(
      'post',
      { 'agent-url': agent.url },
      { cwd, env: oidcEnv(), state: { 'deployment-id': id } },
    );
    expect(post.code, post.log).toBe(0);
    expect(post.log).toContain(`deployment ${id}`);
    const ops = { call: (m: string, p: string) => agent.call(m, p, { token: OPS_TOKEN }) };
    expect((await finished(ops, id)).state).toBe('cancelled');
  });
});

describe('deployment commands', () => {
  it('status and cancel act on the deployment named by deployment-id', async () => {
    const agent = await agentWithOidc(1);
    const cwd = checkout(['acme', 'globex'], 'sleep 30');
    const submitted = await runAction(
      'main',
      { 'agent-url': agent.url, wait: 'false' },
      { cwd, env: oidcEnv() },
    );
    expect(submitted.outputs.status).toBe('queued');
    const id = submitted.outputs['deployment-id']!;
    const inputs = { 'agent-url': agent.url, 'deployment-id': id };
    const status = await runAction('main', { ...inputs, command: 'status' }, { cwd, env: oidcEnv() });
    expect(status.code, status.log).toBe(0);
    expect(status.log).toContain(`deployment ${id} storefront → production`);
    const cancel = await runAction('main', { ...inputs, command: 'cancel' }, { cwd, env: oidcEnv() });
    expect(cancel.code, cancel.log).toBe(0);
    const ops = { call: (m: string, p: string) => agent.call(m, p, { token: OPS_TOKEN }) };
    expect((await finished(ops, id)).state).toBe('cancelled');
  });
});

describe('node commands', () => {
  it('drain with wait-for-drain returns once the node runs no task; resume and cap', async () => {
    const agent = await agentWithOidc(2);
    const cwd = checkout(['acme'], 'sleep 2');
    const main = startAction('main', { 'agent-url': agent.url, wait: 'false' }, { cwd, env: oidcEnv() });
    expect((await main.done).code).toBe(0);
    await waitFor(
      'the task to run',
      async () => (await agent.call('GET', '/v1/nodes', { token: OPS_TOKEN })).json[0].running === 1,
    );
    const drain = await runAction(
      'main',
      { 'agent-url': agent.url, command: 'drain', node: 'test-node', 'wait-for-drain': 'true' },
      { cwd, env: oidcEnv() },
    );
    expect(drain.code, drain.log).toBe(0);
    expect(drain.outputs.status).toBe('drained');
    const nodes = (await agent.call('GET', '/v1/nodes', { token: OPS_TOKEN })).json;
    expect(nodes[0]).toMatchObject({ running: 0, taskCap: 0, draining: true });

    const resume = await runAction(
      'main',
      { 'agent-url': agent.url, command: 'resume', node: 'test-node' },
      { cwd, env: oidcEnv() },
    );
    expect(resume.outputs.status).toBe('ready');
    const cap = await runAction(
      'main',
      { 'agent-url': agent.url, command: 'cap', node: 'test-node', 'task-cap': '7' },
      { cwd, env: oidcEnv() },
    );
    expect(cap.code, cap.log).toBe(0);
    expect(cap.log).toContain('node test-node: task cap 7');
    const status = await runAction(
      'main',
      { 'agent-url': agent.url, command: 'status' },
      { cwd, env: oidcEnv() },
    );
    expect(status.code, status.log).toBe(0);
    expect(status.log).toContain('NODES');
  });
});
