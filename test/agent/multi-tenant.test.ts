// A real `flotilla agent` child process runs two deployments of twelve
// tenants whose concurrency tags collide in four groups, under a task cap of
// 3 and the mutex of two shared targets. Submitted with `flotilla deploy`.
// The records checker then proves the scheduling rules held.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { killChildren, runCli, spawnAgent, writeAgentConfig } from '../helpers/agent.ts';
import { finished, tenants } from '../helpers/deploy.ts';
import { checkRecords } from '../helpers/records.ts';
import { removeTempDirs } from '../helpers/util.ts';
import { releaseWorkspaces, script, workspace } from '../helpers/workspace.ts';

afterEach(async () => {
  releaseWorkspaces();
  await killChildren();
  removeTempDirs();
});

it('12 tenants, 4 tag groups, cap 3, 2 mutexed targets: every rule holds', async () => {
  const ws = workspace();
  const config = writeAgentConfig(join(ws.dir, 'agent'), {
    node: 'mt-1',
    taskCap: 3,
    worker: {
      targets: [
        { name: 'app-1', roles: ['app'] },
        { name: 'app-2', roles: ['app'] },
      ],
    },
  });
  const agent = await spawnAgent(config);
  const tag = '#{tenant.tags.group}/#{project}';
  const planFile = join(ws.dir, 'plan.yml');
  writeFileSync(
    planFile,
    stringify({
      version: 1,
      project: 'billing',
      environment: 'production',
      tenants: tenants(12).map((name, i) => ({ name, tags: { group: `g${i % 4}` } })),
      concurrency: { tag },
      variables: ws.variables(),
      steps: [
        { name: 'prepare', on: 'worker', run: script('sleep 0.05', { tag }) },
        { name: 'install', targets: { roles: ['app'] }, run: script('sleep 0.1', { tag }) },
      ],
    }),
  );

  const first = await runCli(['deploy', planFile, '--agent', agent.url, '--release', '1.0.0']);
  expect(first.code, first.stderr).toBe(0);
  const firstId = /deployment (dep_\S+):/.exec(first.stdout)?.[1];
  expect(firstId, first.stdout).toBeDefined();
  const second = await runCli(['deploy', planFile, '--agent', agent.url, '--release', '1.0.1', '--wait']);
  expect(second.code, second.stdout + second.stderr).toBe(0);
  const secondId = /deployment (dep_\S+):/.exec(second.stdout)?.[1] ?? '';
  expect(second.stdout).toMatch(/TENANT\s+STATE/);

  const views = [await finished(agent, firstId!), await finished(agent, secondId)];
  const tasks = views.flatMap((v) => v.tasks);
  expect(views.map((v) => v.state)).toEqual(['succeeded', 'succeeded']);
  expect(tasks.length).toBe(24);
  expect(new Set(tasks.map((t) => t.state))).toEqual(new Set(['succeeded']));

  const check = checkRecords(ws.records(), {
    cap: 3,
    submissionOrder: tasks.map((t) => t.id),
    tagOf: new Map(tasks.map((t) => [t.id, t.concurrencyTag])),
  });
  expect(check.violations).toEqual([]);
  // Every action ran: 24 tasks × (1 worker action + 2 target actions).
  expect(ws.starts().length).toBe(72);
  expect(check.tasks.size).toBe(24);
});
