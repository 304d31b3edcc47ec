// Expansion: a plan becomes one task per tenant, and each task's steps become
// actions over the target inventory.
import { type InterpolationScope, interpolate } from './interpolate.ts';
import type { Plan, Step, Tenant } from './model.ts';
import type { PlanIssue } from './source.ts';

export interface Target {
  name: string;
  roles: string[];
  host: string;
  root: string;
  /** Only these tenants deploy here; absent means every tenant (and untenanted deployments). */
  tenants?: string[];
}

export interface DeploymentOptions {
  release?: string;
  environment?: string;
  /** A subset of the plan's tenants. */
  tenants?: string[];
  /** Used when neither the plan nor the options give a release (the action passes the short sha). */
  defaultRelease?: string;
}

export interface TaskSpec {
  tenant: Tenant | null;
  concurrencyTag: string;
  variables: Record<string, string>;
}

export interface DeploymentSpec {
  project: string;
  environment: string;
  release: string;
  tasks: TaskSpec[];
}

export type Expanded<T> = { ok: true; value: T } | { ok: false; issues: PlanIssue[] };

const SAFE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function expandDeployment(plan: Plan, opts: DeploymentOptions = {}): Expanded<DeploymentSpec> {
  const issues: PlanIssue[] = [];
  const environment = opts.environment ?? plan.environment;
  const release = opts.release ?? plan.release ?? opts.defaultRelease;
  if (!environment)
    issues.push({ path: '/environment', message: 'no environment: set it in the plan or pass one' });
  else if (!SAFE.test(environment))
    issues.push({ path: '/environment', message: `environment ${environment} is not a safe name` });
  if (!release) issues.push({ path: '/release', message: 'no release: set it in the plan or pass one' });
  else if (!SAFE.test(release))
    issues.push({ path: '/release', message: `release ${release} is not a safe name` });

  let tenants: (Tenant | null)[] = plan.tenants ?? [null];
  if (opts.tenants && opts.tenants.length > 0) {
    if (!plan.tenants) {
      issues.push({ path: '/tenants', message: 'the plan is untenanted; no tenants can be chosen' });
    } else {
      const byName = new Map(plan.tenants.map((t) => [t.name, t]));
      const unknown = opts.tenants.filter((n) => !byName.has(n));
      if (unknown.length)
        issues.push({ path: '/tenants', message: `not tenants of this plan: ${unknown.join(', ')}` });
      const wanted = new Set(opts.tenants);
      tenants = plan.tenants.filter((t) => wanted.has(t.name));
    }
  }
  if (issues.length > 0 || !environment || !release) return { ok: false, issues };

  const tasks = tenants.map((tenant) => {
    const variables = { ...plan.variables, ...tenant?.variables };
    const scope: InterpolationScope = { project: plan.project, environment, release, variables };
    if (tenant) scope.tenant = tenant;
    return { tenant, concurrencyTag: interpolate(plan.concurrency.tag, scope), variables };
  });
  return { ok: true, value: { project: plan.project, environment, release, tasks } };
}

export interface ActionSpec {
  step: Step;
  /** The target for steps on targets; absent for worker steps, which go to a worker of `pool`. */
  target?: Target;
  pool?: string;
}

// A target's tenants as a set, made once per list: every task asks targets
// whether they serve its tenant, and scanning the list each time made the
// check of a deployment to 5,000 tenants over 200 targets of 1,000 tenants
// each take 7 s on the agent's event loop (6-18 ms with checkInventory's
// role filter once per step).
const tenantSets = new WeakMap<readonly string[], ReadonlySet<string>>();

function serves(target: Target, tenant: string | null): boolean {
  if (target.tenants === undefined) return true;
  if (tenant === null) return false;
  let set = tenantSets.get(target.tenants);
  if (!set) {
    set = new Set(target.tenants);
    tenantSets.set(target.tenants, set);
  }
  return set.has(tenant);
}

function hasRole(step: Step & { on: 'targets' }, target: Target): boolean {
  return target.roles.some((r) => step.roles.includes(r));
}

/** Positions in an inventory: of the targets every tenant may use, and of each tenant's own. */
interface TenantIndex {
  everyone: number[];
  byTenant: Map<string, number[]>;
}

