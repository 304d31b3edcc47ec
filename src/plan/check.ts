// Rules that span fields and so cannot live in the zod schema: unique names,
// references between steps and packages, and the names used in `#{…}`.
import { templateRefs } from './interpolate.ts';
import type { Plan } from './model.ts';
import type { PlanInput } from './schema.ts';

export interface RawIssue {
  path: (string | number)[];
  message: string;
}

export function checkPlan(input: PlanInput, plan: Plan): RawIssue[] {
  const issues: RawIssue[] = [];
  const add = (path: (string | number)[], message: string) => issues.push({ path, message });

  for (const i of firstDuplicates(plan.tenants?.map((t) => t.name) ?? [])) {
    add(['tenants', i], `tenant ${plan.tenants?.[i]?.name} is listed more than once`);
  }
  for (const i of firstDuplicates(plan.steps.map((s) => s.name))) {
    add(['steps', i, 'name'], `step name ${plan.steps[i]?.name} is used by an earlier step`);
  }

  input.steps.forEach((s, i) => {
    const at = (...p: (string | number)[]) => ['steps', i, ...p];
    if (s.run !== undefined && s.deploy !== undefined) add(at(), 'a step has either run or deploy, not both');
    if (s.run === undefined && s.deploy === undefined)
      add(at(), 'a step needs run (a script) or deploy (a package)');
    if (s.on === 'worker') {
      if (s.targets)
        add(at('targets'), 'a step with on: worker runs on a worker of its pool and takes no targets');
      if (s.deploy !== undefined)
        add(at('deploy'), 'deploy steps install on targets; they cannot run on: worker');
      if (s.window !== undefined) add(at('window'), 'window applies to steps on targets, not on: worker');
    } else {
      if (!s.targets) add(at(), 'a step needs targets: { roles: [...] }, or on: worker');
      if (s.pool !== undefined) add(at('pool'), 'pool applies only to steps with on: worker');
    }
    if (s.deploy !== undefined && !plan.packages[s.deploy]) {
      const known = Object.keys(plan.packages);
      add(
        at('deploy'),
        `package ${s.deploy} is not defined in packages${known.length ? ` (defined: ${known.join(', ')})` : ''}`,
      );
    }
    if (s.keepReleases !== undefined && s.deploy === undefined)
      add(at('keepReleases'), 'keepReleases applies to deploy steps');
  });

  issues.push(...checkTemplates(plan, input));
  return issues;
}

function checkTemplates(plan: Plan, input: PlanInput): RawIssue[] {
  const issues: RawIssue[] = [];
  const check = (
    text: string,
    path: (string | number)[],
    opts: { target: boolean; stepVars?: Record<string, string> },
  ) => {
    for (const ref of templateRefs(text)) {
      const problem = checkName(ref.name, plan, opts.target, opts.stepVars ?? {});
      if (problem) issues.push({ path, message: `#{${ref.name}}: ${problem}` });
    }
  };
  check(
    plan.concurrency.tag,
    input.concurrency?.tag !== undefined ? ['concurrency', 'tag'] : ['concurrency'],
    {
      target: false,
    },
  );
  for (const [name, p] of Object.entries(plan.packages)) {
    if (p.source === 'url') check(p.url, ['packages', name, 'url'], { target: false });
  }
  plan.steps.forEach((s, i) => {
    if (s.kind === 'run' && 'inline' in s.script) {
      check(s.script.inline, ['steps', i, 'run'], { target: s.on === 'targets', stepVars: s.variables });
    }
  });
  return issues;
}

function checkName(
  name: string,
  plan: Plan,
  hasTarget: boolean,
  stepVars: Record<string, string>,
): string | null {
  const tenants = plan.tenants;
  if (['project', 'environment', 'release'].includes(name)) return null;
  if (name === 'tenant' || name.startsWith('tenant.')) {
    if (!tenants) return 'the plan has no tenants, so there is no tenant here';
    if (name === 'tenant') return null;
    if (!name.startsWith('tenant.tags.') || name.length === 'tenant.tags.'.length) {
      return 'unknown name; a tenant offers #{tenant} and #{tenant.tags.NAME}';
    }
    const tag = name.slice('tenant.tags.'.length);
    const lacking = tenants.filter((t) => t.tags[tag] === undefined).map((t) => t.name);
    return lacking.length ? `tenant tag ${tag} is not set on ${list(lacking)}` : null;
  }
  if (name === 'target' || name === 'target.host') {
    return hasTarget ? null : 'there is no target here; only scripts of steps on targets have one';
  }
  if (name.startsWith('var.') && name.length > 4) {
    const v = name.slice(4);
    if (plan.variables[v] !== undefined || stepVars[v] !== undefined) return null;
    const lacking = (tenants ?? []).filter((t) => t.variables[v] === undefined).map((t) => t.name);
    if (tenants && tenants.length > 0 && lacking.length === 0) return null;
    return tenants && lacking.length < tenants.length
      ? `variable ${v} is not defined for ${list(lacking)}`
      : `variable ${v} is not defined in variables`;
  }
  return 'unknown name; use tenant, tenant.tags.NAME, project, environment, release, target, target.host or var.NAME';
}

function list(names: string[]): string {
  return names.length > 5
    ? `tenants ${names.slice(0, 5).join(', ')} and ${names.length - 5} more`
    : `tenant${names.length > 1 ? 's' : ''} ${names.join(', ')}`;
}

/** Indexes of entries equal to an earlier entry. */
function firstDuplicates(values: string[]): number[] {
  const seen = new Set<string>();
  const dups: number[] = [];
  values.forEach((v, i) => {
    if (seen.has(v)) dups.push(i);
    seen.add(v);
  });
  return dups;
}
