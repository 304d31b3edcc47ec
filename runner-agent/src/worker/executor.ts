// The agent's side of the executor process (spawner.ts): started on first
// use, stopped after a while without actions, so an idle agent carries no
// second process; restarted if it dies, failing what it was running.
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ScriptResult } from './process.ts';
import type { FromExecutor, ScriptRunSpec, ToExecutor } from './spawner.ts';

const IDLE_MS = 10_000;

/**
 * Flags for the executor's V8. After each fork, every change to the forking
 * process's page tables (code made executable, say) flushes the TLB of each
 * core its threads ran on; in a virtual machine that is dear. So the executor
 * runs without V8's background threads. It keeps V8's compilers: running its
 * few hot functions interpreted cost more than their compiling saves. Its own
 * CPU per script started, 2,000 `true` scripts 50 at a time, alternated three
 * times on a 2-core VM: 0.75-0.81 ms with --single-threaded alone; 0.96-1.02
 * ms also without the compilers (--no-opt --no-maglev --no-sparkplug);
 * 0.86-1.04 ms with no flags. A fork also copies the page table of every page
 * the process touched: young-generation semi-spaces of 1 MB instead of V8's
 * default leave fewer, and took the executor's CPU per script from 0.56-0.58
 * to 0.53 of the scripts' own (three alternations).
 */
export const EXECUTOR_V8_FLAGS = ['--single-threaded', '--max-semi-space-size=1'];

interface Pending {
  onLine: (stream: 'stdout' | 'stderr', line: string) => void;
  done: (r: ScriptResult) => void;
}

/** spawner.ts next to this file when run from source; dist/agent/spawner/index.js in the bundle. */
function spawnerPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const bundled = join(here, 'spawner', 'index.js');
  return existsSync(bundled) ? bundled : join(here, 'spawner.ts');
}

export class Executor {
  private child: ChildProcess | null = null;
  private readonly pending = new Map<string, Pending>();
  private outbox: ToExecutor[] = [];
  private idleTimer: NodeJS.Timeout | null = null;

  /** Scripts running in this executor now. */
  get load(): number {
    return this.pending.size;
  }

  /** Starts the executor process unless it is running. */
  private ensure(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    if (this.child) return;
    const child = fork(spawnerPath(), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: EXECUTOR_V8_FLAGS,
    });
    child.on('message', (batch: FromExecutor[]) => {
      for (const msg of batch) {
        const p = this.pending.get(msg.id);
        if (!p) continue;
        if (msg.op === 'line') p.onLine(msg.stream, msg.line);
        else {
          this.pending.delete(msg.id);
          p.done(msg.result);
          this.idleLater();
        }
      }
    });
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = null;
      for (const [id, p] of this.pending) {
        this.pending.delete(id);
        p.done({
          exitCode: null,
          reason: 'spawn failed',
          message: `the executor process ended (${signal ?? `exit code ${code}`})`,
        });
      }
    });
    this.child = child;
  }

  private idleLater(): void {
    if (this.pending.size > 0 || !this.child) return;
    this.idleTimer = setTimeout(() => void this.close(), IDLE_MS);
    this.idleTimer.unref();
  }

  run(
    id: string,
    spec: ScriptRunSpec,
    signal: AbortSignal,
    onLine: Pending['onLine'],
  ): Promise<ScriptResult> {
    return new Promise((resolve) => {
      if (signal.aborted)
        return resolve({ exitCode: null, reason: 'cancelled', message: 'cancelled before it started' });
      this.ensure();
      const onAbort = () => this.post({ op: 'cancel', id });
      signal.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        onLine,
        done: (r) => {
          signal.removeEventListener('abort', onAbort);
          resolve(r);
        },
      });
      this.post({ op: 'run', id, run: spec });
    });
  }

  /**
   * Messages go out once the current turn's work is done, in one write:
   * every message wakes the executor (a cross-core wake-up, dear in a
   * virtual machine), and actions often start several at a time.
   */
  private post(msg: ToExecutor): void {
    if (this.outbox.length === 0) process.nextTick(() => this.flush());
    this.outbox.push(msg);
  }

  private flush(): void {
    if (this.outbox.length === 0) return;
    const batch = this.outbox;
    this.outbox = [];
    this.child?.send(batch);
  }

  /**
   * Resolves once the helper is gone: it stops its scripts and removes its
   * scratch directories first, so nothing it does outlives the agent's stop.
   */
  close(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    this.flush();
    const child = this.child;
    this.child = null;
    // An executor that exited is no longer this.child (see ensure).
    if (!child) return Promise.resolve();
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (child.connected) child.disconnect();
    return exited;
  }
}
