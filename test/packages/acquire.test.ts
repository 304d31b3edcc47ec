// Acquisition into the cache from a real HTTP feed on 127.0.0.1: verification,
// the SSRF guard, retries and Range resumption, single-flight, the size cap and
// least-recently-used eviction that spares pinned packages.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { type CacheSettings, PackageCache, type PackageSpec } from '../../runner-agent/src/packages/cache.ts';
import { PackageError } from '../../runner-agent/src/packages/errors.ts';
import { removeTempDirs, tempDir } from '../helpers/util.ts';
import { type Feed, startFeed } from './feed.ts';

const open: (Feed | PackageCache)[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
  removeTempDirs();
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const never = new AbortController().signal;

async function cache(settings: Partial<CacheSettings> = {}): Promise<PackageCache> {
  const c = new PackageCache({
    dir: tempDir('flotilla-cache-'),
    maxCacheBytes: 1 << 30,
    maxPackageBytes: 1 << 30,
    allowedHosts: ['127.0.0.1'],
    attempts: 3,
    backoffMs: 10,
    stallTimeoutMs: 500,
    ...settings,
  });
  await c.open();
  open.push(c);
  return c;
}

async function feed(): Promise<Feed> {
  const f = await startFeed();
  open.push(f);
  return f;
}

const spec = (url: string, body: Buffer, name = 'app'): PackageSpec => ({
  name,
  source: 'url',
  url,
  sha256: sha(body),
  allowSymlinks: false,
});

async function failure(p: Promise<unknown>): Promise<PackageError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, 'it succeeded').toBeInstanceOf(PackageError);
  return err as PackageError;
}

/** The cache holds no partial file and no package besides `except`. */
function clean(c: PackageCache, except: string[] = []) {
  expect(readdirSync(join(c.settings.dir, 'tmp'))).toEqual([]);
  const files = readdirSync(c.settings.dir).filter((f) => /^[a-f0-9]{64}$/.test(f));
  expect(files.sort()).toEqual(except.sort());
}

