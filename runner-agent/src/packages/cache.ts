// The worker's package cache: content-addressed files `<dir>/<sha256>`, an
// index of sizes and last use (index.json), least-recently-used eviction above
// maxCacheBytes that skips every package a running task has pinned, and one
// download per sha256 however many tasks ask at once (single-flight).
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Agent } from 'undici';
import { PackageError } from './errors.ts';
import type { HostGuard } from './guard.ts';
import { Sha256Stream } from './hasher.ts';

export interface PackageSpec {
  name: string;
  sha256: string;
  source: 'url' | 'upload';
  /** Interpolated URL of a url package. */
  url?: string;
  allowSymlinks: boolean;
}

export interface CacheSettings {
  dir: string;
  maxCacheBytes: number;
  /** The size cap of one package, downloaded or uploaded. */
  maxPackageBytes: number;
  allowedHosts: string[];
  /** Download attempts for transient failures. */
  attempts: number;
  backoffMs: number;
  /** A feed that sends nothing for this long has stalled. */
  stallTimeoutMs: number;
}

export interface Acquired {
  sha256: string;
  path: string;
  bytes: number;
  seconds: number;
  /** hit: it was cached; miss: this call downloaded it; joined: it waited for another call's download. */
  cache: 'hit' | 'miss' | 'joined';
}

interface Entry {
  bytes: number;
  lastUsed: number;
}

export const SHA256 = /^[a-f0-9]{64}$/;
const SAVE_INDEX_MS = 1000;

export class PackageCache {
  readonly settings: CacheSettings;
  /** Downloads started since the cache opened (a measure for benchmarks and tests). */
  downloads = 0;
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<number>>();
  private readonly pins = new Map<string, Set<string>>();
  // The HTTP client is loaded with the first url package: an agent that
  // deploys only uploads, or nothing yet, does not carry it.
  private feed: Promise<{ guard: HostGuard; dispatcher: Agent }> | null = null;
  private readonly closing = new AbortController();
  private saveTimer: NodeJS.Timeout | null = null;

  constructor(settings: CacheSettings) {
    this.settings = settings;
  }

  private feedClient(): Promise<{ guard: HostGuard; dispatcher: Agent }> {
    this.feed ??= import('./guard.ts').then(({ HostGuard }) => {
      const guard = new HostGuard(this.settings.allowedHosts);
      const timeouts = {
        headersTimeoutMs: this.settings.stallTimeoutMs,
        bodyTimeoutMs: this.settings.stallTimeoutMs,
      };
      return { guard, dispatcher: guard.dispatcher(timeouts) };
    });
    return this.feed;
  }

  private get tmpDir(): string {
    return join(this.settings.dir, 'tmp');
  }

  pathOf(sha256: string): string {
    return join(this.settings.dir, sha256);
  }

  /** Loads the index and reconciles it with the files (partials of a crash are removed). */
  async open(): Promise<void> {
    await rm(this.tmpDir, { recursive: true, force: true });
    await mkdir(this.tmpDir, { recursive: true });
    let saved: Record<string, Entry> = {};
    try {
      saved =
        (
          JSON.parse(await readFile(join(this.settings.dir, 'index.json'), 'utf8')) as {
            entries: Record<string, Entry>;
          }
        ).entries ?? {};
    } catch {}
    for (const name of await readdir(this.settings.dir)) {
      if (!SHA256.test(name)) continue;
      const info = await stat(join(this.settings.dir, name));
      this.entries.set(name, { bytes: info.size, lastUsed: saved[name]?.lastUsed ?? info.mtimeMs });
    }
  }

  has(sha256: string): boolean {
    return this.entries.has(sha256);
  }

  get totalBytes(): number {
    let n = 0;
    for (const e of this.entries.values()) n += e.bytes;
    return n;
  }

  /**
   * Makes a package available in the cache and pins it for `holder` until
   * release(holder). Url packages are downloaded once per sha256 however many
   * callers ask at once; uploaded ones must be here already.
   */
  async acquire(
    spec: PackageSpec,
    holder: string,
    signal: AbortSignal,
    onRetry?: (attempt: number, err: PackageError, delayMs: number) => void,
  ): Promise<Acquired> {
    const t0 = performance.now();
    this.pin(spec.sha256, holder);
    const done = (bytes: number, cache: Acquired['cache']): Acquired => {
      this.touch(spec.sha256);
      return {
        sha256: spec.sha256,
        path: this.pathOf(spec.sha256),
        bytes,
        seconds: (performance.now() - t0) / 1000,
        cache,
      };
    };
    const cached = this.entries.get(spec.sha256);
    if (cached) return done(cached.bytes, 'hit');
    if (spec.source === 'upload') {
      throw new PackageError(
        'not_uploaded',
        `package ${spec.name} (sha256 ${spec.sha256}) was not uploaded to this agent, or was evicted from its cache; ` +
          'submit the plan again with flotilla deploy or the action, which upload it',
      );
    }
    let flight = this.inflight.get(spec.sha256);
    const joined = flight !== undefined;
    if (!flight) {
      flight = this.fetch(spec, onRetry).finally(() => this.inflight.delete(spec.sha256));
      this.inflight.set(spec.sha256, flight);
    }
    const bytes = await abortable(flight, signal);
    return done(bytes, joined ? 'joined' : 'miss');
  }

