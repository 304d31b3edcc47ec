// A test's scratch area for scripts: a records file, a gate file that holds
// scripts until the test opens it, a file where every script writes its pid
// (its process group, since each action runs in its own group), and an
// output directory. Its paths reach the scripts as plan variables.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type RecordLine, readRecords } from './records.ts';
import { processAlive, tempDir } from './util.ts';

export class Workspace {
  readonly dir: string;
  readonly rec: string;
  readonly gate: string;
  readonly pids: string;
  readonly out: string;

  constructor(dir = tempDir('flotilla-ws-')) {
    this.dir = dir;
    this.rec = join(dir, 'records.txt');
    this.gate = join(dir, 'gate');
    this.pids = join(dir, 'pids.txt');
    this.out = join(dir, 'out');
    mkdirSync(this.out, { recursive: true });
  }

  /** Plan variables that the script prelude uses. */
  variables(): Record<string, string> {
    return { REC: this.rec, GATE: this.gate, PIDS: this.pids, OUT: this.out };
  }

  /** Lets every script waiting in `gate` go on. */
  open(): void {
    writeFileSync(this.gate, 'open\n');
  }

  get isOpen(): boolean {
    return existsSync(this.gate);
  }

  records(): RecordLine[] {
    return readRecords(this.rec);
  }

  starts(): RecordLine[] {
    return this.records().filter((r) => r.kind === 'start');
  }

  scriptPids(): number[] {
    try {
      return readFileSync(this.pids, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map(Number)
        .filter((n) => Number.isSafeInteger(n) && n > 1);
    } catch {
      return [];
    }
  }

  /** SIGKILL to the process group of every script that ran here (cleanup). */
  killScripts(): void {
    for (const pid of this.scriptPids()) {
      if (!processAlive(pid)) continue;
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {}
    }
  }
}

const workspaces: Workspace[] = [];

export function workspace(): Workspace {
  const ws = new Workspace();
  workspaces.push(ws);
  return ws;
}

/** Opens every gate and kills every script still running: call in afterEach before stopping agents. */
export function releaseWorkspaces(): void {
  for (const ws of workspaces.splice(0)) {
    ws.open();
    ws.killScripts();
  }
}

export interface ScriptOptions {
  /** Interpolation text of the concurrency tag recorded with each line (the plan's concurrency.tag). */
  tag?: string;
  /** Wait for the gate before the body. */
  gated?: boolean;
}

/**
 * A step script: records `start` when it begins and `end` when it exits (also
 * on failure), optionally waits for the gate, then runs `body`.
 */
export function script(body: string, opts: ScriptOptions = {}): string {
  const tag = opts.tag ?? '#{tenant}/#{project}/#{environment}';
  return [
    'echo $$ >> "$PIDS"',
    `rec() { echo "$1 $FLOTILLA_TASK_ID ${tag} \${FLOTILLA_TARGET:--} $FLOTILLA_STEP $(date +%s%N)" >> "$REC"; }`,
    'gate() { while [ ! -e "$GATE" ]; do sleep 0.05; done; }',
    'rec start',
    "trap 'rec end' EXIT",
    opts.gated ? 'gate' : '',
    body,
  ]
    .filter(Boolean)
    .join('\n');
}
