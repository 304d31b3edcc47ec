// sha256 of a stream, computed in a worker thread while the bytes stream to
// disk: hashing costs about as much CPU as receiving and writing together, so
// on a second core it runs alongside them instead of after each chunk, and
// the event loop never spends long in it. At most a few MiB wait for the
// hasher, so a fast feed cannot pile chunks up in memory.
import { Worker } from 'node:worker_threads';

const SOURCE = `
const { parentPort } = require('node:worker_threads');
const hash = require('node:crypto').createHash('sha256');
parentPort.on('message', (m) => {
  if (m === 'digest') return parentPort.postMessage({ digest: hash.digest('hex') });
  hash.update(new Uint8Array(m));
  parentPort.postMessage({ done: m.byteLength });
});`;

const BATCH = 1 << 20;
const MAX_IN_FLIGHT = 8 << 20;

export class Sha256Stream {
  // No flags of the process's own (--input-type=module would make SOURCE an ES module).
  private readonly worker = new Worker(SOURCE, { eval: true, execArgv: [] });
  private batch: Buffer[] = [];
  private batchBytes = 0;
  private inFlight = 0;
  private wake: (() => void) | null = null;
  private onDigest: { resolve: (hex: string) => void; reject: (err: Error) => void } | null = null;
  private failed: Error | null = null;

  constructor() {
    this.worker.on('message', (m: { done?: number; digest?: string }) => {
      if (m.digest !== undefined) return this.onDigest?.resolve(m.digest);
      this.inFlight -= m.done ?? 0;
      this.wake?.();
    });
    this.worker.on('error', (err) => {
      this.failed = err;
      this.wake?.();
      this.onDigest?.reject(err);
    });
    this.worker.unref();
  }

  /** Resolves once the chunk is queued; waits while too much is in flight. */
  async update(chunk: Buffer): Promise<void> {
    this.batch.push(chunk);
    this.batchBytes += chunk.length;
    if (this.batchBytes >= BATCH) this.send();
    while (this.inFlight > MAX_IN_FLIGHT && !this.failed) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = null;
    }
    if (this.failed) throw this.failed;
  }

  private send(): void {
    if (this.batchBytes === 0) return;
    // A copy the worker can own: the chunks may be views into pooled memory.
    const bytes = new Uint8Array(this.batchBytes);
    let at = 0;
    for (const c of this.batch) {
      bytes.set(c, at);
      at += c.length;
    }
    this.inFlight += bytes.byteLength;
    this.batch = [];
    this.batchBytes = 0;
    this.worker.postMessage(bytes.buffer, [bytes.buffer]);
  }

  /** The hex digest of everything given; ends the worker. */
  async digest(): Promise<string> {
    this.send();
    const hex = await new Promise<string>((resolve, reject) => {
      if (this.failed) return reject(this.failed);
      this.onDigest = { resolve, reject };
      // Held open for the answer: unreferenced, the thread would let a
      // process with nothing else to do exit before it.
      this.worker.ref();
      this.worker.postMessage('digest');
    });
    await this.close();
    return hex;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
