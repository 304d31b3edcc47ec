// The agent's own worker: runs actions on this machine.
import { availableParallelism } from 'node:os';
import type { Target } from '../../../src/plan/index.ts';
import type { PackageCache, PackageSpec } from '../packages/cache.ts';
import type { ExtractLimits } from '../packages/extract.ts';
import { Executor } from './executor.ts';
import type { AcquireReport, ActionRequest, ActionResult, Worker } from './types.ts';

export interface LocalWorkerOptions {
  name: string;
  pools: string[];
  targets: Target[];
  /** Each action runs in a fresh directory below this one. */
  workDir: string;
  killGraceMs: number;
  /** This worker's package cache (uploads land here too). */
  packages: PackageCache;
  extractLimits?: ExtractLimits;
}

export class LocalWorker implements Worker {
  readonly name: string;
  readonly pools: readonly string[];
  readonly targets: readonly Target[];
  runningActions = 0;

  private readonly opts: LocalWorkerOptions;
  // Starting a process blocks the starter's event loop for the fork and exec;
  // one executor per core lets those overlap.
  private readonly executors = Array.from(
    { length: Math.max(1, availableParallelism()) },
    () => new Executor(),
  );

  constructor(opts: LocalWorkerOptions) {
    this.opts = opts;
    this.name = opts.name;
    this.pools = opts.pools;
    this.targets = opts.targets;
  }

  async execute(
    request: ActionRequest,
    signal: AbortSignal,
    onLine: (stream: 'stdout' | 'stderr', line: string) => void,
  ): Promise<ActionResult> {
    this.runningActions++;
    try {
      if (request.kind === 'deploy') return await this.deploy(request, signal, onLine);
      return await this.script(request, signal, onLine);
    } finally {
      this.runningActions--;
    }
  }

  private async script(
    request: ActionRequest,
    signal: AbortSignal,
    onLine: (stream: 'stdout' | 'stderr', line: string) => void,
  ): Promise<ActionResult> {
    const executor = this.executors.reduce((a, b) => (b.load < a.load ? b : a));
    const r = await executor.run(
      request.actionId,
      {
        script: request.script,
        cwd: request.cwd ?? this.opts.workDir,
        scratch: !request.cwd,
        env: request.env,
        timeoutMs: request.timeoutMs,
        killGraceMs: this.opts.killGraceMs,
      },
      signal,
      onLine,
    );
    return {
      ok: r.reason === 'exited' && r.exitCode === 0,
      cancelled: r.reason === 'cancelled',
      exitCode: r.exitCode,
      message: r.message,
    };
  }

  async acquire(
    spec: PackageSpec,
    holder: string,
    signal: AbortSignal,
    onLine: (line: string) => void,
  ): Promise<AcquireReport> {
    const r = await this.opts.packages.acquire(spec, holder, signal, (attempt, err, delayMs) =>
      onLine(`package ${spec.name}: attempt ${attempt} failed (${err.message}); retrying in ${delayMs} ms`),
    );
    return { ...r, package: spec.name, worker: this.name };
  }

  releasePackages(holder: string): void {
    this.opts.packages.release(holder);
  }

  /** A deploy action: acquire (a cache hit once the task acquired it), install, hooks, switch. */
  private async deploy(
    request: ActionRequest,
    signal: AbortSignal,
    onLine: (stream: 'stdout' | 'stderr', line: string) => void,
  ): Promise<ActionResult> {
    const deploy = request.deploy;
    if (!deploy || !request.cwd) {
      return {
        ok: false,
        cancelled: false,
        exitCode: null,
        message: 'a deploy action needs a package and a target',
      };
    }
    const deadline = Date.now() + request.timeoutMs;
    const bounded = AbortSignal.any([signal, AbortSignal.timeout(request.timeoutMs)]);
    const say = (line: string) => onLine('stdout', line);
    try {
      const acquired = await this.acquire(deploy.package, request.actionId, bounded, say);
      // Loaded with the first deploy action (it brings node-tar).
      const { installRelease } = await import('../packages/install.ts');
      await installRelease({
        archive: acquired.path,
        projectDir: request.cwd,
        release: deploy.release,
        keepReleases: deploy.keepReleases,
        allowSymlinks: deploy.package.allowSymlinks,
        limits: this.opts.extractLimits,
        signal: bounded,
        onLine: say,
        runHook: async (script, cwd) => {
          const r = await this.script(
            {
              ...request,
              kind: 'run',
              script: `exec bash ./${script}`,
              cwd,
              timeoutMs: Math.max(1, deadline - Date.now()),
            },
            signal,
            onLine,
          );
          return { ok: r.ok, message: r.message };
        },
      });
      return { ok: true, cancelled: false, exitCode: 0, message: `installed ${deploy.release}` };
    } catch (err) {
      const timedOut = !signal.aborted && bounded.aborted;
      return {
        ok: false,
        cancelled: signal.aborted,
        exitCode: null,
        message: timedOut ? `timed out after ${request.timeoutMs} ms` : (err as Error).message,
      };
    } finally {
      this.opts.packages.release(request.actionId);
    }
  }

  /** Resolves once every executor process is gone. */
  async close(): Promise<void> {
    await Promise.all(this.executors.map((e) => e.close()));
  }
}
