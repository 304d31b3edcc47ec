// GET /v1/deployments/:id/events as Server-Sent Events. Each event carries its
// store id as `id:`, so a client that reconnects with Last-Event-ID misses
// nothing. The stream ends after deployment.finished.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { EventLog } from '../scheduler/event-log.ts';
import type { Store } from '../store/types.ts';
import { eventView } from './views.ts';

const PAGE = 1000;
const KEEPALIVE_MS = 15_000;
// Events written by other nodes (several nodes on one database) arrive by polling.
const POLL_MS = 1000;

export async function sendEvents(
  req: FastifyRequest,
  reply: FastifyReply,
  opts: { store: Store; events: EventLog; deploymentId: string; after: number },
): Promise<void> {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.write('retry: 1000\n\n');
  let last = opts.after;
  let closed = false;
  let pumping = false;
  let again = false;

  const pump = async () => {
    if (pumping) {
      again = true;
      return;
    }
    pumping = true;
    try {
      do {
        again = false;
        for (;;) {
          const page = await opts.store.eventsSince(opts.deploymentId, last, PAGE);
          for (const e of page) {
            if (closed) return;
            res.write(`id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(eventView(e))}\n\n`);
            last = e.id;
            if (e.type === 'deployment.finished') return close();
          }
          if (page.length < PAGE) break;
        }
      } while (again && !closed);
    } catch {
      close();
    } finally {
      pumping = false;
    }
  };

  // A client that resumes after deployment.finished (its Last-Event-ID is the
  // last event) gets nothing more: once no task is open and a whole poll
  // brought nothing, the stream ends. (One poll of grace: the last task's
  // node writes deployment.finished just after the task ended.) The probe is
  // an index lookup, not a read of the deployment and its plan.
  let quietSinceDone = false;
  const poll = setInterval(async () => {
    const before = last;
    await pump();
    if (closed || last !== before) return;
    const done = !(await opts.store.hasOpenTasks(opts.deploymentId).catch(() => true));
    if (done && quietSinceDone) close();
    quietSinceDone = done;
  }, POLL_MS);
  const unsubscribe = opts.events.subscribe(opts.deploymentId, () => void pump());
  const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
  function close() {
    if (closed) return;
    closed = true;
    unsubscribe();
    clearInterval(poll);
    clearInterval(keepalive);
    res.end();
  }
  req.raw.on('close', close);
  await pump();
}