describe('package acquisition', () => {
  it('downloads, verifies and caches; the next acquisition is a cache hit', async () => {
    const f = await feed();
    const body = randomBytes(300_000);
    const c = await cache();
    const url = f.route('/app.tgz', { kind: 'body', body });
    const first = await c.acquire(spec(url, body), 'task-1', never);
    expect(first.cache).toBe('miss');
    expect(first.bytes).toBe(body.length);
    expect(readFileSync(first.path).equals(body)).toBe(true);
    const second = await c.acquire(spec(url, body), 'task-2', never);
    expect(second.cache).toBe('hit');
    expect(f.requests.get('/app.tgz')).toHaveLength(1);
  });

  it('refuses a hash mismatch, naming both hashes, and keeps nothing', async () => {
    const f = await feed();
    const body = randomBytes(10_000);
    const c = await cache();
    const url = f.route('/app.tgz', { kind: 'body', body });
    const wrong = { ...spec(url, body), sha256: 'a'.repeat(64) };
    const err = await failure(c.acquire(wrong, 't', never));
    expect(err.code).toBe('hash_mismatch');
    expect(err.message).toContain(`expected ${'a'.repeat(64)}, got ${sha(body)}`);
    clean(c);
  });

  it('refuses a URL outside allowedHosts without connecting', async () => {
    const f = await feed();
    const body = randomBytes(100);
    const c = await cache({ allowedHosts: ['packages.example.com'] });
    const err = await failure(c.acquire(spec(f.route('/a', { kind: 'body', body }), body), 't', never));
    expect(err.code).toBe('forbidden_host');
    expect(err.message).toMatch(
      /package host 127\.0\.0\.1 is not in packages\.allowedHosts \(packages\.example\.com\)/,
    );
    expect(f.requests.size).toBe(0);
  });

  it('refuses a loopback address that is not listed itself, checked where the socket connects', async () => {
    const f = await feed();
    const body = randomBytes(100);
    const c = await cache({ allowedHosts: ['localhost'] });
    const url = `http://localhost:${f.port}${new URL(f.route('/a', { kind: 'body', body })).pathname}`;
    const err = await failure(c.acquire(spec(url, body), 't', never));
    expect(err.message).toMatch(/resolves to (127\.0\.0\.1|::1), a private, loopback or link-local address/);
    expect(f.requests.size).toBe(0);
  });

  it('checks every redirect again: one to a forbidden host is refused, one to an allowed host followed', async () => {
    const f = await feed();
    const body = randomBytes(1000);
    const c = await cache();
    const bad = f.route('/bad', { kind: 'redirect', location: 'http://metadata.internal/latest' });
    const err = await failure(c.acquire(spec(bad, body), 't', never));
    expect(err.code).toBe('forbidden_host');
    expect(err.message).toContain('metadata.internal');
    f.route('/real', { kind: 'body', body });
    const good = f.route('/good', { kind: 'redirect', location: '/real' });
    expect((await c.acquire(spec(good, body), 't', never)).bytes).toBe(1000);
  });

  it('retries a feed that answers 500 and then succeeds', async () => {
    const f = await feed();
    const body = randomBytes(50_000);
    const c = await cache();
    const retries: string[] = [];
    const url = f.route('/flaky', { kind: 'fail-first', body, status: 500, times: 2 });
    const r = await c.acquire(spec(url, body), 't', never, (attempt, e) =>
      retries.push(`${attempt}: ${e.message}`),
    );
    expect(r.bytes).toBe(body.length);
    expect(retries).toHaveLength(2);
    expect(retries[0]).toMatch(/answered 500/);
  });

  it('gives up after its attempts, and does not retry a 404', async () => {
    const f = await feed();
    const body = randomBytes(100);
    const c = await cache();
    const err = await failure(
      c.acquire(
        spec(f.route('/down', { kind: 'fail-first', body, status: 503, times: 9 }), body),
        't',
        never,
      ),
    );
    expect(err.message).toMatch(/answered 503/);
    expect(f.requests.get('/down')).toHaveLength(3);
    const missing = await failure(c.acquire(spec(`${f.url}/nothing`, body), 't', never));
    expect(missing.message).toMatch(/answered 404/);
    expect(f.requests.get('/nothing')).toHaveLength(1);
    clean(c);
  });

  it('resumes a feed that stalls mid-body with a Range request', async () => {
    const f = await feed();
    const body = randomBytes(2_000_000);
    const c = await cache({ stallTimeoutMs: 300 });
    const url = f.route('/stall', { kind: 'stall-first', body });
    const retries: string[] = [];
    const r = await c.acquire(spec(url, body), 't', never, (_a, e) => retries.push(e.message));
    expect(readFileSync(r.path).equals(body)).toBe(true);
    expect(retries[0]).toMatch(/stopped sending/);
    expect(f.requests.get('/stall')).toEqual([undefined, 'bytes=1000000-']);
    expect(f.bytesSent).toBe(body.length);
  });

  it('downloads once however many tasks ask at the same moment', async () => {
    const f = await feed();
    const body = randomBytes(1_000_000);
    const c = await cache();
    const url = f.route('/shared', { kind: 'body', body });
    const all = await Promise.all(
      Array.from({ length: 400 }, (_, i) => c.acquire(spec(url, body), `task-${i}`, never)),
    );
    expect(c.downloads).toBe(1);
    expect(f.requests.get('/shared')).toHaveLength(1);
    expect(all.filter((r) => r.cache === 'miss')).toHaveLength(1);
  });

  it('refuses a package over the size cap, from its Content-Length', async () => {
    const f = await feed();
    const body = randomBytes(20_000);
    const c = await cache({ maxPackageBytes: 10_000 });
    const err = await failure(c.acquire(spec(f.route('/big', { kind: 'body', body }), body), 't', never));
    expect(err.code).toBe('too_large');
    clean(c);
  });

  it('evicts the least recently used packages above maxCacheBytes, never a pinned one', async () => {
    const f = await feed();
    const bodies = ['a', 'b', 'c', 'd'].map(() => randomBytes(10_000));
    const specs = bodies.map((b, i) => spec(f.route(`/p${i}`, { kind: 'body', body: b }), b, `p${i}`));
    const c = await cache({ maxCacheBytes: 25_000 });
    const [a, b, cc, d] = specs.map((s) => s.sha256);
    await c.acquire(specs[0]!, 'running-task', never); // stays pinned
    await c.acquire(specs[1]!, 'done-task', never);
    c.release('done-task');
    await c.acquire(specs[2]!, 'other', never);
    c.release('other');
    expect([c.has(a!), c.has(b!), c.has(cc!)]).toEqual([true, false, true]);
    c.release('running-task');
    await c.acquire(specs[3]!, 'x', never);
    expect([c.has(a!), c.has(cc!), c.has(d!)]).toEqual([false, true, true]);
    expect(c.totalBytes).toBeLessThanOrEqual(25_000);
  });

  it('keeps its index across restarts', async () => {
    const f = await feed();
    const body = randomBytes(1000);
    const c = await cache();
    await c.acquire(spec(f.route('/x', { kind: 'body', body }), body), 't', never);
    await c.close();
    const again = new PackageCache(c.settings);
    await again.open();
    open.push(again);
    expect((await again.acquire(spec(`${f.url}/x`, body), 't', never)).cache).toBe('hit');
  });

  it('stores an upload only when it hashes to the claimed sha256', async () => {
    const c = await cache();
    const body = randomBytes(5000);
    const err = await failure(c.put('b'.repeat(64), Readable.from([body])));
    expect(err.code).toBe('hash_mismatch');
    clean(c);
    expect(await c.put(sha(body), Readable.from([body]))).toEqual({ created: true, bytes: 5000 });
    expect(existsSync(c.pathOf(sha(body)))).toBe(true);
    const up: PackageSpec = { name: 'web', source: 'upload', sha256: sha(body), allowSymlinks: false };
    expect((await c.acquire(up, 't', never)).cache).toBe('hit');
    const missing = await failure(c.acquire({ ...up, sha256: 'c'.repeat(64) }, 't', never));
    expect(missing.message).toMatch(/was not uploaded to this agent/);
  });
});
