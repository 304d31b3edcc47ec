// Expansion: tasks per tenant with their concurrency tags, and actions per
// target, filtered by role and by the tenants a target serves.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkInventory,
  expandActions,
  expandDeployment,
  type Target,
  targetsFor,
} from '../../src/plan/index.ts';
import { planOf } from './helpers.ts';

const tenanted = planOf(`
version: 1
project: storefront
environment: production
release: "2026.11.3"
tenants:
  - acme
  - name: globex
    tags: { group: eu-1 }
    variables: { DB_NAME: globex_prod }
  - initech
variables: { LOG_LEVEL: info, DB_NAME: shared }
steps:
  - name: migrate
    run: ./scripts/migrate.sh
    on: worker
    pool: db
  - name: deploy
    run: echo "#{target.host}"
    targets: { roles: [web] }
  - name: cache
    run: echo warm
    targets: { roles: [cache, web] }
`);

const untenanted = planOf(`
version: 1
project: storefront
steps:
  - name: deploy
    run: echo deploy
    targets: { roles: [web] }
`);

const target = (name: string, roles: string[], tenants?: string[]): Target => ({
  name,
  roles,
  host: `${name}.internal`,
  root: `/srv/${name}`,
  ...(tenants ? { tenants } : {}),
});

const inventory = [
  target('web-shared', ['web']),
  target('web-acme', ['web'], ['acme']),
  target('web-globex', ['web', 'cache'], ['globex']),
  target('db-1', ['db']),
];

describe('expandDeployment', () => {
  it('makes one task per tenant, each with its concurrency tag and variables', () => {
    const r = expandDeployment(tenanted);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value).toMatchObject({ project: 'storefront', environment: 'production', release: '2026.11.3' });
    expect(r.value.tasks.map((t) => [t.tenant?.name, t.concurrencyTag])).toEqual([
      ['acme', 'acme/storefront/production'],
      ['globex', 'globex/storefront/production'],
      ['initech', 'initech/storefront/production'],
    ]);
    // Tenant variables override plan variables.
    expect(r.value.tasks[1]?.variables).toEqual({ LOG_LEVEL: 'info', DB_NAME: 'globex_prod' });
    expect(r.value.tasks[0]?.variables).toEqual({ LOG_LEVEL: 'info', DB_NAME: 'shared' });
  });

  it('makes one task for an untenanted plan, with the untenanted tag', () => {
    const r = expandDeployment(untenanted, { environment: 'staging', release: 'abc1234' });
    expect(r).toEqual({
      ok: true,
      value: {
        project: 'storefront',
        environment: 'staging',
        release: 'abc1234',
        tasks: [{ tenant: null, concurrencyTag: 'storefront/staging', variables: {} }],
      },
    });
  });

  it('lets options override environment and release, and falls back to defaultRelease', () => {
    const r = expandDeployment(tenanted, { environment: 'staging', release: '2026.12.0' });
    expect(r.ok && r.value.tasks[0]?.concurrencyTag).toBe('acme/storefront/staging');
    expect(r.ok && r.value.release).toBe('2026.12.0');
    const d = expandDeployment(untenanted, { environment: 'e', defaultRelease: 'f00dbab' });
    expect(d.ok && d.value.release).toBe('f00dbab');
    expect(expandDeployment(tenanted, { defaultRelease: 'f00dbab' }).ok && true).toBe(true);
  });

  it('interpolates tenant tags in a custom tag', () => {
    const plan = planOf(`
version: 1
project: storefront
environment: production
tenants: [{ name: a, tags: { group: eu-1 } }, { name: b, tags: { group: eu-1 } }]
concurrency: { tag: "#{tenant.tags.group}/#{environment}" }
steps: [{ name: x, run: echo, on: worker }]
`);
    const r = expandDeployment(plan, { release: 'r1' });
    expect(r.ok && r.value.tasks.map((t) => t.concurrencyTag)).toEqual([
      'eu-1/production',
      'eu-1/production',
    ]);
  });

  it('deploys a subset of tenants, in plan order', () => {
    const r = expandDeployment(tenanted, { tenants: ['initech', 'acme'] });
    expect(r.ok && r.value.tasks.map((t) => t.tenant?.name)).toEqual(['acme', 'initech']);
  });

  it('refuses unknown tenants in a subset, and a subset of an untenanted plan', () => {
    expect(expandDeployment(tenanted, { tenants: ['acme', 'hooli'] })).toEqual({
      ok: false,
      issues: [{ path: '/tenants', message: 'not tenants of this plan: hooli' }],
    });
    expect(expandDeployment(untenanted, { environment: 'e', release: 'r', tenants: ['acme'] })).toEqual({
      ok: false,
      issues: [{ path: '/tenants', message: 'the plan is untenanted; no tenants can be chosen' }],
    });
  });

  it('needs an environment and a release, each a safe name', () => {
    const r = expandDeployment(untenanted);
    expect(r.ok ? [] : r.issues.map((i) => i.path)).toEqual(['/environment', '/release']);
    const bad = expandDeployment(untenanted, { environment: '../prod', release: 'a b' });
    expect(bad.ok ? [] : bad.issues.map((i) => i.message)).toEqual([
      'environment ../prod is not a safe name',
      'release a b is not a safe name',
    ]);
  });
});

