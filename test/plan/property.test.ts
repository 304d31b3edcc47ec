// Properties over generated plans: whatever the schema and the cross-field
// checks accept, normalisation and expansion handle without throwing, and the
// YAML and JSON spellings of one plan load to the same result.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  expandActions,
  expandDeployment,
  loadPlan,
  planSchema,
  type Target,
  validatePlanValue,
} from '../../src/plan/index.ts';

// Mostly good values with a little noise, so that both accepted and refused
// plans are common.
const noisy = <T>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: good, weight: 30 }, { arbitrary: bad, weight: 1 });
const names = noisy(
  fc.constantFrom('acme', 'globex', 'initech', 'a.b', 'x_1', '9lives'),
  fc.constantFrom('bad name', '..', '', 'a/b'),
);
const templateName = noisy(
  fc.constantFrom(
    'project',
    'environment',
    'release',
    'tenant',
    'tenant.tags.group',
    'var.LOG_LEVEL',
    'target.host',
  ),
  fc.constantFrom('tenant.tags.nope', 'target', 'var.DB_NAME', 'var.MISSING', 'foo', ''),
);
const template = fc
  .array(
    fc.oneof(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax that interpolation must not touch
      fc.constantFrom('x', '/', ' ', '#{', '##{', '}', '${HOME}'),
      templateName.map((n) => `#{${n}}`),
    ),
    {
      maxLength: 4,
    },
  )
  .map((parts) => parts.join(''));
const duration = noisy(
  fc.constantFrom('2m', '90s', '1h30m', '500ms', 30, 0.5),
  fc.constantFrom('0s', '2 minutes', '-1s', 0, -1, '999h'),
);
const sha = noisy(fc.constant('a'.repeat(64)), fc.constantFrom('A'.repeat(64), 'abc'));

const tenant = fc.oneof(
  names,
  fc.record(
    {
      name: names,
      tags: fc.dictionary(fc.constantFrom('group', 'region'), fc.constantFrom('eu-1', 'us')),
      variables: fc.dictionary(
        fc.constantFrom('DB_NAME', 'PORT'),
        fc.oneof(fc.string(), fc.integer(), fc.boolean()),
      ),
    },
    { requiredKeys: ['name'] },
  ),
);

const common = {
  maxFailures: noisy(
    fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constantFrom('10%', '1.5%')),
    fc.constantFrom(-1, '150%'),
  ),
  retries: noisy(fc.integer({ min: 0, max: 10 }), fc.constantFrom(-1, 11)),
  timeout: duration,
  continueOnError: fc.boolean(),
  variables: fc.dictionary(fc.constantFrom('LOG_LEVEL', 'STEP_ONLY'), fc.string()),
};
const targets = fc.record({
  roles: noisy(fc.subarray(['web', 'db', 'cache'], { minLength: 1 }), fc.constant<string[]>([])),
});
const step = fc.oneof(
  fc.record(
    {
      name: names,
      run: template,
      on: fc.constant('worker'),
      pool: fc.constantFrom('default', 'db'),
      ...common,
    },
    { requiredKeys: ['name', 'run', 'on'] },
  ),
  fc.record(
    {
      name: names,
      run: fc.oneof(template, fc.constantFrom('./deploy.sh', 'bash x.sh')),
      targets,
      window: fc.integer({ min: 0, max: 5 }),
      ...common,
    },
    { requiredKeys: ['name', 'run', 'targets'] },
  ),
  fc.record(
    {
      name: names,
      deploy: noisy(fc.constant('app'), fc.constant('nope')),
      targets,
      keepReleases: fc.integer({ min: 1, max: 5 }),
      ...common,
    },
    { requiredKeys: ['name', 'deploy', 'targets'] },
  ),
);

const plan = fc.record(
  {
    version: noisy(fc.constant(1), fc.constant(2)),
    project: names,
    environment: names,
    release: names,
    tenants: fc.uniqueArray(tenant, {
      minLength: 1,
      maxLength: 4,
      selector: (t) => (typeof t === 'string' ? t : t.name),
    }),
    concurrency: fc.record(
      {
        tag: template,
        maxParallelism: noisy(fc.integer({ min: 1, max: 20 }), fc.constant(-1)),
        acquireParallelism: noisy(fc.integer({ min: 1, max: 20 }), fc.constant(0)),
        bypassTargetMutex: fc.boolean(),
        maxRunningTasks: fc.integer({ min: 0, max: 3 }),
      },
      { requiredKeys: [] },
    ),
    priority: noisy(fc.constantFrom('normal', 'high'), fc.constant('urgent')),
    packages: fc.record({
      app: fc.oneof(
        fc.record(
          { url: template.map((t) => `https://p.example.com/${t}.tgz`), sha256: sha },
          { requiredKeys: ['url', 'sha256'] },
        ),
        fc.record({ upload: fc.constant('./web.tar.gz'), sha256: sha }, { requiredKeys: ['upload'] }),
      ),
    }),
    variables: fc.dictionary(
      noisy(fc.constantFrom('LOG_LEVEL', 'DB_NAME'), fc.constant('1BAD')),
      fc.oneof(fc.string(), fc.integer()),
    ),
    steps: fc.uniqueArray(step, { minLength: 1, maxLength: 4, selector: (s) => s.name }),
  },
  { requiredKeys: ['version', 'project', 'steps', 'packages'] },
);

const inventory: Target[] = [
  { name: 'web-1', roles: ['web'], host: 'h1', root: '/srv/1' },
  { name: 'web-acme', roles: ['web', 'cache'], host: 'h2', root: '/srv/2', tenants: ['acme'] },
  { name: 'db-1', roles: ['db'], host: 'h3', root: '/srv/3' },
];

describe('generated plans', () => {
  it('validation, normalisation and expansion never throw; accepted plans expand', () => {
    let accepted = 0;
    fc.assert(
      fc.property(plan, (value) => {
        const r = validatePlanValue(value);
        if (!r.ok) {
          expect(r.issues.length).toBeGreaterThan(0);
          for (const i of r.issues) expect(i.path).toMatch(/^\//);
          return;
        }
        accepted++;
        expect(planSchema.safeParse(value).success).toBe(true);
        // Every #{…} the checks let through must resolve: expansion may refuse
        // (no environment, say) but never throws.
        const spec = expandDeployment(r.plan, { environment: 'production', release: 'r1' });
        expect(spec.ok).toBe(true);
        if (!spec.ok) return;
        expect(spec.value.tasks.length).toBe(r.plan.tenants?.length ?? 1);
        for (const task of spec.value.tasks) expandActions(r.plan, task.tenant?.name ?? null, inventory);
      }),
      { numRuns: 3000 },
    );
    // The generator must reach accepted plans, or the property says nothing.
    expect(accepted).toBeGreaterThan(20);
  });

  it('loads a plan the same from YAML and from JSON text', () => {
    fc.assert(
      fc.property(plan, (value) => {
        const fromYaml = loadPlan(stringify(value));
        const fromJson = loadPlan(JSON.stringify(value, null, 2));
        expect(fromJson.ok).toBe(fromYaml.ok);
        if (fromYaml.ok && fromJson.ok) expect(fromJson.plan).toEqual(fromYaml.plan);
        if (!fromYaml.ok && !fromJson.ok) {
          expect(fromJson.issues.map((i) => [i.path, i.message])).toEqual(
            fromYaml.issues.map((i) => [i.path, i.message]),
          );
        }
      }),
      { numRuns: 500 },
    );
  });
});
