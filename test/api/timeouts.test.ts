// Connection timeouts of the API: a client that goes silent mid-request is cut
// off, while one that keeps sending, however slowly, is not (a package upload
// may rightly take minutes, so there is no whole-request deadline).
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { startTestAgent, stopTestAgents, TEST_ENV } from '../helpers/agent.ts';
import { removeTempDirs } from '../helpers/util.ts';

afterEach(async () => {
  await stopTestAgents();
  removeTempDirs();
});

const IDLE_MS = 400;

function open(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => resolve(socket));
    socket.on('error', reject);
  });
}

/** Resolves with what the server sent once it closes the connection. */
function whenClosed(socket: Socket): Promise<string> {
  let got = '';
  socket.setEncoding('utf8').on('data', (d: string) => {
    got += d;
  });
  return new Promise((resolve) => socket.on('close', () => resolve(got)));
}

it('closes a connection that stops sending in the middle of a body', async () => {
  const agent = await startTestAgent({}, { ...TEST_ENV, FLOTILLA_IDLE_TIMEOUT_MS: String(IDLE_MS) });
  const socket = await open(agent.url);
  const closed = whenClosed(socket);
  const t0 = performance.now();
  socket.write(
    'POST /v1/deployments HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"plan":',
  );
  await closed;
  const seconds = (performance.now() - t0) / 1000;
  expect(seconds).toBeGreaterThanOrEqual((IDLE_MS / 1000) * 0.9);
  expect(seconds).toBeLessThan(10);
  // The agent still serves others.
  expect((await agent.call('GET', '/healthz')).status).toBe(200);
});

it('keeps a slow upload that never pauses longer than the idle timeout, even past many idle periods', async () => {
  const agent = await startTestAgent({}, { ...TEST_ENV, FLOTILLA_IDLE_TIMEOUT_MS: String(IDLE_MS) });
  const chunks = Array.from({ length: 12 }, (_, i) => Buffer.alloc(1024, i));
  const body = Buffer.concat(chunks);
  const sha = createHash('sha256').update(body).digest('hex');
  const socket = await open(agent.url);
  const closed = whenClosed(socket);
  socket.write(
    `POST /v1/packages/${sha} HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/octet-stream\r\ncontent-length: ${body.length}\r\n\r\n`,
  );
  // 12 chunks, one every IDLE_MS / 2: the upload lasts three idle timeouts.
  for (const chunk of chunks) {
    await new Promise((r) => setTimeout(r, IDLE_MS / 2));
    socket.write(chunk);
  }
  const answer = await closed;
  expect(answer).toMatch(/^HTTP\/1\.1 20[01] /);
  expect((await agent.call('HEAD', `/v1/packages/${sha}`)).status).toBe(200);
});
