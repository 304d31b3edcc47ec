// The agent's HTTP API (design: HTTP API). JSON only; every error is
// `{ error: { code, message, issues? } }` with the right status and never a
// stack trace.
import Fastify, { type FastifyRequest } from 'fastify';
import { capSchema, drainSchema } from '../../../src/client/types.ts';
import type { PackageCache } from '../packages/cache.ts';
import { packageRoutes } from '../packages/routes.ts';
import { ApiError, type Coordinator } from '../scheduler/coordinator.ts';
import { makeMask } from '../scheduler/mask.ts';
import { secretValuesOf } from '../scheduler/task-runner.ts';
import { workerRoutes } from '../worker/routes.ts';
import { Authenticator, type AuthSettings, type Scope } from './auth.ts';
import { createMetrics } from './metrics.ts';
import { sendEvents } from './sse.ts';
import { deploymentView, nodeView, taskView } from './views.ts';

export interface ServerOptions {
  coordinator: Coordinator;
  auth: AuthSettings;
  leaseTtlMs: number;
  /** Public base URL of this agent, for links in answers. */
  baseUrl: () => string;
  bodyLimitBytes?: number;
  idleTimeoutMs?: number;
  /** The local worker's package cache, which uploads go to. */
  packages: PackageCache;
}

const BODY_LIMIT = 4 * 1024 * 1024;

