// The plan's shape (version 1), as zod schemas. These schemas only validate;
// defaults and normalisation live in model.ts so that the published JSON
// Schema (plan.schema.json) describes exactly what a user may write.
import { z } from 'zod';
import { durationMs } from './model.ts';

// Names end up in directory paths (<root>/<tenant>/<project>/<release>) and in
// concurrency tags, so they are restricted to characters safe in both.
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const safeName = (what: string) =>
  z
    .string()
    .max(100)
    .regex(
      SAFE_NAME,
      `${what} must start with a letter or digit and use only letters, digits, '.', '_' and '-'`,
    );

export const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const variableName = z
  .string()
  .regex(VARIABLE_NAME, 'variable names are letters, digits and _, not starting with a digit');
const variableValue = z.union([z.string(), z.number(), z.boolean()]);
export const variablesSchema = z.record(variableName, variableValue);

export const DURATION = /^(?:\d+h)?(?:\d+m(?!s))?(?:\d+s)?(?:\d+ms)?$/;
// Timers take at most 2^31-1 ms (about 24.8 days): Node fires a longer one after
// 1 ms, which would kill every action at once. `0s` or 0.0001 would round to 0.
const MAX_DURATION_MS = 2 ** 31 - 1;
const durationInRange = (d: number | string) => {
  const ms = durationMs(d);
  return ms >= 1 && ms <= MAX_DURATION_MS;
};
const DURATION_FORM = 'a duration is like 90s, 2m, 1h30m or 500ms';
const DURATION_RANGE = 'a duration is between 1ms and 24 days';
// `abort` stops at the first failed check, so one bad value gets one message.
const duration = z.union([
  z
    .number()
    .positive({ error: DURATION_RANGE, abort: true })
    .refine(durationInRange, DURATION_RANGE)
    .describe('seconds'),
  z
    .string()
    .regex(DURATION, { error: DURATION_FORM, abort: true })
    .refine((s) => s !== '', { error: DURATION_FORM, abort: true })
    .refine(durationInRange, DURATION_RANGE),
]);

const percentOrCount = z.union([
  z.number().int().min(0),
  z
    .string()
    .regex(/^\d+(\.\d+)?%$/, 'maxFailures is a count or a percentage like "10%"')
    .refine((s) => Number.parseFloat(s) <= 100, 'maxFailures cannot be over 100%'),
]);

const tenantObject = z.strictObject({
  name: safeName('a tenant name'),
  tags: z
    .record(z.string().regex(VARIABLE_NAME, 'tag names are letters, digits and _'), z.string())
    .optional(),
  variables: variablesSchema.optional(),
});
export const tenantSchema = z.union([safeName('a tenant name'), tenantObject]);

const sha256 = z.string().regex(/^[a-f0-9]{64}$/, 'sha256 is 64 lowercase hexadecimal characters');

const urlPackage = z.strictObject({
  url: z.string().min(1).describe('http(s) URL; #{release}, #{project}, #{environment} may be used'),
  sha256,
  allowSymlinks: z.boolean().optional(),
});
const uploadPackage = z.strictObject({
  upload: z.string().min(1).describe('path of a .tar/.tar.gz file the action uploads to the agent'),
  sha256: sha256.optional(),
  allowSymlinks: z.boolean().optional(),
});
export const packageSchema = z.union([urlPackage, uploadPackage]);

const roles = z.array(z.string().min(1)).min(1, 'roles needs at least one role');

export const stepSchema = z.strictObject({
  name: safeName('a step name'),
  run: z
    .string()
    .min(1, 'run is empty')
    .optional()
    .describe('bash script text, or a path to a script relative to the plan'),
  deploy: z.string().min(1).optional().describe('name of a package to install on each target'),
  on: z.enum(['worker', 'targets']).optional(),
  pool: safeName('a pool name').optional(),
  targets: z.strictObject({ roles }).optional(),
  window: z.number().int().min(1, 'window must be at least 1').optional(),
  maxFailures: percentOrCount.optional(),
  retries: z.number().int().min(0, 'retries cannot be negative').max(10, 'retries is at most 10').optional(),
  timeout: duration.optional(),
  continueOnError: z.boolean().optional(),
  keepReleases: z.number().int().min(1).max(100).optional(),
  variables: variablesSchema.optional(),
});

export const concurrencySchema = z.strictObject({
  tag: z.string().min(1).optional(),
  maxParallelism: z.number().int().min(1, 'maxParallelism must be at least 1').optional(),
  acquireParallelism: z.number().int().min(1, 'acquireParallelism must be at least 1').optional(),
  bypassTargetMutex: z.boolean().optional(),
  maxRunningTasks: z.number().int().min(0, 'maxRunningTasks cannot be negative').optional(),
});

export const planSchema = z.strictObject({
  version: z.literal(1, 'version must be 1'),
  project: safeName('project'),
  environment: safeName('environment').optional(),
  release: safeName('release').optional(),
  // An empty list would make a deployment of no tasks that succeeds doing nothing.
  tenants: z
    .array(tenantSchema)
    .min(1, 'tenants needs at least one tenant; leave tenants out for an untenanted plan')
    .max(10_000)
    .optional(),
  concurrency: concurrencySchema.optional(),
  priority: z.enum(['normal', 'high']).optional(),
  supersede: z.boolean().optional(),
  onInterrupt: z.enum(['fail', 'requeue']).optional(),
  packages: z.record(safeName('a package name'), packageSchema).optional(),
  variables: variablesSchema.optional(),
  secrets: z.array(variableName).optional(),
  steps: z.array(stepSchema).min(1, 'a plan needs at least one step').max(100),
});

export type PlanInput = z.input<typeof planSchema>;
export type StepInput = z.input<typeof stepSchema>;
export type PackageInput = z.input<typeof packageSchema>;
