// This node's side of the per-target mutex (design rule 3): which of its
// tasks holds each target, and which of its actions wait for one, in the
// order they came. The store keeps the lock rows; when an action here lets
// go of a target another action here waits for, the target passes straight
// to that one and its row is handed over with the end's write, never free in
// between: no other node takes it meanwhile, the waiter starts once that
// write is in without asking the store itself, and an action arriving later
// cannot take it first: first come, first served, as in the ideal schedule
// of the makespan benchmark, which took about 5% longer when made to wake
// every waiter a moment after a release and let newcomers go first (as the
// agent did before; three alternations).

import type { LockHolder } from '../store/types.ts';

/** A target passing to an action waiting for it; `passed` once its lock row is the action's. */
export interface Handoff extends LockHolder {
  passed: () => void;
}

/** How a wait for a target ended: handed over (it is the waiter's now), free to take from the store, or cancelled. */
export type Turn = 'handed' | 'free' | 'cancelled';

interface Waiter {
  taskId: string;
  actionId: string;
  wake: (turn: Turn) => void;
  /** The target passed to another task, which it now waits behind. */
  onHolder: (taskId: string) => void;
}

export class TargetHolds {
  private readonly holders = new Map<string, string>();
  private readonly queues = new Map<string, Waiter[]>();

  /** The task of this node holding the target, if one does. */
  holder(target: string): string | undefined {
    return this.holders.get(target);
  }

  /** The store gave the target's lock to the task. */
  hold(target: string, taskId: string): void {
    this.holders.set(target, taskId);
  }

  /**
   * Waits in line behind the target's holder here (call it only while a task
   * here holds the target); `onHolder` hears of each new holder meanwhile.
   */
  waitTurn(
    target: string,
    taskId: string,
    actionId: string,
    signal: AbortSignal,
    onHolder: (taskId: string) => void,
  ): Promise<Turn> {
    if (signal.aborted) return Promise.resolve('cancelled');
    return new Promise((resolve) => {
      const queue = this.queues.get(target) ?? [];
      this.queues.set(target, queue);
      const onAbort = () => {
        const i = queue.indexOf(waiter);
        // Already handed the target: it goes on, and ends as its task is cancelled, letting go of it.
        if (i < 0) return;
        queue.splice(i, 1);
        resolve('cancelled');
      };
      const waiter: Waiter = {
        taskId,
        actionId,
        onHolder,
        wake: (turn) => {
          signal.removeEventListener('abort', onAbort);
          resolve(turn);
        },
      };
      signal.addEventListener('abort', onAbort, { once: true });
      queue.push(waiter);
    });
  }

  /**
   * The task is done with the target and the first action waiting for it
   * here, if any, gets it: returned, for the caller to pass it the lock row
   * and then call `passed`, which lets the action go on (its script does
   * not run before the row is its own). With no one waiting, the task keeps
   * the target (see release).
   */
  handOver(target: string, taskId: string): Handoff | null {
    if (this.holders.get(target) !== taskId) return null;
    const queue = this.queues.get(target);
    const next = queue?.shift();
    if (!next) return null;
    if (queue!.length === 0) this.queues.delete(target);
    this.holders.set(target, next.taskId);
    for (const w of queue!) w.onHolder(next.taskId);
    return { taskId: next.taskId, actionId: next.actionId, passed: () => next.wake('handed') };
  }

  /** The task lets go of the target: it is free here, and whoever waits for it tries the store. */
  release(target: string, taskId: string): void {
    if (this.holders.get(target) !== taskId) return;
    this.holders.delete(target);
    const queue = this.queues.get(target) ?? [];
    this.queues.delete(target);
    for (const w of queue) w.wake('free');
  }
}