export function buildServer(opts: ServerOptions) {
  const { coordinator: co } = opts;
  const store = co.store;
  const app = Fastify({
    logger: false,
    bodyLimit: opts.bodyLimitBytes ?? BODY_LIMIT,
    // No deadline for a whole request: a package upload may rightly take many
    // minutes. Headers must arrive within 30 s and a connection that moves no
    // byte for idleTimeoutMs is closed, which is what stops a stalled client.
    requestTimeout: 0,
    http: { headersTimeout: 30_000 },
    connectionTimeout: opts.idleTimeoutMs ?? 60_000,
    return503OnClosing: true,
  });

  const authenticator = new Authenticator(opts.auth, (jti, expiresAt) => store.useTokenId(jti, expiresAt));
  const guard = (scope: Scope) => async (req: FastifyRequest) => {
    const r = await authenticator.authorize(req.headers.authorization, scope);
    if (!r.ok) throw new ApiError(r.status, r.status === 401 ? 'unauthorized' : 'forbidden', r.message);
  };

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    if (err instanceof ApiError) {
      return reply.status(err.status).send({
        error: { code: err.code, message: err.message, ...(err.issues ? { issues: err.issues } : {}) },
      });
    }
    const status = err.statusCode ?? 500;
    if (status >= 500) {
      co.signals.emit('error', err);
      return reply
        .status(500)
        .send({ error: { code: 'internal', message: 'internal error; see the agent log' } });
    }
    const code =
      err.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? 'body_too_large'
        : err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
          ? 'unsupported_media_type'
          : err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError
            ? 'invalid_json'
            : 'bad_request';
    return reply.status(status).send({ error: { code, message: err.message } });
  });
  app.setNotFoundHandler((req, reply) =>
    reply.status(404).send({ error: { code: 'not_found', message: `no route ${req.method} ${req.url}` } }),
  );

  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_req, reply) =>
    co.draining
      ? reply.status(503).send({ ready: false, reason: `node ${co.node} is draining` })
      : { ready: true, node: co.node },
  );
  const metrics = createMetrics(co);
  app.get('/metrics', async (_req, reply) => reply.type(metrics.contentType).send(await metrics.render()));

  app.post('/v1/deployments', { preHandler: guard('deploy') }, async (req, reply) => {
    const r = await co.submit(req.body, opts.baseUrl());
    return reply.status(r.created ? 201 : 200).send({
      id: r.deployment.id,
      url: `${opts.baseUrl()}/v1/deployments/${r.deployment.id}`,
      tasks: r.tasks.map((t) => ({
        id: t.id,
        tenant: t.tenant,
        concurrencyTag: t.concurrencyTag,
        state: t.state,
      })),
    });
  });

  app.get('/v1/deployments', { preHandler: guard('read') }, async () => {
    const list = await store.listDeployments(50);
    return list.map((d) => ({
      id: d.id,
      project: d.project,
      environment: d.environment,
      release: d.release,
      state: d.state,
      createdAt: new Date(d.createdAt).toISOString(),
    }));
  });

  const deploymentOr404 = async (id: string) => {
    const d = await store.getDeployment(id);
    if (!d) throw new ApiError(404, 'not_found', `deployment ${id} does not exist`);
    return d;
  };

  app.get<{ Params: { id: string } }>('/v1/deployments/:id', { preHandler: guard('read') }, async (req) => {
    const d = await deploymentOr404(req.params.id);
    const tasks = await store.tasksOf(d.id);
    const waiting = tasks.some((t) => t.state === 'queued')
      ? await co.waitingOn()
      : new Map<string, string>();
    const actions = await store.actionsOf(tasks.map((t) => t.id));
    const checkRun = await store.getCheckRun(d.id);
    return {
      ...deploymentView(d, opts.baseUrl(), tasks, waiting, actions),
      checkRunId: checkRun?.checkRunId ?? null,
    };
  });

  app.get<{ Params: { id: string }; Querystring: { lastEventId?: string } }>(
    '/v1/deployments/:id/events',
    { preHandler: guard('read') },
    async (req, reply) => {
      const d = await deploymentOr404(req.params.id);
      const from = Number(req.headers['last-event-id'] ?? req.query.lastEventId ?? 0);
      if (!Number.isSafeInteger(from) || from < 0) {
        throw new ApiError(400, 'bad_request', 'Last-Event-ID must be a non-negative integer');
      }
      return sendEvents(req, reply, { store, events: co.events, deploymentId: d.id, after: from });
    },
  );

  app.post<{ Params: { id: string } }>(
    '/v1/deployments/:id/cancel',
    { preHandler: guard('deploy') },
    async (req) => {
      await deploymentOr404(req.params.id);
      await co.cancel(req.params.id);
      const d = await deploymentOr404(req.params.id);
      return { id: d.id, state: d.state };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/tasks/:id/log',
    { preHandler: guard('read') },
    async (req, reply) => {
      const task = await store.getTask(req.params.id);
      if (!task) throw new ApiError(404, 'not_found', `task ${req.params.id} does not exist`);
      const d = await deploymentOr404(task.deploymentId);
      // Log lines were masked when written; masking again covers lines written by older versions.
      const mask = makeMask(secretValuesOf(d));
      // Lines this node still holds in its event buffer belong in the answer.
      await co.events.flush();
      const lines = (await store.taskLog(task.id)).map((e) => {
        const data = e.data as { line?: string; step?: string; target?: string | null };
        const where = [data.step, data.target].filter(Boolean).join('@');
        return `${new Date(e.at).toISOString()} ${where ? `[${where}] ` : ''}${mask(String(data.line ?? ''))}`;
      });
      return reply.type('text/plain; charset=utf-8').send(lines.length ? `${lines.join('\n')}\n` : '');
    },
  );

  app.get('/v1/queue', { preHandler: guard('read') }, async () => {
    const [queued, waiting] = await Promise.all([store.queuedTasks(1000), co.waitingOn()]);
    return queued.map((t) => ({ ...taskView(t, waiting.get(t.id) ?? null), deploymentId: t.deploymentId }));
  });

  app.get('/v1/nodes', { preHandler: guard('read') }, async () => {
    const now = await store.now();
    return (await store.listNodes()).map((n) => nodeView(n, now, opts.leaseTtlMs));
  });

  const nodeAnswer = async (name: string) => {
    const n = (await store.listNodes()).find((x) => x.name === name);
    if (!n) throw new ApiError(404, 'not_found', `node ${name} does not exist`);
    return nodeView(n, await store.now(), opts.leaseTtlMs);
  };

  app.put<{ Params: { name: string } }>('/v1/nodes/:name', { preHandler: guard('drain') }, async (req) => {
    const body = capSchema.safeParse(req.body);
    if (!body.success) {
      throw new ApiError(400, 'invalid_request', 'body must be { "taskCap": <whole number from 0> }', [
        { path: '/taskCap', message: body.error.issues[0]?.message ?? 'invalid' },
      ]);
    }
    await co.setCap(req.params.name, body.data.taskCap);
    return nodeAnswer(req.params.name);
  });

  app.post<{ Params: { name: string } }>(
    '/v1/nodes/:name/drain',
    { preHandler: guard('drain') },
    async (req) => {
      const body = drainSchema.safeParse(req.body ?? undefined);
      if (!body.success)
        throw new ApiError(400, 'invalid_request', 'body must be { "wait": true|false } or empty');
      await co.drain(req.params.name);
      if (body.data?.wait) {
        // Answers once the node runs no task; the client re-asks if this takes longer than a request may.
        const deadline = Date.now() + 25_000;
        while ((await nodeAnswer(req.params.name)).running > 0 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      return nodeAnswer(req.params.name);
    },
  );

  app.post<{ Params: { name: string } }>(
    '/v1/nodes/:name/resume',
    { preHandler: guard('drain') },
    async (req) => {
      await co.resume(req.params.name);
      return nodeAnswer(req.params.name);
    },
  );

  app.register(packageRoutes(opts.packages, guard('deploy')));

  app.register(
    workerRoutes({
      registry: co.workers,
      packages: opts.packages,
      leaseTtlMs: opts.leaseTtlMs,
      worker: guard('worker'),
      read: guard('read'),
    }),
  );

  return app;
}

export type ApiServer = ReturnType<typeof buildServer>;
