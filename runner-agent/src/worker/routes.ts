// The coordinator's endpoints for remote workers: register, long-poll for
// jobs, send log batches and results (all with the `worker` scope), fetch an
// uploaded package's bytes, and list workers (`read`).
import { createReadStream } from 'node:fs';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { zodIssues } from '../../../src/plan/index.ts';
import type { PackageCache } from '../packages/cache.ts';
import { SHA256 } from '../packages/cache.ts';
import { ApiError } from '../scheduler/coordinator.ts';
import { logBatchSchema, pollSchema, type Registered, registerSchema, resultSchema } from './protocol.ts';
import { RegistryError, type WorkerRegistry } from './registry.ts';
import { StaleEpochError } from './remote.ts';

type Guard = (req: FastifyRequest) => Promise<void>;

/** Longest a poll is held: well inside the lease, so a held poll is itself a heartbeat. */
const MAX_HOLD_MS = 20_000;
const DRAINING_HOLD_MS = 500;

function parse<S extends z.ZodType>(schema: S, body: unknown, what: string): z.output<S> {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  throw new ApiError(
    400,
    'invalid_request',
    `the body is not a valid ${what}`,
    zodIssues(r.error, body).map((i) => ({ path: `/${i.path.join('/')}`, message: i.message })),
  );
}

function mapped<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof StaleEpochError) throw new ApiError(409, 'stale_epoch', err.message);
    if (err instanceof RegistryError)
      throw new ApiError(err.status, err.status === 404 ? 'unknown_worker' : 'conflict', err.message);
    throw err;
  }
}

export function workerRoutes(opts: {
  registry: WorkerRegistry;
  packages: PackageCache;
  leaseTtlMs: number;
  worker: Guard;
  read: Guard;
}) {
  const { registry } = opts;
  const holdMs = Math.min(MAX_HOLD_MS, Math.floor(opts.leaseTtlMs / 3));
  return async (app: FastifyInstance) => {
    app.get('/v1/workers', { preHandler: opts.read }, async () => registry.list());

    app.post('/v1/workers', { preHandler: opts.worker }, async (req, reply) => {
      const reg = parse(registerSchema, req.body, 'worker registration');
      const w = mapped(() => registry.register(reg));
      const answer: Registered = { epoch: w.epoch, leaseTtlMs: opts.leaseTtlMs, pollMs: holdMs };
      return reply.status(201).send(answer);
    });

    app.post<{ Params: { name: string } }>(
      '/v1/workers/:name/poll',
      { preHandler: opts.worker },
      async (req, reply) => {
        const { epoch, draining } = parse(pollSchema, req.body, 'poll');
        const w = mapped(() => registry.remote(req.params.name));
        // The response closes early only when the worker's connection died.
        const gone = new Promise<void>((resolve) => reply.raw.once('close', () => resolve()));
        if (draining) mapped(() => w.drain(epoch));
        // A draining worker looks in often, to stop soon after its last job.
        return await mapped(() => w.poll(epoch, w.draining ? DRAINING_HOLD_MS : holdMs, gone));
      },
    );

    app.post<{ Params: { name: string; job: string } }>(
      '/v1/workers/:name/jobs/:job/log',
      { preHandler: opts.worker },
      async (req) => {
        const batch = parse(logBatchSchema, req.body, 'log batch');
        mapped(() => registry.remote(req.params.name).log(batch.epoch, req.params.job, batch.lines));
        return { ok: true };
      },
    );

    app.post<{ Params: { name: string; job: string } }>(
      '/v1/workers/:name/jobs/:job/result',
      { preHandler: opts.worker },
      async (req) => {
        const body = parse(resultSchema, req.body, 'job result');
        const known = mapped(() =>
          registry.remote(req.params.name).result(body.epoch, req.params.job, body.result),
        );
        if (!known)
          throw new ApiError(
            409,
            'unknown_job',
            `job ${req.params.job} is not running on worker ${req.params.name}`,
          );
        return { ok: true };
      },
    );

    // Uploaded packages live in the coordinator's cache; workers fetch them from here.
    app.get<{ Params: { sha256: string } }>(
      '/v1/packages/:sha256',
      // HEAD is the upload client's route (packages/routes.ts).
      { preHandler: opts.worker, exposeHeadRoute: false },
      async (req, reply) => {
        const { sha256 } = req.params;
        if (!SHA256.test(sha256))
          throw new ApiError(
            400,
            'invalid_request',
            `${sha256.slice(0, 80)} is not a sha256 (64 lowercase hex characters)`,
          );
        if (!opts.packages.has(sha256))
          throw new ApiError(404, 'not_found', `package ${sha256} was not uploaded to this agent`);
        return reply.type('application/octet-stream').send(createReadStream(opts.packages.pathOf(sha256)));
      },
    );
  };
}
