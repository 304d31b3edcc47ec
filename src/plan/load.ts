// Plan text in, a normalised plan or every problem out. Each problem carries
// its JSON pointer and, where the source has one, its line and column.
import { checkPlan, type RawIssue } from './check.ts';
import { zodIssues } from './issues.ts';
import { normalizePlan, type Plan } from './model.ts';
import { planSchema } from './schema.ts';
import { type Locate, type PlanIssue, parsePlanSource, toPointer } from './source.ts';

export type PlanResult = { ok: true; plan: Plan } | { ok: false; issues: PlanIssue[] };

export function loadPlan(text: string): PlanResult {
  const source = parsePlanSource(text);
  if (!source.ok) return source;
  return validatePlanValue(source.value, source.locate);
}

/** Validates an already-parsed plan (a JSON body, say); locate adds positions when known. */
export function validatePlanValue(value: unknown, locate: Locate = () => undefined): PlanResult {
  const parsed = planSchema.safeParse(value);
  const raw: RawIssue[] = parsed.success ? [] : zodIssues(parsed.error, value);
  let plan: Plan | undefined;
  if (parsed.success) {
    plan = normalizePlan(parsed.data);
    raw.push(...checkPlan(parsed.data, plan));
  }
  if (raw.length === 0 && plan) return { ok: true, plan };
  return {
    ok: false,
    issues: raw.map((i) => ({ path: toPointer(i.path), message: i.message, ...locate(i.path) })),
  };
}
