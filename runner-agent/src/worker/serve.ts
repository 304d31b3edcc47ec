// `flotilla worker`'s loop on a self-hosted runner: register with the
// coordinator, long-poll for jobs, run them with the same LocalWorker the
// agent uses (executors, package cache, installs), stream log lines back in
// batches and post results with the registration's epoch. A poll answered
// 404 or 409 (the coordinator restarted, or declared this worker lost) means
// register again; what ran under the old epoch is stopped, since the
// coordinator already failed it as `worker lost`.
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Agent, request } from 'undici';
import type { Target } from '../../../src/plan/index.ts';
import { type CacheSettings, PackageCache, type PackageSpec } from '../packages/cache.ts';
import { LocalWorker } from './local.ts';
import type { Job, JobResult, PollAnswer, Registered } from './protocol.ts';

export interface WorkerSettings {
  coordinator: string;
  token?: string;
  name: string;
  pools: string[];
  targets: Target[];
  maxActions: number;
  dataDir: string;
  killGraceMs: number;
  packages: CacheSettings;
}

/** Refusals that retrying cannot fix (bad token, wrong scope, a clash of names). */
export class WorkerRefused extends Error {}

class Unregistered extends Error {}

const LOG_FLUSH_MS = 200;
const LOG_BATCH = 500;

export class RemoteWorkerProcess {
  private readonly s: WorkerSettings;
  private readonly log: Logger;
  private readonly http = new Agent({ keepAliveTimeout: 30_000, headersTimeout: 0, bodyTimeout: 0 });
  private readonly cache: PackageCache;
  private readonly local: LocalWorker;
  private readonly running = new Map<string, AbortController>();
  private readonly uploads = new Map<string, Promise<void>>();
  private readonly stopping = new AbortController();
  /** Jobs taken and not yet answered (their result posted). */
  private readonly inflight = new Set<Promise<void>>();
  private draining = false;
  /** The poll that told the coordinator of the drain; jobs it brings still run. */
  private told: Promise<void> = Promise.resolve();
  private stopped: Promise<void> | undefined;
  private epoch = 0;
  private pollMs = 20_000;

