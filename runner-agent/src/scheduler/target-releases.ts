// Wake-ups for actions waiting on a target's mutex. Releases are counted, so a
// waiter notes the count before it tries the lock and cannot miss a release
// that happens while its attempt is in flight (the store commits in groups).
import { EventEmitter } from 'node:events';

export class TargetReleases {
  private count = 0;
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  /** Releases so far; pass it to `after` once the lock attempt failed. */
  get seen(): number {
    return this.count;
  }

  notify(): void {
    this.count++;
    this.emitter.emit('released');
  }

  /**
   * Resolves once there was a release after `seen`, after `pollMs` (another
   * node's release is not announced here) or when `signal` aborts.
   */
  after(seen: number, pollMs: number, signal: AbortSignal): Promise<void> {
    if (this.count > seen || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.emitter.off('released', done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, pollMs);
      this.emitter.on('released', done);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
