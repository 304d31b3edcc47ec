// Checkpoints of the embedded store's write-ahead log, in a worker thread with
// its own connection. Left to itself, SQLite checkpoints in the commit that
// takes the log past 1,000 pages: on the event loop, with two fsyncs, which
// held up the dispatch of every task behind it (throughput benchmark, three
// alternated runs: dispatch p99 29-33 ms, against 17-19 ms without those
// checkpoints). Here a PASSIVE checkpoint, which writers never wait for, runs
// beside the event loop every CHECKPOINT_EVERY commits. Only a commit can
// start the log over, and only once every page in it is checkpointed, which
// under steady writes the thread never sees: so the event loop then
// checkpoints the few pages written meanwhile (catchUp), and the log stays
// short. The thread (about 20 MB) starts with the first checkpoint and ends
// after a while without one, so an idle agent carries none. Should it fail,
// SQLite checkpoints as by default again.
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { DatabaseSync } = require('node:sqlite');
const db = new DatabaseSync(workerData.file);
db.exec('PRAGMA busy_timeout = 5000');
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
parentPort.on('message', (m) => {
  if (m !== 'close') return parentPort.postMessage(checkpoint.get());
  db.close();
  parentPort.close();
});`;

/** Commits between checkpoints: at six or seven pages a commit (makespan benchmark), about SQLite's own 1,000 pages. */
export const CHECKPOINT_EVERY = 150;

export interface CheckpointerOptions {
  /**
   * Run on the event loop after each of the thread's checkpoints: checkpoints
   * the few pages written meanwhile, so that the next commit starts the log over.
   */
  catchUp: () => void;
  /** The thread failed; it is not started again. */
  onFail: (err: Error) => void;
  /** How long the thread stays without a checkpoint to run. */
  idleMs?: number;
}

export class WalCheckpointer {
  private worker: Worker | null = null;
  private commits = 0;
  private inFlight = false;
  private idleTimer: NodeJS.Timeout | null = null;
  private failed = false;
  private readonly file: string;
  private readonly opts: CheckpointerOptions;

  constructor(file: string, opts: CheckpointerOptions) {
    this.file = file;
    this.opts = opts;
  }

  /** Whether the thread is there now. */
  get running(): boolean {
    return this.worker !== null;
  }

  /** Called after each commit. */
  committed(): void {
    if (++this.commits >= CHECKPOINT_EVERY && !this.inFlight && !this.failed) this.checkpoint();
  }

  private checkpoint(): void {
    this.commits = 0;
    this.inFlight = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    (this.worker ?? this.start()).postMessage(null);
  }

  private start(): Worker {
    // No flags of the process's own (--input-type=module would make SOURCE an ES module).
    const worker = new Worker(SOURCE, { eval: true, execArgv: [], workerData: { file: this.file } });
    worker.unref();
    worker.on('message', () => {
      if (this.worker !== worker) return;
      this.inFlight = false;
      try {
        this.opts.catchUp();
      } catch (err) {
        return this.fail(err as Error);
      }
      if (this.commits >= CHECKPOINT_EVERY) return this.checkpoint();
      this.idleTimer = setTimeout(() => void this.stop(), this.opts.idleMs ?? 10_000);
      this.idleTimer.unref();
    });
    worker.on('error', (err) => this.fail(err));
    this.worker = worker;
    return worker;
  }

  private fail(err: Error): void {
    this.failed = true;
    void this.stop();
    this.opts.onFail(err);
  }

  /** Ends the thread after its connection closed (after a checkpoint it runs). */
  private async stop(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    this.inFlight = false;
    if (!worker) return;
    const exited = once(worker, 'exit');
    // Held open until then: closing the last connection checkpoints the log
    // whole, and a process about to exit would otherwise not wait for it.
    worker.ref();
    worker.postMessage('close');
    await exited;
  }

  async close(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    this.failed = true;
    await this.stop();
  }
}
