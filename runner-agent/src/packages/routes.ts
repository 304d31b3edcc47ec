// HEAD and POST /v1/packages/:sha256: clients ask whether the agent has a
// package and upload the ones it lacks. The body streams straight into the
// cache, hashed on the way, and is kept only when it hashes to the sha256 in
// the URL. Registered in its own encapsulated context, so the raw-body parser
// applies to these routes only.
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../scheduler/coordinator.ts';
import { type PackageCache, SHA256 } from './cache.ts';
import { PackageError } from './errors.ts';

type Guard = (req: FastifyRequest) => Promise<void>;

export function packageRoutes(cache: PackageCache, guard: Guard) {
  return async (app: FastifyInstance) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (_req, payload, done) => done(null, payload));

    const shaOf = (req: FastifyRequest<{ Params: { sha256: string } }>) => {
      const { sha256 } = req.params;
      if (!SHA256.test(sha256)) {
        throw new ApiError(
          400,
          'invalid_request',
          `${sha256.slice(0, 80)} is not a sha256 (64 lowercase hex characters)`,
        );
      }
      return sha256;
    };

    app.head<{ Params: { sha256: string } }>(
      '/v1/packages/:sha256',
      { preHandler: guard },
      async (req, reply) => reply.status(cache.has(shaOf(req)) ? 200 : 404).send(),
    );

    app.post<{ Params: { sha256: string } }>(
      '/v1/packages/:sha256',
      { preHandler: guard },
      async (req, reply) => {
        const sha256 = shaOf(req);
        const limit = Math.min(cache.settings.maxPackageBytes, cache.settings.maxCacheBytes);
        const length = Number(req.headers['content-length'] ?? Number.NaN);
        if (length > limit) {
          throw new ApiError(
            413,
            'body_too_large',
            `the package is ${length} bytes; this agent takes at most ${limit}`,
          );
        }
        try {
          const r = await cache.put(sha256, (req.body as Readable | undefined) ?? req.raw);
          return reply.status(r.created ? 201 : 200).send({ sha256, bytes: r.bytes, created: r.created });
        } catch (err) {
          if (!(err instanceof PackageError)) throw err;
          // The rest of a refused body is not worth reading.
          reply.header('connection', 'close');
          throw new ApiError(err.code === 'too_large' ? 413 : 400, err.code, err.message);
        }
      },
    );
  };
}
