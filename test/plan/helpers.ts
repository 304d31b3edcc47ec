// Builds plans from text for the plan tests; a plan that fails to load fails the test with its issues.
import { loadPlan, type Plan } from '../../src/plan/index.ts';

export function planOf(text: string): Plan {
  const r = loadPlan(text);
  if (!r.ok) throw new Error(`plan refused: ${JSON.stringify(r.issues)}`);
  return r.plan;
}

export function issuesOf(text: string) {
  const r = loadPlan(text);
  if (r.ok) throw new Error('plan accepted');
  return r.issues;
}
