// The wire between a coordinator and its remote workers (flotilla worker):
// registration, the long-poll answer, log batches and results. One schema for
// both sides, so neither can drift from the other.
import { z } from 'zod';
import { targetConfigSchema } from '../config/schema.ts';
import type { PackageSpec } from '../packages/cache.ts';
import type { ActionRequest } from './types.ts';

const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'use letters, digits, ".", "_" and "-"');

export const registerSchema = z.strictObject({
  name,
  pools: z.array(name).min(1),
  // Remote targets need their root: deploy steps install below it on the worker's machine.
  targets: z.array(targetConfigSchema.required({ host: true, root: true })),
  maxActions: z.number().int().min(1).max(1000).default(10),
});
export type Registration = z.output<typeof registerSchema>;

export interface Registered {
  /** The fencing token of this registration: every later request carries it. */
  epoch: number;
  leaseTtlMs: number;
  /** How long the coordinator holds a poll open before answering empty. */
  pollMs: number;
}

/** A poll; `draining` says the worker is stopping: it finishes what it runs and takes nothing new. */
export const pollSchema = z.strictObject({
  epoch: z.number().int().min(1),
  draining: z.boolean().optional(),
});

const lineSchema = z.strictObject({ stream: z.enum(['stdout', 'stderr']), line: z.string() });
export const logBatchSchema = z.strictObject({
  epoch: z.number().int().min(1),
  lines: z.array(lineSchema).max(10_000),
});

export const resultSchema = z.strictObject({
  epoch: z.number().int().min(1),
  result: z.union([
    z.strictObject({
      ok: z.boolean(),
      cancelled: z.boolean(),
      exitCode: z.number().int().nullable(),
      message: z.string(),
    }),
    z.strictObject({
      acquired: z.strictObject({
        sha256: z.string(),
        path: z.string(),
        bytes: z.number(),
        seconds: z.number(),
        cache: z.enum(['hit', 'miss', 'joined']),
      }),
    }),
    z.strictObject({ error: z.string() }),
  ]),
});
export type JobResult = z.output<typeof resultSchema>['result'];

/** What a poll hands the worker. Job ids are unique per coordinator process. */
export type Job =
  | { id: string; type: 'action'; request: ActionRequest }
  | { id: string; type: 'acquire'; spec: PackageSpec; holder: string }
  | { id: string; type: 'release'; holder: string };

export interface PollAnswer {
  jobs: Job[];
  /** Ids of jobs handed out earlier whose action must stop now. */
  cancel: string[];
}
