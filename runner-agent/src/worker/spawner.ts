// The executor: a small child process of the agent that starts action scripts.
// Starting a process copies the parent's page tables, so a fork from the
// agent (with its heap, store and server) costs several times more than one
// from this process, and would stall the agent's event loop; here it runs on
// another core. It imports nothing but node:* modules and process.ts.
//
// Protocol (IPC messages, each an array of these, sent once per turn of the
// sender's event loop): in  { op: 'run', id, run: ScriptRunSpec } | { op: 'cancel', id }
//                       out { op: 'line', id, stream, line } | { op: 'done', id, result }
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { runScript, type ScriptResult, type ScriptRun } from './process.ts';

export interface ScriptRunSpec {
  script: string;
  /** Where the script runs (made when missing); with `scratch`, the directory to take a scratch directory in. */
  cwd: string;
  /** The script runs in an empty directory of its own under cwd, which nothing else uses while it runs. */
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
  // Scripts that end (or print) in one turn of the loop are told in one
  // message: each message wakes the agent.
  let outbox: FromExecutor[] = [];
  const post = (msg: FromExecutor) => {
    if (outbox.length === 0)
      setImmediate(() => {
        const batch = outbox;
        outbox = [];
        // After the agent is gone there is no one to tell (see 'disconnect').
        if (process.connected) send(batch);
      });
    outbox.push(msg);
  };
  const running = new Map<string, AbortController>();
  const handle = (msg: ToExecutor) => {
    if (msg.op === 'cancel') {
      running.get(msg.id)?.abort();
      return;
    }
    const abort = new AbortController();
    running.set(msg.id, abort);
    const onLine = (stream: 'stdout' | 'stderr', line: string) =>
      post({ op: 'line', id: msg.id, stream, line });
    void run(msg.run, abort.signal, onLine).then((result) => {
      running.delete(msg.id);
      post({ op: 'done', id: msg.id, result });
    });
  };
  process.on('message', (batch: ToExecutor[]) => {
    for (const msg of batch) handle(msg);
  });
  // The agent is gone (even by kill -9): nothing may keep running in its name.
  // Aborting stops every script (SIGTERM, then SIGKILL); this process exits
  // when the last one has.
  process.on('disconnect', () => {
    for (const abort of running.values()) abort.abort();
    for (const dir of [...spares.values()].flat()) rmSync(dir, { recursive: true, force: true });
  });
}

// Scratch directories are reused. Making a directory costs the file system a
// new inode and a journal entry (about 0.2 ms on ext4, on this event loop);
// finding one empty costs one read of it. A directory its script left empty,
// with its mode as made, serves a later action; any other is removed. The
// spares (by parent directory) are removed when this process is done.
const spares = new Map<string, string[]>();
let madeMode: number | undefined;
let made = 0;

async function run(
  spec: ScriptRunSpec,
  signal: AbortSignal,
  onLine: ScriptRun['onLine'],
): Promise<ScriptResult> {
  let cwd: string;
  try {
    cwd = spec.scratch ? takeScratch(spec.cwd) : spec.cwd;
    if (!spec.scratch) await makeProjectDir(cwd);
  } catch (err) {
    return cannotMake(spec.cwd, err);
  }
  try {
    const result = await runScript({ ...spec, cwd, signal, onLine });
    // Bash could not start: perhaps in a directory removed since it was made.
    if (spec.scratch || result.reason !== 'spawn failed' || !madeDirs.delete(cwd)) return result;
    try {
      await makeProjectDir(cwd);
    } catch (err) {
      return cannotMake(spec.cwd, err);
    }
    return await runScript({ ...spec, cwd, signal, onLine });
  } finally {
    if (spec.scratch) await giveBackScratch(cwd);
  }
}

function cannotMake(dir: string, err: unknown): ScriptResult {
  const message = `cannot create the working directory under ${dir}: ${(err as Error).message}`;
  return { exitCode: null, reason: 'spawn failed', message };
}

// Project directories this process made or found. A missing one is made off
// the event loop: right after mass deletions ext4 takes a millisecond or more
// to make one (it passes over recently freed inodes), and a first deployment
// of many tenants makes hundreds, which on this loop would hold back every
// other action's start and output. One that is there is found with one quick
// system call, without the thread pool's two wake-ups; once known, none.
const madeDirs = new Set<string>();

async function makeProjectDir(dir: string): Promise<void> {
  if (madeDirs.has(dir)) return;
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) await mkdir(dir, { recursive: true });
  madeDirs.add(dir);
}

function takeScratch(parent: string): string {
  const spare = spares.get(parent)?.pop();
  if (spare) return spare;
  mkdirSync(parent, { recursive: true });
  const dir = join(parent, `scratch-${process.pid}-${++made}`);
  mkdirSync(dir);
  madeMode ??= statSync(dir).mode;
  return dir;
}

async function giveBackScratch(dir: string): Promise<void> {
  try {
    if (readdirSync(dir).length === 0 && statSync(dir).mode === madeMode) {
      const parent = dirname(dir);
      const list = spares.get(parent) ?? [];
      list.push(dir);
      spares.set(parent, list);
      return;
    }
  } catch {}
  // What the script left: the whole tree, off the event loop.
  await rm(dir, { recursive: true, force: true }).catch(() => {});
}