// Made once per inventory (the registry keeps one array until a worker
// registers): every task looks up its tenant's targets, and filtering the
// whole inventory for each took 4% of the agent's CPU with 100 targets.
const tenantIndexes = new WeakMap<readonly Target[], TenantIndex>();

function tenantIndexOf(inventory: readonly Target[]): TenantIndex {
  let index = tenantIndexes.get(inventory);
  if (index) return index;
  index = { everyone: [], byTenant: new Map() };
  for (const [i, t] of inventory.entries()) {
    if (t.tenants === undefined) index.everyone.push(i);
    else
      for (const name of new Set(t.tenants)) {
        const own = index.byTenant.get(name);
        if (own) own.push(i);
        else index.byTenant.set(name, [i]);
      }
  }
  tenantIndexes.set(inventory, index);
  return index;
}

/** The targets serving one tenant (`null`: an untenanted deployment), in inventory order. */
function servingTargets(inventory: readonly Target[], tenant: string | null): Target[] {
  const { everyone, byTenant } = tenantIndexOf(inventory);
  const own = tenant === null ? [] : (byTenant.get(tenant) ?? []);
  const out: Target[] = [];
  let a = 0;
  let b = 0;
  while (a < everyone.length || b < own.length) {
    const next =
      b >= own.length || (a < everyone.length && everyone[a]! < own[b]!) ? everyone[a++]! : own[b++]!;
    out.push(inventory[next]!);
  }
  return out;
}

/** Targets of a step for one tenant: any matching role, and serving that tenant. */
export function targetsFor(step: Step, tenant: string | null, inventory: readonly Target[]): Target[] {
  if (step.on !== 'targets') return [];
  return servingTargets(inventory, tenant).filter((t) => hasRole(step, t));
}

function noTarget(step: Step & { on: 'targets' }, i: number, tenant: string | null): PlanIssue {
  return {
    path: `/steps/${i}/targets/roles`,
    message: `no target has role ${step.roles.join(' or ')}${tenant ? ` and serves tenant ${tenant}` : ' and takes untenanted deployments'}`,
  };
}

/** The actions of every step of one task, or an issue per step that matches no target. */
export function expandActions(
  plan: Plan,
  tenant: string | null,
  inventory: readonly Target[],
): Expanded<ActionSpec[][]> {
  const issues: PlanIssue[] = [];
  const steps = plan.steps.map((step, i) => {
    if (step.on === 'worker') return [{ step, pool: step.pool }];
    const targets = targetsFor(step, tenant, inventory);
    if (targets.length === 0) issues.push(noTarget(step, i, tenant));
    return targets.map((target) => ({ step, target }));
  });
  return issues.length ? { ok: false, issues } : { ok: true, value: steps };
}

/** Checks every task of a deployment against an inventory; one issue per distinct problem. */
export function checkInventory(plan: Plan, spec: DeploymentSpec, inventory: readonly Target[]): PlanIssue[] {
  const byPath = new Map<string, { issue: PlanIssue; tenants: string[] }>();
  // Roles do not depend on the tenant: each step's targets by role are found
  // once, and a task needs only one of them that serves its tenant.
  const byRole = plan.steps.map((step) =>
    step.on === 'targets' ? inventory.filter((t) => hasRole(step, t)) : [],
  );
  for (const task of spec.tasks) {
    const tenant = task.tenant?.name ?? null;
    const issues = plan.steps.flatMap((step, i) =>
      step.on === 'targets' && !byRole[i]!.some((t) => serves(t, tenant)) ? [noTarget(step, i, tenant)] : [],
    );
    for (const issue of issues) {
      const key = `${issue.path}\0${issue.message.replace(/ and serves tenant .*$/, '')}`;
      const entry = byPath.get(key) ?? { issue, tenants: [] };
      if (task.tenant) entry.tenants.push(task.tenant.name);
      byPath.set(key, entry);
    }
  }
  return [...byPath.values()].map(({ issue, tenants }) =>
    tenants.length > 1
      ? {
          ...issue,
          message: `${issue.message.replace(/ and serves tenant .*$/, '')} and serves tenants ${tenants.slice(0, 5).join(', ')}${tenants.length > 5 ? ` and ${tenants.length - 5} more` : ''}`,
        }
      : issue,
  );
}
