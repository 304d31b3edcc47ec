// Every malformed plan under test/fixtures/bad-plans is refused with the path,
// message and line its entry in expected.json names, quickly, through the same
// loadPlanFile the agent and the CLI use. Hostile documents too big to commit
// (50 MB, deep nesting) are generated into a temporary directory.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPlanFile } from '../../src/plan/index.ts';

const root = resolve(import.meta.dirname, '../..');
const dir = join(root, 'test/fixtures/bad-plans');

interface Expected {
  path: string;
  /** A substring of the message. */
  message: string;
  /** The line of the problem, null where the problem has no place in the text, 'any' when it varies. */
  line: number | null | 'any';
}

const expected: Record<string, Expected> = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));
const fixtures = readdirSync(dir)
  .filter((f) => f !== 'expected.json')
  .sort();

const tmp = mkdtempSync(join(tmpdir(), 'flotilla-bad-plans-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const header = 'version: 1\nproject: storefront\n';
const generated: Record<string, { text: () => string | Buffer } & Expected> = {
  // Just over 50 MB of otherwise plausible YAML: refused by size before it is read.
  'huge-50mb.yml': {
    text: () => {
      const line = `  V: "${'x'.repeat(1000)}"\n`;
      return `${header}variables:\n${line.repeat(Math.ceil((50 * 1024 * 1024) / line.length))}`;
    },
    path: '/',
    message: 'the limit is 1 MiB',
    line: null,
  },
  'deep-flow-100k.json': {
    text: () => `{"version":1,"steps":${'['.repeat(100_000)}${']'.repeat(100_000)}}`,
    path: '/',
    message: 'nests deeper than 64 levels',
    line: null,
  },
  'deep-flow-unclosed.yml': {
    text: () => `${header}steps: ${'{a: '.repeat(200_000)}`,
    path: '/',
    message: 'nests deeper than 64 levels',
    line: null,
  },
  // Nested block sequences on one line: each `- ` is a level, 300,000 of them.
  'deep-block-sequence.yml': {
    text: () => `${header}steps:\n  ${'- '.repeat(300_000)}x\n`,
    path: '/',
    message: 'nests deeper than 64 levels',
    line: 4,
  },
  // The parser's own recursion gives out somewhere in here, at a line that
  // depends on the stack size (with a larger stack, the depth check answers).
  'deep-block-mapping.yml': {
    text: () =>
      `${header}variables:\n${Array.from({ length: 1200 }, (_, i) => `${' '.repeat(i + 1)}k${i}:`).join('\n')} x\n`,
    path: '/',
    message: 'nests deeper than 64 levels',
    line: 'any',
  },
};

function checkIssues(name: string, result: Awaited<ReturnType<typeof loadPlanFile>>, want: Expected) {
  expect(result.ok, `${name} was accepted`).toBe(false);
  if (result.ok) return;
  const match = result.issues.find((i) => i.path === want.path && i.message.includes(want.message));
  expect(
    match,
    `${name}: no issue at ${want.path} containing "${want.message}" in ${JSON.stringify(result.issues)}`,
  ).toBeDefined();
  if (!match) return;
  if (want.line === null) {
    expect(match.line).toBeUndefined();
  } else if (want.line !== 'any') {
    expect(match.line).toBe(want.line);
    expect(match.column).toBeGreaterThanOrEqual(1);
  }
  // One issue, one line of output: a message never spans lines.
  for (const i of result.issues) expect(i.message).not.toMatch(/\n/);
}

describe('bad plans', () => {
  it('has at least 45 fixtures, each with an entry in expected.json and none without a file', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(45);
    expect(Object.keys(expected).sort()).toEqual(fixtures);
  });

  it('keeps committed fixtures small', () => {
    for (const f of fixtures) expect(readFileSync(join(dir, f)).length, f).toBeLessThan(16 * 1024);
  });

  for (const name of fixtures) {
    it(`refuses ${name}`, { timeout: 30_000 }, async () => {
      const want = expected[name];
      expect(want, `${name} has no entry in expected.json`).toBeDefined();
      checkIssues(name, await loadPlanFile(join(dir, name)), want!);
    });
  }

  for (const [name, gen] of Object.entries(generated)) {
    it(`refuses generated ${name}`, { timeout: 30_000 }, async () => {
      const file = join(tmp, name);
      writeFileSync(file, gen.text());
      checkIssues(name, await loadPlanFile(file), gen);
    });
  }

  it('reports a missing file rather than throwing', async () => {
    const r = await loadPlanFile(join(tmp, 'no-such-plan.yml'));
    expect(r).toEqual({
      ok: false,
      issues: [{ path: '/', message: expect.stringContaining('does not exist') }],
    });
  });
});

describe('flotilla validate on the bad plans', () => {
  it('exits 1 and names every fixture, with :line:col: where the problem has a line', {
    timeout: 30_000,
  }, async () => {
    const files = fixtures.map((f) => join('test/fixtures/bad-plans', f));
    const run = promisify(execFile);
    const result = await run(
      join(root, 'node_modules/.bin/node'),
      ['runner-agent/src/cli/main.ts', 'validate', ...files],
      { cwd: root, maxBuffer: 16 * 1024 * 1024 },
    ).then(
      (r) => ({ code: 0, stdout: r.stdout }),
      (err: { code: number; stdout: string }) => ({ code: err.code, stdout: err.stdout }),
    );
    expect(result.code).toBe(1);
    const lines = result.stdout.split('\n');
    for (const [i, f] of fixtures.entries()) {
      const want = expected[f]!;
      const file = files[i]!;
      const mine = lines.filter((l) => l.startsWith(`${file}:`));
      expect(mine.length, `${f} is missing from the output`).toBeGreaterThan(0);
      const located = `${file}:${want.line}:`;
      if (want.line !== null) {
        expect(
          mine.some((l) => l.startsWith(located) && /^[^:]+:\d+:\d+: /.test(l) && l.includes(want.message)),
          `${f}: no "${located}COL: … ${want.message}" in\n${mine.join('\n')}`,
        ).toBe(true);
      } else {
        expect(mine.some((l) => l.startsWith(`${file}: ${want.path}: `) && l.includes(want.message))).toBe(
          true,
        );
      }
      expect(mine.some((l) => l.includes(': ok ('))).toBe(false);
    }
    expect(result.stdout).toContain(`0 valid, ${fixtures.length} invalid`);
  });
});
