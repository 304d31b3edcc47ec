// This node's line for each target: who holds it, who waits, in what order,
// and what a cancellation does at each moment. A plain in-memory class; the
// store's side is in the conformance suite, the whole in target-mutex.test.ts.
import { expect, it } from 'vitest';
import { TargetHolds } from '../../runner-agent/src/scheduler/target-holds.ts';

it('hands a target to its waiters in the order they came, telling the others who holds it', async () => {
  const holds = new TargetHolds();
  holds.hold('web-1', 'tsk_a');
  const heard: string[] = [];
  const b = holds.waitTurn('web-1', 'tsk_b', 'act_b', new AbortController().signal, (h) =>
    heard.push(`b:${h}`),
  );
  const c = holds.waitTurn('web-1', 'tsk_c', 'act_c', new AbortController().signal, (h) =>
    heard.push(`c:${h}`),
  );

  const toB = holds.handOver('web-1', 'tsk_a')!;
  expect(toB).toMatchObject({ taskId: 'tsk_b', actionId: 'act_b' });
  expect(holds.holder('web-1')).toBe('tsk_b');
  expect(heard).toEqual(['c:tsk_b']);
  // Only the holder hands it over or lets it go.
  expect(holds.handOver('web-1', 'tsk_a')).toBeNull();
  holds.release('web-1', 'tsk_a');
  expect(holds.holder('web-1')).toBe('tsk_b');

  toB.passed();
  expect(await b).toBe('handed');
  const toC = holds.handOver('web-1', 'tsk_b')!;
  toC.passed();
  expect(await c).toBe('handed');
  // No one waits: the holder keeps it until it lets go.
  expect(holds.handOver('web-1', 'tsk_c')).toBeNull();
  expect(holds.holder('web-1')).toBe('tsk_c');
  holds.release('web-1', 'tsk_c');
  expect(holds.holder('web-1')).toBeUndefined();
});

it('a waiter cancelled in line leaves it; one already handed the target goes on', async () => {
  const holds = new TargetHolds();
  holds.hold('web-1', 'tsk_a');
  const bAbort = new AbortController();
  const cAbort = new AbortController();
  const b = holds.waitTurn('web-1', 'tsk_b', 'act_b', bAbort.signal, () => {});
  const c = holds.waitTurn('web-1', 'tsk_c', 'act_c', cAbort.signal, () => {});
  cAbort.abort();
  expect(await c).toBe('cancelled');

  const toB = holds.handOver('web-1', 'tsk_a')!;
  // Cancelled after it was chosen, before its row was passed: it still gets
  // the target, so that its end lets go of it.
  bAbort.abort();
  toB.passed();
  expect(await b).toBe('handed');
  expect(holds.holder('web-1')).toBe('tsk_b');
});

it('a target let go of is free here, and whoever waits for it tries the store', async () => {
  const holds = new TargetHolds();
  holds.hold('web-1', 'tsk_a');
  const b = holds.waitTurn('web-1', 'tsk_b', 'act_b', new AbortController().signal, () => {});
  const c = holds.waitTurn('web-1', 'tsk_c', 'act_c', new AbortController().signal, () => {});
  holds.release('web-1', 'tsk_a');
  expect(await Promise.all([b, c])).toEqual(['free', 'free']);
  expect(holds.holder('web-1')).toBeUndefined();
  const aborted = new AbortController();
  aborted.abort();
  expect(await holds.waitTurn('web-1', 'tsk_d', 'act_d', aborted.signal, () => {})).toBe('cancelled');
});