  private async fetch(spec: PackageSpec, onRetry?: Parameters<PackageCache['acquire']>[3]): Promise<number> {
    if (!spec.url) throw new PackageError('bad_url', `package ${spec.name} has no URL`);
    this.downloads++;
    const part = this.partPath(spec.sha256);
    try {
      const [{ download }, { guard, dispatcher }] = await Promise.all([
        import('./download.ts'),
        this.feedClient(),
      ]);
      const { bytes } = await download({
        url: spec.url,
        sha256: spec.sha256,
        dest: part,
        maxBytes: Math.min(this.settings.maxPackageBytes, this.settings.maxCacheBytes),
        guard,
        dispatcher,
        attempts: this.settings.attempts,
        backoffMs: this.settings.backoffMs,
        signal: this.closing.signal,
        onRetry,
      });
      await this.admit(spec.sha256, part, bytes);
      return bytes;
    } finally {
      await rm(part, { force: true });
    }
  }

  /**
   * Stores an uploaded package, hashing it while it streams to disk; refuses
   * it (and keeps nothing) when its sha256 is not the one claimed.
   */
  async put(sha256: string, body: Readable): Promise<{ created: boolean; bytes: number }> {
    const limit = Math.min(this.settings.maxPackageBytes, this.settings.maxCacheBytes);
    const part = this.partPath(sha256);
    const hash = new Sha256Stream();
    let bytes = 0;
    try {
      await pipeline(
        body,
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            bytes += chunk.length;
            if (bytes > limit)
              throw new PackageError('too_large', `the package is larger than the limit of ${limit} bytes`);
            await hash.update(chunk);
            yield chunk;
          }
        },
        createWriteStream(part),
      );
      const actual = await hash.digest();
      if (actual !== sha256) {
        throw new PackageError(
          'hash_mismatch',
          `sha256 mismatch: the URL names ${sha256}, the body hashes to ${actual}`,
        );
      }
      if (this.entries.has(sha256)) {
        this.touch(sha256);
        return { created: false, bytes };
      }
      await this.admit(sha256, part, bytes);
      return { created: true, bytes };
    } finally {
      await hash.close();
      await rm(part, { force: true });
    }
  }

  private partPath(sha256: string): string {
    return join(this.tmpDir, `${sha256}.${randomBytes(4).toString('hex')}.part`);
  }

  private async admit(sha256: string, part: string, bytes: number): Promise<void> {
    await rename(part, this.pathOf(sha256));
    this.entries.set(sha256, { bytes, lastUsed: Date.now() });
    await this.evict(sha256);
    this.saveLater();
  }

  /** Removes least recently used packages until the cache fits, skipping pinned and new ones. */
  private async evict(keep: string): Promise<void> {
    let total = this.totalBytes;
    if (total <= this.settings.maxCacheBytes) return;
    const candidates = [...this.entries]
      .filter(([sha]) => sha !== keep && !this.pins.has(sha) && !this.inflight.has(sha))
      .sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (const [sha, entry] of candidates) {
      if (total <= this.settings.maxCacheBytes) break;
      this.entries.delete(sha);
      total -= entry.bytes;
      await rm(this.pathOf(sha), { force: true });
    }
  }

  private pin(sha256: string, holder: string): void {
    const set = this.pins.get(sha256) ?? new Set<string>();
    set.add(holder);
    this.pins.set(sha256, set);
  }

  /** Unpins every package `holder` acquired. */
  release(holder: string): void {
    for (const [sha, set] of this.pins) {
      set.delete(holder);
      if (set.size === 0) this.pins.delete(sha);
    }
  }

  private touch(sha256: string): void {
    const e = this.entries.get(sha256);
    if (e) e.lastUsed = Date.now();
    this.saveLater();
  }

  private saveLater(): void {
    this.saveTimer ??= setTimeout(() => void this.save(), SAVE_INDEX_MS);
    this.saveTimer.unref();
  }

  private async save(): Promise<void> {
    this.saveTimer = null;
    const file = join(this.settings.dir, 'index.json');
    const tmp = `${file}.${randomBytes(4).toString('hex')}`;
    await writeFile(tmp, JSON.stringify({ version: 1, entries: Object.fromEntries(this.entries) }));
    await rename(tmp, file);
  }

  async close(): Promise<void> {
    if (this.closing.signal.aborted) return;
    this.closing.abort();
    if (this.saveTimer) clearTimeout(this.saveTimer);
    await this.save().catch(() => {});
    if (this.feed) await (await this.feed).dispatcher.close();
  }
}

/** Stops waiting when `signal` aborts; the shared work goes on for the other callers. */
function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new PackageError('cancelled', 'cancelled'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new PackageError('cancelled', 'cancelled'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
