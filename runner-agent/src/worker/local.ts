// The agent's own worker: runs actions on this machine.
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Target } from '../../../src/plan/index.ts';
import { Executor } from './executor.ts';
import type { ActionRequest, ActionResult, Worker } from './types.ts';

export interface LocalWorkerOptions {
  name: string;
  pools: string[];
  targets: Target[];
  /** Each action runs in a fresh directory below this one. */
  workDir: string;
  killGraceMs: number;
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
    if (request.kind === 'deploy') {
      return {
        ok: false,
        cancelled: false,
        exitCode: null,
        message: 'deploy steps need package acquisition, which this agent does not have yet',
      };
    }
    this.runningActions++;
    try {
      const executor = this.executors.reduce((a, b) => (b.load < a.load ? b : a));
      const r = await executor.run(
        request.actionId,
        {
          script: request.script,
          cwd: request.cwd ?? join(this.opts.workDir, request.actionId),
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
    } finally {
      this.runningActions--;
    }
  }

  close(): void {
    for (const executor of this.executors) executor.close();
  }
}