  constructor(settings: WorkerSettings, log: Logger) {
    this.s = settings;
    this.log = log;
    this.cache = new PackageCache(settings.packages);
    this.local = new LocalWorker({
      name: settings.name,
      pools: settings.pools,
      targets: settings.targets,
      workDir: join(settings.dataDir, 'work'),
      killGraceMs: settings.killGraceMs,
      packages: this.cache,
    });
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs = 30_000) {
    const res = await request(new URL(path, this.s.coordinator), {
      method,
      dispatcher: this.http,
      headers: {
        ...(this.s.token ? { authorization: `Bearer ${this.s.token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.any([this.stopping.signal, AbortSignal.timeout(timeoutMs)]),
    });
    const text = await res.body.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {}
    if (res.statusCode === 401 || res.statusCode === 403 || res.statusCode === 400) {
      throw new WorkerRefused(`${method} ${path}: ${res.statusCode} ${errorText(json, text)}`);
    }
    if (res.statusCode === 404 || res.statusCode === 409) throw new Unregistered(errorText(json, text));
    if (res.statusCode >= 300)
      throw new Error(`${method} ${path}: ${res.statusCode} ${errorText(json, text)}`);
    return json as T;
  }

  /**
   * Runs until stop(), or once drained; rejects with WorkerRefused when the
   * coordinator will never take this worker.
   */
  async run(): Promise<void> {
    await this.cache.open();
    await this.register();
    while (!this.stopping.signal.aborted) {
      if (this.draining) {
        await this.told;
        if (this.inflight.size === 0) break;
      }
      try {
        await this.poll();
      } catch (err) {
        if (this.stopping.signal.aborted) break;
        if (err instanceof WorkerRefused) throw err;
        if (err instanceof Unregistered) {
          // The coordinator gave this registration's jobs up already; a
          // draining worker then has nothing left to finish.
          for (const c of this.running.values()) c.abort();
          if (this.draining) break;
          this.log.warn({ reason: err.message }, 'registering again');
          await this.register();
          continue;
        }
        this.log.warn({ err: (err as Error).message }, 'coordinator unreachable; retrying');
        await sleep(500, this.stopping.signal);
      }
    }
  }

  /** One long poll: cancellations and new jobs. */
  private async poll(): Promise<void> {
    const answer = await this.call<PollAnswer>(
      'POST',
      `/v1/workers/${this.s.name}/poll`,
      { epoch: this.epoch, ...(this.draining ? { draining: true } : {}) },
      this.pollMs + 10_000,
    );
    for (const id of answer.cancel) this.running.get(id)?.abort();
    for (const job of answer.jobs) {
      // Jobs given before the coordinator heard of a drain still run.
      const p: Promise<void> = this.runJob(job, this.epoch).finally(() => this.inflight.delete(p));
      this.inflight.add(p);
    }
  }

  /**
   * SIGTERM: take nothing new, finish the jobs taken, then run() returns. The
   * coordinator hears of it at once: this poll replaces the one it holds.
   */
  drain(): void {
    if (this.draining) return;
    this.draining = true;
    this.told = this.poll().catch(() => {});
  }

  private async register(): Promise<void> {
    for (let delay = 200; !this.stopping.signal.aborted; delay = Math.min(delay * 2, 5000)) {
      try {
        const r = await this.call<Registered>('POST', '/v1/workers', {
          name: this.s.name,
          pools: this.s.pools,
          targets: this.s.targets,
          maxActions: this.s.maxActions,
        });
        this.epoch = r.epoch;
        this.pollMs = r.pollMs;
        this.log.info(
          {
            name: this.s.name,
            epoch: r.epoch,
            coordinator: this.s.coordinator,
            targets: this.s.targets.length,
          },
          'worker registered',
        );
        return;
      } catch (err) {
        if (err instanceof WorkerRefused) throw err;
        if (err instanceof Unregistered) throw new WorkerRefused(`registration refused: ${err.message}`);
        this.log.warn({ err: (err as Error).message }, 'could not register; retrying');
        await sleep(delay, this.stopping.signal);
      }
    }
  }

  private async runJob(job: Job, epoch: number): Promise<void> {
    if (job.type === 'release') {
      this.local.releasePackages(job.holder);
      return;
    }
    const abort = new AbortController();
    this.running.set(job.id, abort);
    const lines = new LineBatcher((batch) =>
      this.call('POST', `/v1/workers/${this.s.name}/jobs/${job.id}/log`, { epoch, lines: batch }),
    );
    let result: JobResult;
    try {
      if (job.type === 'action') {
        if (job.request.deploy) await this.ensureUploaded(job.request.deploy.package);
        result = await this.local.execute(job.request, abort.signal, (stream, line) =>
          lines.add(stream, line),
        );
      } else {
        await this.ensureUploaded(job.spec);
        const r = await this.local.acquire(job.spec, job.holder, abort.signal, (line) =>
          lines.add('stdout', line),
        );
        result = {
          acquired: { sha256: r.sha256, path: r.path, bytes: r.bytes, seconds: r.seconds, cache: r.cache },
        };
      }
    } catch (err) {
      result = { error: (err as Error).message };
    } finally {
      this.running.delete(job.id);
    }
    await lines.close();
    await this.post(job.id, epoch, result);
  }

  /** A result matters (the task waits on it): retried while the coordinator is unreachable. */
  private async post(jobId: string, epoch: number, result: JobResult): Promise<void> {
    for (let attempt = 1; attempt <= 10 && !this.stopping.signal.aborted; attempt++) {
      try {
        await this.call('POST', `/v1/workers/${this.s.name}/jobs/${jobId}/result`, { epoch, result });
        return;
      } catch (err) {
        // Refused as stale or unknown: the coordinator gave this job up already.
        if (err instanceof Unregistered || err instanceof WorkerRefused) {
          this.log.warn({ job: jobId, reason: err.message }, 'result refused');
          return;
        }
        await sleep(Math.min(200 * 2 ** attempt, 5000), this.stopping.signal);
      }
    }
  }

  /** Uploaded packages come from the coordinator, once per sha256 however many jobs ask. */
  private async ensureUploaded(spec: PackageSpec): Promise<void> {
    if (spec.source !== 'upload' || this.cache.has(spec.sha256)) return;
    let flight = this.uploads.get(spec.sha256);
    if (!flight) {
      flight = this.fetchUpload(spec.sha256).finally(() => this.uploads.delete(spec.sha256));
      this.uploads.set(spec.sha256, flight);
    }
    await flight;
  }

  private async fetchUpload(sha256: string): Promise<void> {
    const res = await request(new URL(`/v1/packages/${sha256}`, this.s.coordinator), {
      dispatcher: this.http,
      headers: this.s.token ? { authorization: `Bearer ${this.s.token}` } : {},
      signal: this.stopping.signal,
    });
    if (res.statusCode !== 200) {
      const text = await res.body.text();
      throw new Error(`the coordinator could not send package ${sha256}: ${res.statusCode} ${text}`);
    }
    // put() verifies the bytes against the sha256 and keeps nothing that does not match.
    await this.cache.put(sha256, res.body);
  }

  /** Take no more jobs, stop running ones, close; once, however often it is asked. */
  stop(): Promise<void> {
    this.stopped ??= this.close();
    return this.stopped;
  }

  private async close(): Promise<void> {
    this.stopping.abort();
    for (const c of this.running.values()) c.abort();
    while (this.running.size > 0) await sleep(20, new AbortController().signal);
    await this.local.close();
    await this.cache.close();
    await this.http.close();
  }
}

/** Log lines of one job, sent in batches every 200 ms or 500 lines, in order. */
class LineBatcher {
  private buf: { stream: 'stdout' | 'stderr'; line: string }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly send: (lines: { stream: 'stdout' | 'stderr'; line: string }[]) => Promise<unknown>;

  constructor(send: LineBatcher['send']) {
    this.send = send;
  }

  add(stream: 'stdout' | 'stderr', line: string): void {
    this.buf.push({ stream, line });
    if (this.buf.length >= LOG_BATCH) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), LOG_FLUSH_MS);
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.buf.length === 0) return;
    const batch = this.buf;
    this.buf = [];
    // Log lines are best effort: a lost batch must not fail the action.
    this.chain = this.chain.then(() => this.send(batch)).catch(() => {});
  }

  async close(): Promise<void> {
    this.flush();
    await this.chain;
  }
}

function errorText(json: unknown, text: string): string {
  const e = (json as { error?: { message?: string } } | null)?.error;
  return e?.message ?? text.slice(0, 200);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
}
