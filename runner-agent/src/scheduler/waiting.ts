// Why each queued task waits (design rule 7), in words a person can act on.
// Computed from the store's state when asked, so it is never stale.
import { formatMs } from '../duration.ts';
import type { NodeRow, TaskRow } from '../store/types.ts';

/** A task about to be claimed: a node has a free slot. */
export const STARTING = 'starting: a node has a free slot';

export interface WaitingInput {
  queued: TaskRow[];
  running: TaskRow[];
  /** Live nodes only. */
  nodes: NodeRow[];
  maxRunningOf: (deploymentId: string) => number;
  /**
   * When given, a held tag's reason says how long its holder has run. An
   * announcement leaves it out: the reason would change every second, and a
   * follower would print it again each time.
   */
  now?: number;
}

export function waitingReasons(input: WaitingInput): Map<string, string> {
  const reasons = new Map<string, string>();
  const holder = new Map(input.running.map((t) => [t.concurrencyTag, t]));
  const runningPerDeployment = new Map<string, number>();
  for (const t of input.running)
    runningPerDeployment.set(t.deploymentId, (runningPerDeployment.get(t.deploymentId) ?? 0) + 1);
  const headOfTag = new Map<string, TaskRow>();
  const capReason = nodeCapReason(input.nodes);

  for (const task of input.queued) {
    const held = holder.get(task.concurrencyTag);
    const ahead = headOfTag.get(task.concurrencyTag);
    const max = input.maxRunningOf(task.deploymentId);
    const runningHere = runningPerDeployment.get(task.deploymentId) ?? 0;
    let reason: string;
    if (held) {
      const since =
        held.startedAt && input.now !== undefined
          ? `, running ${formatMs(Math.max(0, input.now - held.startedAt))}`
          : '';
      reason = `concurrency tag ${task.concurrencyTag} held by task ${held.id} (deployment ${held.deploymentId}${since})`;
    } else if (ahead) {
      reason = `concurrency tag ${task.concurrencyTag}: behind task ${ahead.id} (deployment ${ahead.deploymentId}), which was submitted first`;
    } else if (max > 0 && runningHere >= max) {
      reason = `deployment ${task.deploymentId} runs ${runningHere} of maxRunningTasks ${max}`;
    } else {
      reason = capReason;
    }
    if (!headOfTag.has(task.concurrencyTag)) headOfTag.set(task.concurrencyTag, task);
    reasons.set(task.id, reason);
  }
  return reasons;
}

function nodeCapReason(nodes: NodeRow[]): string {
  if (nodes.length === 0) return 'no node is running: start an agent (flotilla agent)';
  const open = nodes.filter((n) => n.taskCap > 0);
  if (open.length === 0) {
    return nodes.length === 1
      ? `node ${nodes[0]!.name} is draining (task cap 0); resume it with flotilla resume ${nodes[0]!.name}`
      : `every node is draining (task cap 0): ${nodes.map((n) => n.name).join(', ')}`;
  }
  const full = open.filter((n) => n.running >= n.taskCap);
  if (full.length === open.length) {
    return `task cap: ${full.map((n) => `node ${n.name} runs ${n.running} of ${n.taskCap}`).join('; ')}`;
  }
  return STARTING;
}
