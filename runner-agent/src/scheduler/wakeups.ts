// Wake-ups for what waits on a change: an action on a target's mutex (keyed
// by the target, so a release wakes only that target's waiters, not every
// waiting action), a placement on the workers. Changes are counted, so a
// waiter notes the count before it tries and cannot miss a change that
// happens while its attempt is in flight (the store commits in groups).
import { EventEmitter } from 'node:events';

export class Wakeups {
  private readonly counts = new Map<string, number>();
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  /** Changes of `key` so far; pass it to `after` once the attempt failed. */
  seen(key = ''): number {
    return this.counts.get(key) ?? 0;
  }

  notify(key = ''): void {
    this.counts.set(key, this.seen(key) + 1);
    this.emitter.emit(key);
  }

  /**
   * Resolves once `key` changed after `seen`, after `pollMs` (another node's
   * change is not announced here) or when `signal` aborts.
   */
  after(seen: number, pollMs: number, signal: AbortSignal, key = ''): Promise<void> {
    if (this.seen(key) > seen || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.emitter.off(key, done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, pollMs);
      this.emitter.on(key, done);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
