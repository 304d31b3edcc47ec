// The records checker must catch what it claims to catch, or the integration
// tests that rely on it prove nothing.
import { describe, expect, it } from 'vitest';
import { checkRecords, parseRecords } from './records.ts';

const lines = (...rows: [string, string, string, string, string, number][]) =>
  parseRecords(rows.map((r) => `${r[0]} ${r[1]} ${r[2]} ${r[3]} ${r[4]} ${r[5] * 1_000_000}`).join('\n'));

describe('checkRecords', () => {
  it('passes a schedule that keeps every rule', () => {
    const r = checkRecords(
      lines(
        ['start', 't1', 'x', 'web-1', 's', 0],
        ['end', 't1', 'x', 'web-1', 's', 10],
        ['start', 't2', 'x', 'web-1', 's', 11],
        ['end', 't2', 'x', 'web-1', 's', 20],
        ['start', 't3', 'y', '-', 's', 5],
        ['end', 't3', 'y', '-', 's', 15],
      ),
      { cap: 2, submissionOrder: ['t1', 't2', 't3'], window: 1 },
    );
    expect(r.violations).toEqual([]);
    expect(r.maxTasks).toBe(2);
  });

  it('reports too many tasks, a shared tag, a broken mutex, order and window', () => {
    const r = checkRecords(
      lines(
        ['start', 't1', 'x', 'web-1', 's', 0],
        ['start', 't2', 'x', 'web-1', 's', 1],
        ['start', 't3', 'y', '-', 's', 2],
        ['start', 't3', 'y', 'web-2', 's', 2],
        ['end', 't1', 'x', 'web-1', 's', 10],
        ['end', 't2', 'x', 'web-1', 's', 10],
        ['end', 't3', 'y', '-', 's', 10],
        ['end', 't3', 'y', 'web-2', 's', 10],
      ),
      { cap: 2, submissionOrder: ['t2', 't1', 't3'], window: 1 },
    );
    const text = r.violations.join('\n');
    expect(text).toContain('3 tasks ran at once; the cap is 2');
    expect(text).toContain('tag x: task t2 started');
    expect(text).toContain('target web-1');
    expect(text).toContain('tag x: tasks started in order t1, t2, submitted as t2, t1');
    expect(text).toContain('t3 s: 2 actions at once; the window is 1');
  });

  it('reports a start without an end unless told the run was killed', () => {
    const l = lines(['start', 't1', 'x', '-', 's', 0]);
    expect(checkRecords(l, { cap: 1 }).violations).toEqual(['unmatched start of task t1 - s']);
    expect(checkRecords(l, { cap: 1, complete: false }).violations).toEqual([]);
  });
});
