// Events (transitions and log lines) go to the store in small batches, and
// listeners in this process (SSE streams) hear of each batch at once. A batch
// is at most a few milliseconds old, so a crash loses at most that much log.
import { EventEmitter } from 'node:events';
import type { NewEvent, Store } from '../store/types.ts';

const FLUSH_MS = 20;
const MAX_BATCH = 500;
/** The emitter's name for whole batches; deployment ids start with dep_, so it cannot clash. */
const BATCH = Symbol('batch');

export class EventLog {
  private buffer: NewEvent[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private readonly emitter = new EventEmitter();

  private readonly store: Store;
  private readonly onError: (err: unknown) => void;

  constructor(store: Store, onError: (err: unknown) => void) {
    this.store = store;
    this.onError = onError;
    this.emitter.setMaxListeners(0);
  }

  emit(event: NewEvent): void {
    this.buffer.push({ ...event, at: event.at ?? Date.now() });
    if (this.buffer.length >= MAX_BATCH) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  /** Writes what is buffered; resolves when it is in the store. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.buffer;
    this.buffer = [];
    this.flushing = this.flushing.then(async () => {
      if (batch.length === 0) return;
      try {
        await this.store.appendEvents(batch);
      } catch (err) {
        this.onError(err);
      }
      this.tell(batch);
    });
    return this.flushing;
  }

  /** Tells this process's listeners of events the store wrote by itself (see Store.recoverTasks). */
  written(events: NewEvent[]): void {
    const at = Date.now();
    this.flushing = this.flushing.then(() => this.tell(events.map((e) => ({ ...e, at: e.at ?? at }))));
  }

  private tell(batch: NewEvent[]): void {
    for (const id of new Set(batch.map((e) => e.deploymentId))) this.emitter.emit(id);
    this.emitter.emit(BATCH, batch);
  }

  /** Calls `listener` with every batch once it is written (the check-run reporter); returns the unsubscribe. */
  onBatch(listener: (batch: readonly NewEvent[]) => void): () => void {
    this.emitter.on(BATCH, listener);
    return () => this.emitter.off(BATCH, listener);
  }

  /** Calls `listener` after events of the deployment were written; returns the unsubscribe. */
  subscribe(deploymentId: string, listener: () => void): () => void {
    this.emitter.on(deploymentId, listener);
    return () => this.emitter.off(deploymentId, listener);
  }
}
