// Worker steps run in scratch directories: a real executor process running
// real bash. Each action gets an empty directory of its own under the work
// dir; one its script left empty serves a later action, one it left files in
// is removed; none remains once the executor is done. Target actions run in
// their target directory, made when missing, even when removed since the last.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Executor } from '../../runner-agent/src/worker/executor.ts';
import { waitFor } from '../helpers/util.ts';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function setup() {
  const workDir = join(mkdtempSync(join(tmpdir(), 'flotilla-scratch-')), 'work');
  const executor = new Executor();
  cleanups.push(() => {
    executor.close();
    rmSync(join(workDir, '..'), { recursive: true, force: true });
  });
  let n = 0;
  const run = async (script: string) => {
    const lines: string[] = [];
    const r = await executor.run(
      `act_${++n}`,
      { script, cwd: workDir, scratch: true, env: {}, timeoutMs: 10_000, killGraceMs: 1000 },
      new AbortController().signal,
      (_stream, line) => lines.push(line),
    );
    expect(r).toMatchObject({ reason: 'exited', exitCode: 0 });
    return lines;
  };
  return { workDir, executor, run };
}

describe('scratch directories', () => {
  it('gives each action an empty directory of its own and removes what a script left', async () => {
    const { workDir, run } = setup();
    const [first, firstListing] = await run('pwd; ls -A | wc -l');
    expect(first!.startsWith(`${workDir}/`)).toBe(true);
    expect(firstListing).toBe('0');

    // Left empty: the same directory serves the next action.
    const [second] = await run('pwd');
    expect(second).toBe(first);

    // Left with files: removed, and the next action starts empty elsewhere.
    const [dirty] = await run('pwd; echo left > file.txt; mkdir -p sub/dir; touch sub/dir/x');
    expect(existsSync(dirty!)).toBe(false);
    const [next, nextListing] = await run('pwd; ls -A | wc -l');
    expect(next).not.toBe(dirty);
    expect(nextListing).toBe('0');

    // A script that changed its directory's mode does not hand it on either.
    const [chmodded] = await run('pwd; chmod 700 .');
    const [after] = await run('pwd');
    expect(after).not.toBe(chmodded);
    expect(existsSync(chmodded!)).toBe(false);
  });

  it('never gives one directory to two actions at once; none remains when the executor is done', async () => {
    const { workDir, executor, run } = setup();
    const dirs = await Promise.all(Array.from({ length: 6 }, () => run('sleep 0.2; pwd')));
    expect(new Set(dirs.map(([d]) => d)).size).toBe(6);
    expect(readdirSync(workDir)).toHaveLength(6);
    executor.close();
    await waitFor('the spare directories to be removed', () => readdirSync(workDir).length === 0);
  });
});

describe('target working directories', () => {
  it('makes a missing one, and makes it again when it was removed between two actions', async () => {
    const { workDir, executor } = setup();
    const cwd = join(workDir, 'targets', 'web-1', 'acme', 'shop');
    const run = async (id: string) => {
      const lines: string[] = [];
      const r = await executor.run(
        id,
        { script: 'pwd', cwd, scratch: false, env: {}, timeoutMs: 10_000, killGraceMs: 1000 },
        new AbortController().signal,
        (_stream, line) => lines.push(line),
      );
      return { ...r, lines };
    };
    expect(await run('act_1')).toMatchObject({ reason: 'exited', exitCode: 0, lines: [cwd] });
    rmSync(join(workDir, 'targets'), { recursive: true });
    expect(await run('act_2')).toMatchObject({ reason: 'exited', exitCode: 0, lines: [cwd] });
    expect(existsSync(cwd)).toBe(true);
  });
});
