// Wake-ups of waiting actions: a target's release wakes only that target's
// waiters, and a release made while a waiter was trying is not missed.
import { describe, expect, it } from 'vitest';
import { Wakeups } from '../../runner-agent/src/scheduler/wakeups.ts';

const never = new AbortController().signal;

describe('Wakeups', () => {
  it("wakes only the released target's waiters", async () => {
    const w = new Wakeups();
    const woke: string[] = [];
    const a = w.after(w.seen('web-1'), 60_000, never, 'web-1').then(() => woke.push('web-1'));
    const b = w.after(w.seen('web-2'), 300, never, 'web-2').then(() => woke.push('web-2'));
    w.notify('web-1');
    await a;
    expect(woke).toEqual(['web-1']);
    // web-2's waiter only gives up at its poll interval.
    await b;
    expect(woke).toEqual(['web-1', 'web-2']);
  });

  it('resolves at once for a release made after the count was taken', async () => {
    const w = new Wakeups();
    const seen = w.seen('web-1');
    w.notify('web-1');
    w.notify('web-2');
    const t0 = performance.now();
    await w.after(seen, 60_000, never, 'web-1');
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(w.seen('web-1')).toBe(1);
    expect(w.seen('web-2')).toBe(1);
    expect(w.seen()).toBe(0);
  });

  it('resolves when the signal aborts', async () => {
    const w = new Wakeups();
    const abort = new AbortController();
    const p = w.after(w.seen('web-1'), 60_000, abort.signal, 'web-1');
    abort.abort();
    await p;
  });
});
