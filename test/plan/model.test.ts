// Normalisation: what a short plan means once every default is applied.
import { describe, expect, it } from 'vitest';
import { DEFAULTS, durationMs, parseScript } from '../../src/plan/index.ts';
import { issuesOf, planOf } from './helpers.ts';

const untenanted = `
version: 1
project: storefront
steps:
  - name: smoke
    run: curl -fsS http://#{target.host}/health
    targets: { roles: [web] }
  - name: migrate
    run: ./scripts/migrate.sh
    on: worker
`;

describe('normalisation defaults', () => {
  it('fills every default of an untenanted plan', () => {
    const plan = planOf(untenanted);
    expect(plan.tenants).toBeNull();
    expect(plan.concurrency).toEqual({
      tag: '#{project}/#{environment}',
      maxParallelism: 10,
      acquireParallelism: 10,
      bypassTargetMutex: false,
      maxRunningTasks: 0,
    });
    expect(plan.priority).toBe('normal');
    expect(plan.supersede).toBe(false);
    expect(plan.onInterrupt).toBe('fail');
    expect(plan.packages).toEqual({});
    expect(plan.variables).toEqual({});
    expect(plan.secrets).toEqual([]);
    const [smoke, migrate] = plan.steps;
    expect(smoke).toMatchObject({
      kind: 'run',
      on: 'targets',
      roles: ['web'],
      window: 10,
      retries: 0,
      maxFailures: { count: 0 },
      timeoutMs: DEFAULTS.timeoutMs,
      continueOnError: false,
      script: { inline: 'curl -fsS http://#{target.host}/health' },
    });
    expect(DEFAULTS.timeoutMs).toBe(60 * 60 * 1000);
    expect(migrate).toMatchObject({
      kind: 'run',
      on: 'worker',
      pool: 'default',
      script: { path: './scripts/migrate.sh' },
    });
  });

  it('uses the tenanted tag template when the plan has tenants', () => {
    const plan = planOf(`
version: 1
project: storefront
tenants: [acme, { name: globex, tags: { group: eu-1 }, variables: { DB_NAME: globex_prod, PORT: 5432, ON: true } }]
steps: [{ name: hello, run: echo hello, on: worker }]
`);
    expect(plan.concurrency.tag).toBe('#{tenant}/#{project}/#{environment}');
    expect(plan.tenants).toEqual([
      { name: 'acme', tags: {}, variables: {} },
      {
        name: 'globex',
        tags: { group: 'eu-1' },
        variables: { DB_NAME: 'globex_prod', PORT: '5432', ON: 'true' },
      },
    ]);
  });

  it('defaults window to maxParallelism, and lets a step override it', () => {
    const plan = planOf(`
version: 1
project: storefront
concurrency: { maxParallelism: 3, acquireParallelism: 2, tag: "#{project}" }
steps:
  - { name: a, run: echo a, targets: { roles: [web] } }
  - { name: b, run: echo b, targets: { roles: [web] }, window: 1 }
`);
    expect(plan.concurrency).toMatchObject({ tag: '#{project}', maxParallelism: 3, acquireParallelism: 2 });
    expect(plan.steps.map((s) => s.window)).toEqual([3, 1]);
  });

  it('reads maxFailures as a count or a percentage, durations in every form', () => {
    const plan = planOf(`
version: 1
project: storefront
steps:
  - { name: a, run: echo, targets: { roles: [web] }, maxFailures: 2, timeout: 1h30m }
  - { name: b, run: echo, targets: { roles: [web] }, maxFailures: "12.5%", timeout: 90 }
  - { name: c, run: echo, targets: { roles: [web] }, timeout: 500ms, retries: 10 }
`);
    expect(plan.steps.map((s) => s.maxFailures)).toEqual([{ count: 2 }, { percent: 12.5 }, { count: 0 }]);
    expect(plan.steps.map((s) => s.timeoutMs)).toEqual([90 * 60_000, 90_000, 500]);
    expect(plan.steps[2]?.retries).toBe(10);
  });

  it('fills deploy steps and packages', () => {
    const plan = planOf(`
version: 1
project: storefront
packages:
  app: { url: "https://p.example.com/app-#{release}.tgz", sha256: "${'a'.repeat(64)}" }
  web: { upload: ./build/web.tar.gz, allowSymlinks: true }
steps: [{ name: deploy, deploy: app, targets: { roles: [web] } }]
`);
    expect(plan.packages).toEqual({
      app: {
        name: 'app',
        source: 'url',
        url: 'https://p.example.com/app-#{release}.tgz',
        sha256: 'a'.repeat(64),
        allowSymlinks: false,
      },
      web: {
        name: 'web',
        source: 'upload',
        upload: './build/web.tar.gz',
        sha256: undefined,
        allowSymlinks: true,
      },
    });
    expect(plan.steps[0]).toMatchObject({ kind: 'deploy', on: 'targets', package: 'app', keepReleases: 3 });
  });

  it('tells a script path from inline script text', () => {
    expect(parseScript('./deploy.sh')).toEqual({ path: './deploy.sh' });
    expect(parseScript('scripts/migrate.bash\n')).toEqual({ path: 'scripts/migrate.bash' });
    expect(parseScript('bash deploy.sh')).toEqual({ inline: 'bash deploy.sh' });
    expect(parseScript('./deploy.sh --fast')).toEqual({ inline: './deploy.sh --fast' });
    expect(parseScript('set -e\n./deploy.sh\n')).toEqual({ inline: 'set -e\n./deploy.sh\n' });
    expect(parseScript('echo hi')).toEqual({ inline: 'echo hi' });
  });

  it('converts durations to milliseconds', () => {
    expect(durationMs('2m')).toBe(120_000);
    expect(durationMs('1h2m3s4ms')).toBe(3_723_004);
    expect(durationMs(1.5)).toBe(1500);
  });
});

describe('messages for common mistakes', () => {
  it('lists every problem of a plan, not just the first', () => {
    const issues = issuesOf(`
version: 1
project: storefront
steps:
  - { name: a, run: echo, targets: { roles: [web] }, window: 0 }
  - { name: b, run: echo, on: worker, retries: -1 }
`);
    expect(issues.map((i) => i.path)).toEqual(['/steps/0/window', '/steps/1/retries']);
    expect(issues[1]?.message).toBe('retries cannot be negative');
  });

  it('refuses a timeout that a timer cannot hold', () => {
    const at = (t: string) =>
      issuesOf(`version: 1\nproject: s\nsteps: [{ name: a, run: echo, on: worker, timeout: ${t} }]\n`)[0]
        ?.message;
    expect(at('0.0001')).toBe('a duration is between 1ms and 24 days');
    expect(at('25d')).toBe('a duration is like 90s, 2m, 1h30m or 500ms');
    expect(at('597h')).toBe('a duration is between 1ms and 24 days');
    expect(
      planOf(`version: 1\nproject: s\nsteps: [{ name: a, run: echo, on: worker, timeout: 596h }]\n`),
    ).toBeDefined();
  });
});
