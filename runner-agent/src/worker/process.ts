// Runs one action's bash script as a child process in its own process group,
// so a timeout or a cancellation reaches everything the script started
// (SIGTERM to the group, then SIGKILL after a grace period).
import { spawn } from 'node:child_process';
import { formatMs } from '../duration.ts';

export interface ScriptRun {
  /** Bash script text. */
  script: string;
  cwd: string;
  /** Laid over this process's own environment (the worker's, e.g. the runner's PATH). */
  env: Record<string, string>;
  timeoutMs: number;
  killGraceMs: number;
  signal: AbortSignal;
  onLine: (stream: 'stdout' | 'stderr', line: string) => void;
}

export interface ScriptResult {
  exitCode: number | null;
  /** Why it ended, when it did not simply exit: a person reads this. */
  reason: 'exited' | 'timed out' | 'cancelled' | 'spawn failed';
  message: string;
}

const MAX_LINE = 16 * 1024;

/**
 * This process's environment, read once: process.env answers each variable
 * through a call into the runtime, and every script starts from all of them.
 * Only the executor runs scripts, and nothing changes its environment.
 */
const baseEnv = { ...process.env };

export function runScript(run: ScriptRun): Promise<ScriptResult> {
  return new Promise((resolve) => {
    if (run.signal.aborted) {
      resolve({ exitCode: null, reason: 'cancelled', message: 'cancelled before it started' });
      return;
    }
    // The same shell options as GitHub's `shell: bash`: fail on the first error, in pipes too.
    const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', run.script], {
      cwd: run.cwd,
      env: { ...baseEnv, ...run.env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let ended: 'timed out' | 'cancelled' | null = null;
    let killTimer: NodeJS.Timeout | undefined;
    const killGroup = (sig: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, sig);
      } catch {}
    };
    const stop = (why: 'timed out' | 'cancelled') => {
      if (ended) return;
      ended = why;
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), run.killGraceMs);
      killTimer.unref();
    };
    const timeout = setTimeout(() => stop('timed out'), run.timeoutMs);
    const onAbort = () => stop('cancelled');
    run.signal.addEventListener('abort', onAbort, { once: true });

    splitLines(child.stdout, (l) => run.onLine('stdout', l));
    splitLines(child.stderr, (l) => run.onLine('stderr', l));

    const finish = (result: ScriptResult) => {
      clearTimeout(timeout);
      run.signal.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      resolve(result);
    };
    child.on('error', (err) =>
      finish({ exitCode: null, reason: 'spawn failed', message: `could not start bash: ${err.message}` }),
    );
    // Processes the script left in the background die with it; otherwise they
    // would hold the output pipes open and the action would never end.
    child.on('exit', () => killGroup('SIGKILL'));
    child.on('close', (code, sig) => {
      if (ended === 'timed out') {
        finish({
          exitCode: code,
          reason: 'timed out',
          message: `timed out after ${formatMs(run.timeoutMs)}`,
        });
      } else if (ended === 'cancelled') {
        finish({ exitCode: code, reason: 'cancelled', message: 'cancelled' });
      } else {
        finish({
          exitCode: code,
          reason: 'exited',
          message: code === 0 ? 'exit code 0' : sig ? `killed by ${sig}` : `exit code ${code}`,
        });
      }
    });
  });
}

function splitLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    // A line without newline is cut, so one runaway line cannot grow without bound.
    while (partial.length > MAX_LINE) {
      parts.push(partial.slice(0, MAX_LINE));
      partial = partial.slice(MAX_LINE);
    }
    for (const p of parts) onLine(p.replace(/\r$/, ''));
  });
  stream.on('end', () => {
    if (partial) onLine(partial);
  });
}