describe('targets and actions', () => {
  it('picks targets by any role, filtered by the tenants a target serves', () => {
    const deploy = tenanted.steps[1]!;
    const cache = tenanted.steps[2]!;
    expect(targetsFor(deploy, 'acme', inventory).map((t) => t.name)).toEqual(['web-shared', 'web-acme']);
    expect(targetsFor(deploy, 'globex', inventory).map((t) => t.name)).toEqual(['web-shared', 'web-globex']);
    expect(targetsFor(deploy, 'initech', inventory).map((t) => t.name)).toEqual(['web-shared']);
    expect(targetsFor(cache, 'globex', inventory).map((t) => t.name)).toEqual(['web-shared', 'web-globex']);
    expect(targetsFor(tenanted.steps[0]!, 'acme', inventory)).toEqual([]);
  });

  it('finds, for any inventory, the targets a plain filter finds, in inventory order', () => {
    const step = tenanted.steps[1]!;
    const tenantNames = fc.constantFrom('acme', 'globex', 'initech');
    const target = fc.record(
      {
        roles: fc.subarray(['web', 'db', 'cache'], { minLength: 1 }),
        tenants: fc.array(tenantNames, { maxLength: 3 }),
      },
      { requiredKeys: ['roles'] },
    );
    fc.assert(
      fc.property(fc.array(target, { maxLength: 12 }), fc.option(tenantNames), (specs, tenant) => {
        const inv: Target[] = specs.map((t, i) => ({ name: `t${i}`, host: 'h', root: '/srv', ...t }));
        const plain = inv.filter(
          (t) =>
            t.roles.some((r) => step.on === 'targets' && step.roles.includes(r)) &&
            (t.tenants === undefined || (tenant !== null && t.tenants.includes(tenant))),
        );
        expect(targetsFor(step, tenant, inv)).toEqual(plain);
      }),
    );
  });

  it('skips tenant-restricted targets for untenanted deployments', () => {
    expect(targetsFor(untenanted.steps[0]!, null, inventory).map((t) => t.name)).toEqual(['web-shared']);
  });

  it('expands worker steps to one action on the pool and target steps to one per target', () => {
    const r = expandActions(tenanted, 'acme', inventory);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.map((actions) => actions.map((a) => a.target?.name ?? `pool:${a.pool}`))).toEqual([
      ['pool:db'],
      ['web-shared', 'web-acme'],
      ['web-shared', 'web-acme'],
    ]);
  });

  it('names the step path when a step matches no target', () => {
    const only = [target('web-acme', ['web'], ['acme'])];
    expect(expandActions(untenanted, null, only)).toEqual({
      ok: false,
      issues: [
        {
          path: '/steps/0/targets/roles',
          message: 'no target has role web and takes untenanted deployments',
        },
      ],
    });
    expect(expandActions(tenanted, 'globex', only)).toEqual({
      ok: false,
      issues: [
        { path: '/steps/1/targets/roles', message: 'no target has role web and serves tenant globex' },
        {
          path: '/steps/2/targets/roles',
          message: 'no target has role cache or web and serves tenant globex',
        },
      ],
    });
  });

  it('checks a whole deployment against an inventory, one issue per step naming the tenants', () => {
    const spec = expandDeployment(tenanted);
    if (!spec.ok) throw new Error('expansion failed');
    expect(checkInventory(tenanted, spec.value, inventory)).toEqual([]);
    const only = [target('web-acme', ['web'], ['acme'])];
    expect(checkInventory(tenanted, spec.value, only)).toEqual([
      {
        path: '/steps/1/targets/roles',
        message: 'no target has role web and serves tenants globex, initech',
      },
      {
        path: '/steps/2/targets/roles',
        message: 'no target has role cache or web and serves tenants globex, initech',
      },
    ]);
  });
});
