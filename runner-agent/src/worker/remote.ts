// The coordinator's side of a remote worker: a Worker whose actions travel
// over HTTP. execute() and acquire() queue a job; the worker's long poll takes
// it; log batches and the result come back carrying the registration's epoch,
// and a result from an older registration is refused (it belongs to a worker
// life the coordinator already gave up on).
import { randomBytes } from 'node:crypto';
import type { Target } from '../../../src/plan/index.ts';
import type { PackageSpec } from '../packages/cache.ts';
import type { Job, JobResult, PollAnswer, Registration } from './protocol.ts';
import type { AcquireReport, ActionRequest, ActionResult, Worker } from './types.ts';

type Line = (stream: 'stdout' | 'stderr', line: string) => void;

interface Pending {
  job: Job;
  sent: boolean;
  onLine: Line;
  settle: (r: JobResult) => void;
}

export class StaleEpochError extends Error {}

export const WORKER_LOST = 'worker lost';

// Job ids name this coordinator life too: a worker that outlived a restart
// may still post a result for an earlier life's job, and it must not match a
// new job that happens to have the same number.
const life = randomBytes(4).toString('hex');
let jobSeq = 0;
const nextJobId = () => `${life}-${++jobSeq}`;

export class RemoteWorker implements Worker {
  readonly name: string;
  readonly pools: readonly string[];
  readonly targets: readonly Target[];
  readonly maxActions: number;
  epoch: number;
  /** Last request from the worker (ms); a poll held open counts as contact too. */
  lastSeen = Date.now();
  online = true;
  /** Stopping: it finishes the jobs it was given and is placed nothing new. */
  draining = false;
  private readonly jobs = new Map<string, Pending>();
  private readonly cancels: string[] = [];
  private poller: ((a: PollAnswer) => void) | null = null;
  private readonly onChange: () => void;

  constructor(reg: Registration, epoch: number, onChange: () => void) {
    this.name = reg.name;
    this.pools = reg.pools;
    this.targets = reg.targets.map((t) => ({
      name: t.name,
      roles: t.roles,
      host: t.host,
      root: t.root,
      ...(t.tenants ? { tenants: t.tenants } : {}),
    }));
    this.maxActions = reg.maxActions;
    this.epoch = epoch;
    this.onChange = onChange;
  }

  get runningActions(): number {
    let n = 0;
    for (const p of this.jobs.values()) if (p.job.type === 'action') n++;
    return n;
  }

  get polling(): boolean {
    return this.poller !== null;
  }

  async execute(request: ActionRequest, signal: AbortSignal, onLine: Line): Promise<ActionResult> {
    const r = await this.send({ id: nextJobId(), type: 'action', request }, signal, onLine);
    if ('ok' in r) return r;
    return { ok: false, cancelled: false, exitCode: null, message: 'error' in r ? r.error : 'bad result' };
  }

  async acquire(
    spec: PackageSpec,
    holder: string,
    signal: AbortSignal,
    onLine: (line: string) => void,
  ): Promise<AcquireReport> {
    const r = await this.send({ id: nextJobId(), type: 'acquire', spec, holder }, signal, (_s, l) =>
      onLine(l),
    );
    if ('acquired' in r) return { ...r.acquired, package: spec.name, worker: this.name };
    throw new Error('error' in r ? r.error : r.message);
  }

  releasePackages(holder: string): void {
    if (!this.online) return;
    this.queue({ id: nextJobId(), type: 'release', holder });
  }

  private send(job: Job, signal: AbortSignal, onLine: Line): Promise<JobResult> {
    if (!this.online) return Promise.resolve({ error: `${WORKER_LOST}: worker ${this.name} is offline` });
    return new Promise<JobResult>((resolve) => {
      const onAbort = () => {
        const p = this.jobs.get(job.id);
        if (!p) return;
        if (!p.sent) {
          this.jobs.delete(job.id);
          resolve({ ok: false, cancelled: true, exitCode: null, message: 'cancelled' });
          return;
        }
        // The worker stops the process and answers with the cancelled result.
        this.cancels.push(job.id);
        this.wake();
      };
      const settle = (r: JobResult) => {
        signal.removeEventListener('abort', onAbort);
        this.jobs.delete(job.id);
        this.onChange();
        resolve(r);
      };
      this.jobs.set(job.id, { job, sent: false, onLine, settle });
      signal.addEventListener('abort', onAbort, { once: true });
      if (signal.aborted) onAbort();
      else this.wake();
    });
  }

