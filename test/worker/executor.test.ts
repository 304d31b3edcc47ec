// The executor's protocol: messages go out in batches, one write per turn of
// the sender's loop. A real executor process running real bash: scripts
// started in one turn, and a cancel sent in the same batch as its run, each
// get their own lines, in order, and their own result. Its close waits for the
// process to be gone, so nothing it does outlives the agent's stop.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Executor } from '../../runner-agent/src/worker/executor.ts';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** An executor, and a directory to run in; both gone after the test. */
function started() {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-executor-'));
  const executor = new Executor();
  cleanups.push(() => {
    executor.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, executor };
}

describe('executor', () => {
  it('runs scripts started in one turn side by side, each with its own lines and result', async () => {
    const { dir, executor } = started();
    const spec = (script: string) => ({
      script,
      cwd: dir,
      scratch: false,
      env: {},
      timeoutMs: 10_000,
      killGraceMs: 1000,
    });
    const lines = new Map<string, string[]>();
    const run = (id: string, script: string, signal = new AbortController().signal) => {
      lines.set(id, []);
      return executor.run(id, spec(script), signal, (stream, line) =>
        lines.get(id)!.push(`${stream} ${line}`),
      );
    };

    const cancel = new AbortController();
    const results = Promise.all([
      ...Array.from({ length: 5 }, (_, i) =>
        run(`act_${i}`, `for n in 1 2 3; do echo "${i}.$n"; done; echo "${i} done" >&2; exit ${i}`),
      ),
      run('act_long', 'echo started; sleep 30', cancel.signal),
    ]);
    // In the same turn as its run: the cancel follows it in the same message.
    cancel.abort();
    const [r0, r1, r2, r3, r4, long] = await results;

    for (const [i, r] of [r0, r1, r2, r3, r4].entries()) {
      expect(r).toMatchObject({ reason: 'exited', exitCode: i });
      // In order within a stream; the two pipes are read side by side.
      const got = lines.get(`act_${i}`)!;
      expect(got.filter((l) => l.startsWith('stdout'))).toEqual([
        `stdout ${i}.1`,
        `stdout ${i}.2`,
        `stdout ${i}.3`,
      ]);
      expect(got.filter((l) => l.startsWith('stderr'))).toEqual([`stderr ${i} done`]);
    }
    expect(long).toMatchObject({ reason: 'cancelled' });
    expect(executor.load).toBe(0);
  });
  it('makes a missing project directory, and makes it again once someone removed it', async () => {
    const { dir, executor } = started();
    const project = join(dir, 't001', 'shop');
    const run = async () => {
      const lines: string[] = [];
      const r = await executor.run(
        'act_1',
        { script: 'pwd', cwd: project, scratch: false, env: {}, timeoutMs: 10_000, killGraceMs: 1000 },
        new AbortController().signal,
        (_, line) => lines.push(line),
      );
      return { ...r, lines };
    };
    expect(await run()).toMatchObject({ reason: 'exited', exitCode: 0, lines: [project] });
    // The executor remembers it made the directory: bash cannot start there now.
    rmSync(join(dir, 't001'), { recursive: true });
    expect(await run()).toMatchObject({ reason: 'exited', exitCode: 0, lines: [project] });
    expect(statSync(project).isDirectory()).toBe(true);
  });
  it('closes once the helper is gone, its spare scratch directories removed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-executor-'));
    const executor = new Executor();
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const r = await executor.run(
      'act_1',
      { script: 'true', cwd: dir, scratch: true, env: {}, timeoutMs: 10_000, killGraceMs: 1000 },
      new AbortController().signal,
      () => {},
    );
    expect(r).toMatchObject({ reason: 'exited', exitCode: 0 });
    // Left empty, its directory is kept for the next action...
    expect(readdirSync(dir)).toHaveLength(1);
    // ...and is gone by the time close resolves: a caller may remove the parent at once.
    await executor.close();
    expect(readdirSync(dir)).toEqual([]);
  });
});
