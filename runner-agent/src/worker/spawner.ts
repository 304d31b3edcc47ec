// The executor: a small child process of the agent that starts action scripts.
// Starting a process copies the parent's page tables, so a fork from the
// agent (with its heap, store and server) costs several times more than one
// from this process, and would stall the agent's event loop; here it runs on
// another core. It imports nothing but node:* modules and process.ts.
//
// Protocol (IPC messages): in  { op: 'run', id, run: ScriptRunSpec } | { op: 'cancel', id }
//                          out { op: 'line', id, stream, line } | { op: 'done', id, result }
import { mkdir, rm } from 'node:fs/promises';
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

// The directory work runs on libuv's thread pool: starting processes blocks
// this event loop, and the two then overlap.
async function run(
  spec: ScriptRunSpec,
  signal: AbortSignal,
  onLine: ScriptRun['onLine'],
): Promise<ScriptResult> {
  try {
    await mkdir(spec.cwd, { recursive: true });
  } catch (err) {
    const message = `cannot create the working directory ${spec.cwd}: ${(err as Error).message}`;
    return { exitCode: null, reason: 'spawn failed', message };
  }
  try {
    return await runScript({ ...spec, signal, onLine });
  } finally {
    if (spec.scratch) await rm(spec.cwd, { recursive: true, force: true }).catch(() => {});
  }
}