  private queue(job: Job): void {
    this.jobs.set(job.id, { job, sent: false, onLine: () => {}, settle: () => this.jobs.delete(job.id) });
    this.wake();
  }

  private unsent(): PollAnswer {
    const jobs: Job[] = [];
    for (const p of this.jobs.values()) {
      if (p.sent) continue;
      p.sent = true;
      jobs.push(p.job);
      // Releases have no answer.
      if (p.job.type === 'release') this.jobs.delete(p.job.id);
    }
    return { jobs, cancel: this.cancels.splice(0) };
  }

  private wake(): void {
    const poller = this.poller;
    if (!poller) return;
    const answer = this.unsent();
    if (answer.jobs.length === 0 && answer.cancel.length === 0) return;
    this.poller = null;
    poller(answer);
  }

  /**
   * The worker's long poll: answers at once when jobs or cancellations wait,
   * else when one arrives or after `holdMs`. `gone` resolves when the
   * worker's connection closed, so jobs are never handed to a dead poll.
   */
  poll(epoch: number, holdMs: number, gone: Promise<void>): Promise<PollAnswer> {
    this.check(epoch);
    this.lastSeen = Date.now();
    const now = this.unsent();
    if (now.jobs.length || now.cancel.length) return Promise.resolve(now);
    // A newer poll replaces an older one (the worker gave up on it).
    this.poller?.({ jobs: [], cancel: [] });
    return new Promise<PollAnswer>((resolve) => {
      const done = (a: PollAnswer) => {
        clearTimeout(timer);
        if (this.poller === done) this.poller = null;
        resolve(a);
      };
      const timer = setTimeout(() => done({ jobs: [], cancel: [] }), holdMs);
      this.poller = done;
      void gone.then(() => {
        if (this.poller === done) done({ jobs: [], cancel: [] });
      });
    });
  }

  /** The worker is stopping (SIGTERM): the registry places nothing new on it from now on. */
  drain(epoch: number): void {
    this.check(epoch);
    if (this.draining) return;
    this.draining = true;
    this.onChange();
  }

  log(epoch: number, jobId: string, lines: { stream: 'stdout' | 'stderr'; line: string }[]): void {
    this.check(epoch);
    this.lastSeen = Date.now();
    const p = this.jobs.get(jobId);
    if (!p) return;
    for (const l of lines) p.onLine(l.stream, l.line);
  }

  /** False when the job is unknown (it was settled already, e.g. as lost). */
  result(epoch: number, jobId: string, result: JobResult): boolean {
    this.check(epoch);
    this.lastSeen = Date.now();
    const p = this.jobs.get(jobId);
    if (!p) return false;
    p.settle(result);
    return true;
  }

  /** No contact within leaseTtl: every job it had fails with `worker lost` (retries apply). */
  lose(): void {
    this.online = false;
    this.poller?.({ jobs: [], cancel: [] });
    this.poller = null;
    this.cancels.length = 0;
    for (const p of [...this.jobs.values()]) {
      p.settle(
        p.job.type === 'action'
          ? { ok: false, cancelled: false, exitCode: null, message: WORKER_LOST }
          : { error: `${WORKER_LOST}: worker ${this.name} stopped answering` },
      );
    }
    this.jobs.clear();
  }

  private check(epoch: number): void {
    if (epoch !== this.epoch || !this.online) {
      throw new StaleEpochError(
        `epoch ${epoch} of worker ${this.name} is stale (current ${this.online ? this.epoch : 'none: the worker was declared lost'}); register again`,
      );
    }
  }
}
