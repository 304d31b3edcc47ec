// The agent's own worker: runs actions on this machine.
import { mkdir, rm } from 'node:fs/promises';
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
  private readonly executor = new Executor();

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
    const cwd = request.cwd ?? join(this.opts.workDir, request.actionId);
    await mkdir(cwd, { recursive: true });
    this.runningActions++;
    try {
      const r = await this.executor.run(
        request.actionId,
        {
          script: request.script,
          cwd,
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
      if (!request.cwd) await rm(cwd, { recursive: true, force: true });
    }
  }

  close(): void {
    this.executor.close();
  }
}
