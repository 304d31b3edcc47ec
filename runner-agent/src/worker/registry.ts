// Every worker a coordinator can hand actions to: its own (local) and the
// remote ones that registered over HTTP. Picks the worker of each action
// (design: a worker step goes to a live worker of its pool, least busy first;
// a target step goes to the worker hosting the target), counts actions
// against each worker's cap, and declares silent remote workers lost.
import type { WorkerView } from '../../../src/client/types.ts';
import type { Target } from '../../../src/plan/index.ts';
import { Wakeups } from '../scheduler/wakeups.ts';
import type { Registration } from './protocol.ts';
import { RemoteWorker } from './remote.ts';
import type { Worker } from './types.ts';

export class RegistryError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** Where an action should run: a worker slot (call done() when the action ends), or why it waits. */
export type Placement = { worker: Worker; done: () => void } | { waitingOn: string };

export class WorkerRegistry {
  readonly local: Worker;
  private readonly localMax: number;
  private readonly leaseTtlMs: number;
  private readonly remotes = new Map<string, RemoteWorker>();
  /** Actions placed on each worker and not finished yet (the cap counts these). */
  private readonly busy = new Map<string, number>();
  /**
   * Starts at the clock, not at 0: registrations live in memory, and a worker
   * that outlived a coordinator restart still posts results under its old
   * epoch, which the new life must refuse rather than take as its own.
   */
  private epochs = Date.now();
  /** Counted, so a waiter cannot miss a change made while it looked. */
  private readonly changed = new Wakeups();
  private sweeper: NodeJS.Timeout | null = null;
  /**
   * Every hosted target, and its worker by name: made again only when a
   * worker registers, not looked through on every action (a task expands its
   * steps over all of them; 100 targets, 2,000 actions: 4% of the agent's CPU).
   */
  private inventory: { targets: readonly Target[]; hosts: Map<string, Worker> };

  constructor(opts: { local: Worker; localMaxActions?: number; leaseTtlMs: number }) {
    this.local = opts.local;
    this.localMax = opts.localMaxActions ?? Number.POSITIVE_INFINITY;
    this.leaseTtlMs = opts.leaseTtlMs;
    this.inventory = this.takeInventory();
  }

  private takeInventory(): WorkerRegistry['inventory'] {
    const hosts = new Map<string, Worker>();
    const targets: Target[] = [];
    for (const w of [this.local, ...this.remotes.values()]) {
      for (const t of w.targets) {
        targets.push(t);
        hosts.set(t.name, w);
      }
    }
    return { targets, hosts };
  }

  /** Checks for silent workers every second, so a lost one is noticed within leaseTtl + 1 s. */
  start(): void {
    this.sweeper = setInterval(() => this.sweep(), 1000);
    this.sweeper.unref();
  }

  stop(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    for (const w of this.remotes.values()) w.lose();
  }

  sweep(now = Date.now()): void {
    for (const w of this.remotes.values()) {
      if (w.online && !w.polling && now - w.lastSeen > this.leaseTtlMs) {
        w.lose();
        this.notify();
      }
    }
  }

  /**
   * Targets every known worker hosts, online or not (an offline worker's
   * actions wait for it). The same array until a worker registers.
   */
  targets(): readonly Target[] {
    return this.inventory.targets;
  }

  remote(name: string): RemoteWorker {
    const w = this.remotes.get(name);
    if (!w) throw new RegistryError(404, `worker ${name} is not registered here; register again`);
    return w;
  }

  register(reg: Registration): RemoteWorker {
    if (reg.name === this.local.name)
      throw new RegistryError(409, `worker name ${reg.name} is this coordinator's own worker`);
    const mine = new Set(reg.targets.map((t) => t.name));
    if (mine.size !== reg.targets.length)
      throw new RegistryError(400, `worker ${reg.name} lists a target name twice`);
    for (const w of [this.local, ...this.remotes.values()]) {
      if (w.name === reg.name) continue;
      const clash = w.targets.find((t) => mine.has(t.name));
      if (clash) throw new RegistryError(409, `target ${clash.name} is already hosted by worker ${w.name}`);
    }
    const epoch = ++this.epochs;
    const old = this.remotes.get(reg.name);
    // A restarted worker re-registers with the same name: its old life's
    // actions are lost, and its new description replaces the old one.
    old?.lose();
    const w = new RemoteWorker(reg, epoch, () => this.notify());
    this.remotes.set(reg.name, w);
    this.inventory = this.takeInventory();
    this.notify();
    return w;
  }

