// A package feed for tests: node:http on 127.0.0.1 serving named bodies with
// Range support, plus misbehaviours a real feed has: errors before success,
// bodies that stall halfway, redirects.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Behaviour =
  | { kind: 'body'; body: Buffer }
  /** Answers `status` this many times, then serves the body. */
  | { kind: 'fail-first'; body: Buffer; status: number; times: number }
  /** The first response sends half the body and then nothing (the socket stays open). */
  | { kind: 'stall-first'; body: Buffer }
  | { kind: 'redirect'; location: string };

export interface Feed {
  url: string;
  port: number;
  /** Requests per path, and their Range headers. */
  requests: Map<string, (string | undefined)[]>;
  bytesSent: number;
  route(path: string, b: Behaviour): string;
  close(): Promise<void>;
}

export async function startFeed(): Promise<Feed> {
  const routes = new Map<string, Behaviour>();
  const served = new Map<string, number>();
  const stalled = new Set<ServerResponse>();
  const feed: Feed = {
    url: '',
    port: 0,
    requests: new Map(),
    bytesSent: 0,
    route(path, b) {
      routes.set(path, b);
      return `${feed.url}${path}`;
    },
    async close() {
      for (const res of stalled) res.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
  const send = (req: IncomingMessage, res: ServerResponse, body: Buffer, cut?: number) => {
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    const part = body.subarray(start);
    res.writeHead(m ? 206 : 200, {
      'content-length': part.length,
      'accept-ranges': 'bytes',
      ...(m ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
    });
    if (cut === undefined) {
      feed.bytesSent += part.length;
      res.end(part);
      return;
    }
    feed.bytesSent += cut;
    res.write(part.subarray(0, cut));
    stalled.add(res);
  };
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const list = feed.requests.get(path) ?? [];
    list.push(req.headers.range);
    feed.requests.set(path, list);
    const n = (served.get(path) ?? 0) + 1;
    served.set(path, n);
    const b = routes.get(path);
    if (!b) return res.writeHead(404).end();
    switch (b.kind) {
      case 'body':
        return send(req, res, b.body);
      case 'fail-first':
        return n <= b.times ? res.writeHead(b.status).end('try later') : send(req, res, b.body);
      case 'stall-first':
        return send(req, res, b.body, n === 1 ? Math.floor(b.body.length / 2) : undefined);
      case 'redirect':
        return res.writeHead(302, { location: b.location }).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  feed.port = (server.address() as AddressInfo).port;
  feed.url = `http://127.0.0.1:${feed.port}`;
  return feed;
}
