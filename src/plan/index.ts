export * from './expand.ts';
export * from './file.ts';
export * from './interpolate.ts';
export { zodIssues } from './issues.ts';
export * from './load.ts';
export * from './model.ts';
export { planSchema } from './schema.ts';
export { type Locate, MAX_PLAN_BYTES, type PlanIssue, parsePlanSource, toPointer } from './source.ts';