  private isOnline(w: Worker): boolean {
    return w === this.local || (w as RemoteWorker).online;
  }

  private isDraining(w: Worker): boolean {
    return w !== this.local && (w as RemoteWorker).draining;
  }

  private capOf(w: Worker): number {
    return w === this.local ? this.localMax : (w as RemoteWorker).maxActions;
  }

  private take(w: Worker): Placement {
    this.busy.set(w.name, (this.busy.get(w.name) ?? 0) + 1);
    let released = false;
    return {
      worker: w,
      done: () => {
        if (released) return;
        released = true;
        this.busy.set(w.name, (this.busy.get(w.name) ?? 1) - 1);
        this.notify();
      },
    };
  }

  hostOf(target: string): Worker | undefined {
    return this.inventory.hosts.get(target);
  }

  /** The workers hosting these targets that are online now. */
  hostsOf(targets: readonly string[]): Worker[] {
    const hosts = new Set<Worker>();
    for (const t of targets) {
      const w = this.hostOf(t);
      if (w && this.isOnline(w)) hosts.add(w);
    }
    return [...hosts];
  }

  /** A worker for an action now, or why there is none. */
  place(where: { target: string } | { pool: string }): Placement {
    if ('target' in where) {
      const w = this.hostOf(where.target);
      if (!w) return { waitingOn: `target ${where.target}: no worker hosts it any more` };
      if (!this.isOnline(w)) return { waitingOn: `target ${where.target}: worker ${w.name} is offline` };
      if (this.isDraining(w))
        return { waitingOn: `target ${where.target}: worker ${w.name} is draining (stopping)` };
      const cap = this.capOf(w);
      const n = this.busy.get(w.name) ?? 0;
      if (n >= cap) return { waitingOn: `worker ${w.name} runs ${n} of ${cap} actions (worker.maxActions)` };
      return this.take(w);
    }
    const members = [this.local, ...this.remotes.values()].filter((w) => w.pools.includes(where.pool));
    const live = members.filter((w) => this.isOnline(w));
    if (live.length === 0) {
      return {
        waitingOn: members.length
          ? `pool ${where.pool}: its workers (${members.map((w) => w.name).join(', ')}) are offline`
          : `pool ${where.pool}: no worker belongs to it`,
      };
    }
    const open = live.filter((w) => !this.isDraining(w));
    if (open.length === 0) {
      return {
        waitingOn: `pool ${where.pool}: its online workers (${live.map((w) => w.name).join(', ')}) are draining`,
      };
    }
    const free = open.filter((w) => (this.busy.get(w.name) ?? 0) < this.capOf(w));
    if (free.length === 0)
      return { waitingOn: `pool ${where.pool}: all ${open.length} online workers run their maxActions` };
    const least = free.reduce((a, b) =>
      (this.busy.get(b.name) ?? 0) < (this.busy.get(a.name) ?? 0) ? b : a,
    );
    return this.take(least);
  }

  /** Changes so far; pass it to `changes` once place() answered with a reason to wait. */
  get seen(): number {
    return this.changed.seen();
  }

  /** Resolves after a change since `seen` (a worker came, went or finished an action), or after `ms`. */
  changes(seen: number, ms: number, signal: AbortSignal): Promise<void> {
    return this.changed.after(seen, ms, signal);
  }

  private notify(): void {
    this.changed.notify();
  }

  list(): WorkerView[] {
    const view = (w: Worker, lastSeen: number): WorkerView => ({
      name: w.name,
      pools: w.pools,
      targets: w.targets.map((t) => ({
        name: t.name,
        roles: t.roles,
        host: t.host,
        tenants: t.tenants ?? null,
      })),
      state: !this.isOnline(w) ? 'offline' : this.isDraining(w) ? 'draining' : 'online',
      local: w === this.local,
      runningActions: w.runningActions,
      maxActions: Number.isFinite(this.capOf(w)) ? this.capOf(w) : null,
      lastHeartbeat: new Date(lastSeen).toISOString(),
    });
    return [
      view(this.local, Date.now()),
      ...[...this.remotes.values()].map((w) => view(w, w.polling ? Date.now() : w.lastSeen)),
    ];
  }
}
