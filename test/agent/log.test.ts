// The agent's log on a terminal: each of pino's JSON lines (real ones, from
// pino itself) read as one line a person can scan.
import pino from 'pino';
import { expect, it } from 'vitest';
import { readable } from '../../runner-agent/src/cli/log.ts';

function logged(write: (log: pino.Logger) => void): string {
  const lines: string[] = [];
  write(pino({ level: 'info' }, { write: (line: string) => lines.push(line) }));
  expect(lines).toHaveLength(1);
  return readable(lines[0]!);
}

it('says the time, the level, the message and the fields, without pid and host', () => {
  const line = logged((log) => log.info({ url: 'http://127.0.0.1:8420', taskCap: 5 }, 'agent ready'));
  expect(line).toMatch(/^\d\d:\d\d:\d\d INFO agent ready url=http:\/\/127\.0\.0\.1:8420 taskCap=5\n$/);
});

it("gives an error's message, not its stack", () => {
  const line = logged((log) => log.error({ err: new Error('disk full'), task: 'tsk_1' }, 'task failed'));
  expect(line).toMatch(/ ERROR task failed task=tsk_1 error=disk full\n$/);
  expect(line).not.toContain('    at ');
  // Some callers log the message alone.
  expect(logged((log) => log.warn({ err: 'ECONNREFUSED' }, 'coordinator unreachable'))).toMatch(
    / WARN coordinator unreachable error=ECONNREFUSED\n$/,
  );
});

it('writes objects in fields as JSON', () => {
  expect(logged((log) => log.info({ node: { name: 'n1', epoch: 2 } }, 'lease'))).toMatch(
    / INFO lease node=\{"name":"n1","epoch":2\}\n$/,
  );
});
