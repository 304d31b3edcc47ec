// The executor: a small child process of the agent that starts action scripts.
// Starting a process copies the parent's page tables, so a fork from the
// agent (with its heap, store and server) costs several times more than one
// from this process, and would stall the agent's event loop; here it runs on
// another core. It imports nothing but node:* modules and process.ts.
//
// Protocol (IPC messages): in  { op: 'run', id, run: ScriptRunSpec } | { op: 'cancel', id }
//                          out { op: 'line', id, stream, line } | { op: 'done', id, result }
import { mkdirSync, rmdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { runScript, type ScriptResult, type ScriptRun } from './process.ts';

export interface ScriptRunSpec {
  script: string;
  cwd: string;
  /** cwd (always made when missing) is the action's own scratch directory, removed after. */
  scratch: boolean;
  env: Record<string, string>;
  timeoutMs: number;
  killGraceMs: number;
}

export type ToExecutor = { op: 'run'; id: string; run: ScriptRunSpec } | { op: 'cancel'; id: string };
export type FromExecutor =
  | { op: 'line'; id: string; stream: 'stdout' | 'stderr'; line: string }
  | { op: 'done'; id: string; result: ScriptResult };

if (process.send) {
  const send = process.send.bind(process);
  const running = new Map<string, AbortController>();
  process.on('message', (msg: ToExecutor) => {
    if (msg.op === 'cancel') {
      running.get(msg.id)?.abort();
      return;
    }
    const abort = new AbortController();
    running.set(msg.id, abort);
    const onLine = (stream: 'stdout' | 'stderr', line: string) =>
      send({ op: 'line', id: msg.id, stream, line } satisfies FromExecutor);
    void run(msg.run, abort.signal, onLine).then((result) => {
      running.delete(msg.id);
      send({ op: 'done', id: msg.id, result } satisfies FromExecutor);
    });
  });
  // The agent is gone (even by kill -9): nothing may keep running in its name.
  // Aborting stops every script (SIGTERM, then SIGKILL); this process exits
  // when the last one has.
  process.on('disconnect', () => {
    for (const abort of running.values()) abort.abort();
  });
}

// A scratch directory costs one system call each way when its parent exists
// and the script left it empty (the common case), made and removed here on
// the event loop: a trip through libuv's thread pool would cost more than the
// call itself.
async function run(
  spec: ScriptRunSpec,
  signal: AbortSignal,
  onLine: ScriptRun['onLine'],
): Promise<ScriptResult> {
  try {
    makeDir(spec.cwd);
  } catch (err) {
    const message = `cannot create the working directory ${spec.cwd}: ${(err as Error).message}`;
    return { exitCode: null, reason: 'spawn failed', message };
  }
  try {
    return await runScript({ ...spec, signal, onLine });
  } finally {
    if (spec.scratch) await removeDir(spec.cwd);
  }
}

function makeDir(dir: string): void {
  try {
    mkdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    if (code !== 'ENOENT') throw err;
    mkdirSync(dir, { recursive: true });
  }
}

async function removeDir(dir: string): Promise<void> {
  try {
    rmdirSync(dir);
  } catch {
    // Not empty (or already gone): the whole tree, off the event loop.
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}
