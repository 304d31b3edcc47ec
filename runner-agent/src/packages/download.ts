// Downloads one package from its feed into a partial file, hashing the bytes
// as they stream past (the file is never read back). Transient failures (a
// 5xx, a reset, a stalled body) are retried with backoff; a retry asks for the
// rest with a Range request and keeps the hash state, and starts over when the
// feed answers with the whole body instead.
import { createWriteStream } from 'node:fs';
import { stat, truncate } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { type Dispatcher, request } from 'undici';
import { PackageError } from './errors.ts';
import type { HostGuard } from './guard.ts';
import { Sha256Stream } from './hasher.ts';

const MAX_REDIRECTS = 5;

export interface DownloadOptions {
  url: string;
  sha256: string;
  /** The partial file; the caller renames it into the cache once this resolves. */
  dest: string;
  maxBytes: number;
  guard: HostGuard;
  dispatcher: Dispatcher;
  attempts: number;
  backoffMs: number;
  signal: AbortSignal;
  onRetry?: (attempt: number, err: PackageError, delayMs: number) => void;
}

interface Progress {
  hash: Sha256Stream;
  written: number;
}

export async function download(opts: DownloadOptions): Promise<{ bytes: number }> {
  const progress: Progress = { hash: new Sha256Stream(), written: 0 };
  try {
    return await downloadWith(opts, progress);
  } finally {
    await progress.hash.close();
  }
}

async function restart(opts: DownloadOptions, progress: Progress): Promise<void> {
  await truncate(opts.dest, 0).catch(() => {});
  await progress.hash.close();
  progress.hash = new Sha256Stream();
  progress.written = 0;
}

async function downloadWith(opts: DownloadOptions, progress: Progress): Promise<{ bytes: number }> {
  for (let attempt = 1; ; attempt++) {
    try {
      await fetchOnce(opts, progress);
      break;
    } catch (err) {
      const e = asPackageError(err, opts);
      if (!e.transient || attempt >= opts.attempts || opts.signal.aborted) throw e;
      // What reached the disk is what the hash saw, unless a write was cut off: then start over.
      const size = await stat(opts.dest).then(
        (s) => s.size,
        () => 0,
      );
      if (size !== progress.written) await restart(opts, progress);
      const delay = Math.min(opts.backoffMs * 2 ** (attempt - 1), 30_000);
      opts.onRetry?.(attempt, e, delay);
      await sleep(delay, opts.signal);
    }
  }
  const actual = await progress.hash.digest();
  if (actual !== opts.sha256) {
    throw new PackageError(
      'hash_mismatch',
      `sha256 mismatch for ${redact(opts.url)}: expected ${opts.sha256}, got ${actual} (${progress.written} bytes)`,
    );
  }
  return { bytes: progress.written };
}

async function fetchOnce(opts: DownloadOptions, progress: Progress): Promise<void> {
  let url = opts.guard.checkUrl(opts.url);
  for (let hop = 0; ; hop++) {
    const res = await request(url, {
      method: 'GET',
      dispatcher: opts.dispatcher,
      signal: opts.signal,
      headers: progress.written > 0 ? { range: `bytes=${progress.written}-` } : {},
    });
    if (res.statusCode >= 300 && res.statusCode < 400 && res.headers.location) {
      await res.body.dump();
      if (hop >= MAX_REDIRECTS) {
        throw new PackageError(
          'too_many_redirects',
          `${redact(opts.url)} redirected more than ${MAX_REDIRECTS} times`,
        );
      }
      url = opts.guard.checkUrl(new URL(String(res.headers.location), url).href);
      continue;
    }
    if (res.statusCode !== 200 && res.statusCode !== 206) {
      await res.body.dump().catch(() => {});
      const transient = res.statusCode >= 500 || res.statusCode === 429 || res.statusCode === 408;
      throw new PackageError(
        'http_status',
        `package feed answered ${res.statusCode} for ${redact(url.href)}`,
        transient,
      );
    }
    const resumed =
      res.statusCode === 206 &&
      String(res.headers['content-range'] ?? '').startsWith(`bytes ${progress.written}-`);
    if (!resumed && progress.written > 0) await restart(opts, progress);
    const length = Number(res.headers['content-length'] ?? Number.NaN);
    if (progress.written + (Number.isFinite(length) ? length : 0) > opts.maxBytes) {
      await res.body.dump().catch(() => {});
      throw tooLarge(opts);
    }
    const append = progress.written > 0;
    await pipeline(
      res.body,
      async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          if (progress.written + chunk.length > opts.maxBytes) throw tooLarge(opts);
          await progress.hash.update(chunk);
          progress.written += chunk.length;
          yield chunk;
        }
      },
      createWriteStream(opts.dest, { flags: append ? 'a' : 'w' }),
    );
    return;
  }
}

const tooLarge = (opts: DownloadOptions) =>
  new PackageError(
    'too_large',
    `package at ${redact(opts.url)} is larger than the limit of ${opts.maxBytes} bytes`,
  );

/** Query strings often carry signed tokens; messages keep only origin and path. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return url.slice(0, 200);
  }
}

function asPackageError(err: unknown, opts: DownloadOptions): PackageError {
  if (err instanceof PackageError) return err;
  if (opts.signal.aborted) return new PackageError('cancelled', 'the download was cancelled');
  const e = err as Error & { code?: string; cause?: Error & { code?: string } };
  if (e.cause instanceof PackageError) return e.cause;
  const code = e.code ?? e.cause?.code ?? '';
  if (code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT') {
    return new PackageError('stalled', `the feed stopped sending ${redact(opts.url)} (${code})`, true);
  }
  return new PackageError(
    'network',
    `downloading ${redact(opts.url)} failed: ${e.cause?.message ?? e.message}${code ? ` (${code})` : ''}`,
    true,
  );
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
