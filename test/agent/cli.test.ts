// The `flotilla` CLI as a user runs it: run, validate, refusals on stderr,
// and an agent that refuses an unsafe listen address.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { killChildren, runCli, writeAgentConfig } from '../helpers/agent.ts';
import { REPO, removeTempDirs, tempDir } from '../helpers/util.ts';

afterEach(async () => {
  await killChildren();
  removeTempDirs();
});

it('flotilla run examples/rolling.yml --config examples/agents/rolling.yml exits 0 with the final table', async () => {
  // A copy of examples/, so the run's data dir and target roots stay out of the repository.
  const dir = tempDir('flotilla-cli-');
  cpSync(join(REPO, 'examples'), join(dir, 'examples'), {
    recursive: true,
    filter: (src) => !src.split('/').includes('.flotilla'),
  });
  const r = await runCli(['run', 'examples/rolling.yml', '--config', 'examples/agents/rolling.yml'], {
    cwd: dir,
  });
  expect(r.code, r.stdout + r.stderr).toBe(0);
  expect(r.stdout).toMatch(/deployment dep_\S+: 1 task queued/);
  expect(r.stdout).toMatch(/TENANT\s+STATE\s+STARTED\s+FINISHED/);
  expect(r.stdout).toMatch(/^-\s+succeeded\s/m);
});

it('flotilla --version prints the version of package.json', async () => {
  const r = await runCli(['--version']);
  expect(r.code).toBe(0);
  expect(r.stdout.trim()).toBe(JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version);
});

it('flotilla run of a failing plan exits 1', async () => {
  const dir = tempDir('flotilla-cli-');
  const plan = join(dir, 'fails.yml');
  writeFileSync(
    plan,
    [
      'version: 1',
      'project: broken',
      'environment: test',
      'release: "1"',
      'tenants: [acme, globex]',
      'steps:',
      '  - name: boom',
      '    on: worker',
      '    run: |',
      '      echo "about to fail for $FLOTILLA_TENANT"',
      '      exit 4',
      '',
    ].join('\n'),
  );
  const r = await runCli(['run', plan], { cwd: dir });
  expect(r.code, r.stdout + r.stderr).toBe(1);
  expect(r.stdout).toMatch(/^acme\s+failed\s/m);
  expect(r.stdout).toMatch(/^globex\s+failed\s/m);
});

it('flotilla validate of a bad plan exits 1 and prints each problem with its path and line', async () => {
  const dir = tempDir('flotilla-cli-');
  const bad = join(dir, 'bad.yml');
  writeFileSync(
    bad,
    [
      'version: 1',
      'project: shop',
      'steps:',
      '  - name: roll',
      '    targets: { roles: [web] }',
      '    window: 0',
      '    run: echo hi',
      '',
    ].join('\n'),
  );
  const r = await runCli(['validate', bad]);
  expect(r.code, r.stdout + r.stderr).toBe(1);
  expect(r.stdout + r.stderr).toContain('/steps/0/window');
  expect(r.stdout + r.stderr).toMatch(/bad\.yml:6/);

  const good = join(dir, 'good.yml');
  writeFileSync(good, 'version: 1\nproject: shop\nsteps:\n  - name: hi\n    on: worker\n    run: echo hi\n');
  const ok = await runCli(['validate', good]);
  expect(ok.code, ok.stdout + ok.stderr).toBe(0);
  expect(ok.stdout).toContain('ok');
});

it('a refused plan or task cap goes to stderr, with exit 1 and nothing on stdout', async () => {
  const dir = tempDir('flotilla-cli-');
  const bad = join(dir, 'bad.yml');
  writeFileSync(bad, 'version: 1\nproject: shop\nsteps:\n  - name: hi\n    on: worker\n    timeout: soon\n');
  // Both are refused before any agent is asked: none listens on port 9.
  const deploy = await runCli(['deploy', bad, '--agent', 'http://127.0.0.1:9']);
  expect(deploy.code, deploy.stdout + deploy.stderr).toBe(1);
  expect(deploy.stderr).toMatch(/bad\.yml:6:\d+: \/steps\/0\/timeout: /);
  expect(deploy.stdout).toBe('');
  const cap = await runCli(['cap', 'node-1', '-3', '--agent', 'http://127.0.0.1:9']);
  expect(cap.code, cap.stdout + cap.stderr).toBe(1);
  expect(cap.stderr).toContain('flotilla: task cap must be a whole number from 0, not "-3"');
  expect(cap.stdout).toBe('');
});

it('flotilla run of a plan with target steps but no --config says to pass one', async () => {
  const r = await runCli(['run', join(REPO, 'examples/rolling.yml')]);
  expect(r.code, r.stdout + r.stderr).toBe(2);
  expect(r.stderr).toContain('/steps/1/targets/roles: no target has role web');
  expect(r.stderr).toContain('--config: without --config this run has no targets');
});

it('an agent it cannot reach is named, with the flag that sets its URL', async () => {
  const r = await runCli(['status', '--agent', 'http://127.0.0.1:9']);
  expect(r.code, r.stdout + r.stderr).toBe(2);
  expect(r.stderr).toContain(
    'flotilla: cannot reach the Flotilla agent at http://127.0.0.1:9 (ECONNREFUSED)',
  );
  expect(r.stderr).toContain('is --agent (FLOTILLA_AGENT_URL) right?');
});

it('flotilla agent refuses to listen on 0.0.0.0 without auth and says why', async () => {
  const dir = tempDir('flotilla-cli-');
  const config = writeAgentConfig(dir, { listen: '0.0.0.0:0' });
  const r = await runCli(['agent', '--config', config], { timeoutMs: 20_000 });
  expect(r.code).not.toBe(0);
  expect(r.code).not.toBeNull();
  expect(r.stderr).toContain('refusing to listen on 0.0.0.0:0 without auth');
  expect(r.stderr).toContain('auth.tokens');
});

// The machine's own Node (Debian's, older than 24) runs the published bin the
// way a user with an old PATH would.
const OLD_NODE = '/usr/bin/node';
const oldNodeMajor = (() => {
  try {
    return Number(
      execFileSync(OLD_NODE, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' }),
    );
  } catch {
    return null;
  }
})();

it.skipIf(oldNodeMajor === null || oldNodeMajor >= 24)(
  `the bundled flotilla on Node ${oldNodeMajor} says it needs Node 24 instead of failing to load`,
  () => {
    const r = spawnSync(OLD_NODE, [join(REPO, 'dist/agent/index.js'), 'validate', 'examples/rolling.yml'], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('flotilla: needs Node.js 24 or newer; this is Node.js');
    expect(r.stderr).not.toContain('    at ');
  },
);
