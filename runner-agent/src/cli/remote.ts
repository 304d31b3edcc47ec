// Commands that talk to a running agent over HTTP with the shared client.
import { AgentClient, type ClientOptions } from '../../../src/client/client.ts';
import { formatTable } from '../../../src/client/progress.ts';
import { followDeployment, type Out, type SubmitFlags, submitPlanFile } from './follow.ts';

export interface RemoteFlags {
  agent: string;
  /** The action passes a function: each request gets a fresh OIDC token. */
  token?: ClientOptions['token'];
  /** Where `agent` was set: the action's input, else the CLI's flag. */
  urlFrom?: string;
}

export const clientOf = (f: RemoteFlags) =>
  new AgentClient(f.agent, { token: f.token, urlFrom: f.urlFrom ?? '--agent (FLOTILLA_AGENT_URL)' });

export async function deployCommand(
  file: string,
  flags: RemoteFlags & SubmitFlags & { wait?: boolean },
  out: Out,
) {
  const client = clientOf(flags);
  const id = await submitPlanFile(client, file, flags, out);
  if (!id) return 1;
  if (!flags.wait) return 0;
  return (await followDeployment(client, id, out)) === 'succeeded' ? 0 : 1;
}

export async function statusCommand(deployment: string | undefined, flags: RemoteFlags, out: Out) {
  const client = clientOf(flags);
  if (deployment) {
    const d = await client.deployment(deployment);
    out.line(`deployment ${d.id} ${d.project} → ${d.environment} ${d.release}: ${d.state}`);
    const rows = [['TASK', 'TENANT', 'STATE', 'NODE', 'WAITING ON / MESSAGE']];
    for (const t of d.tasks)
      rows.push([t.id, t.tenant ?? '-', t.state, t.node ?? '-', t.waitingOn ?? t.message ?? '']);
    out.line(formatTable(rows));
    return 0;
  }
  const [nodes, workers, queue, deployments] = await Promise.all([
    client.nodes(),
    client.workers(),
    client.queue(),
    client.deployments(),
  ]);
  out.line('NODES');
  out.line(
    formatTable([
      ['NODE', 'CAP', 'RUNNING', 'STATE', 'LAST HEARTBEAT'],
      ...nodes.map((n) => [
        n.name,
        String(n.taskCap),
        String(n.running),
        n.live ? (n.draining ? 'draining' : 'ready') : 'offline',
        n.lastHeartbeat,
      ]),
    ]),
  );
  out.line('');
  out.line('WORKERS');
  out.line(
    formatTable([
      ['WORKER', 'STATE', 'ACTIONS', 'POOLS', 'TARGETS'],
      ...workers.map((w) => [
        w.local ? `${w.name} (own)` : w.name,
        w.state,
        w.maxActions === null ? String(w.runningActions) : `${w.runningActions}/${w.maxActions}`,
        w.pools.join(',') || '-',
        w.targets.map((t) => t.name).join(',') || '-',
      ]),
    ]),
  );
  out.line('');
  out.line(`QUEUE (${queue.length})`);
  if (queue.length) {
    out.line(
      formatTable([
        ['TASK', 'TENANT', 'DEPLOYMENT', 'WAITING ON'],
        ...queue.slice(0, 50).map((t) => [t.id, t.tenant ?? '-', t.deploymentId, t.waitingOn ?? '']),
      ]),
    );
  }
  out.line('');
  out.line('RECENT DEPLOYMENTS');
  out.line(
    formatTable([
      ['DEPLOYMENT', 'PROJECT', 'ENVIRONMENT', 'RELEASE', 'STATE', 'CREATED'],
      ...deployments
        .slice(0, 10)
        .map((d) => [d.id, d.project, d.environment, d.release, d.state, d.createdAt]),
    ]),
  );
  return 0;
}

export async function cancelCommand(deployment: string, flags: RemoteFlags, out: Out) {
  const r = await clientOf(flags).cancel(deployment);
  out.line(`deployment ${r.id}: ${r.state === 'cancelled' ? 'cancelled' : `cancelling (now ${r.state})`}`);
  return 0;
}

export async function drainCommand(node: string, flags: RemoteFlags & { wait?: boolean }, out: Out) {
  const client = clientOf(flags);
  let n = await client.drain(node, flags.wait);
  // The agent answers a waiting drain within 25 s; ask again until the node is idle.
  while (flags.wait && n.running > 0) {
    out.line(`node ${node}: draining, ${n.running} task(s) still running`);
    n = await client.drain(node, true);
  }
  out.line(`node ${node}: task cap 0 (draining), ${n.running} running`);
  return 0;
}

export async function resumeCommand(node: string, flags: RemoteFlags, out: Out) {
  const n = await clientOf(flags).resume(node);
  out.line(`node ${node}: resumed, task cap ${n.taskCap}`);
  return 0;
}

export async function capCommand(node: string, cap: string, flags: RemoteFlags, out: Out) {
  if (!/^\d+$/.test(cap)) {
    out.error(`flotilla: task cap must be a whole number from 0, not "${cap}"`);
    return 1;
  }
  const n = await clientOf(flags).setCap(node, Number(cap));
  out.line(`node ${node}: task cap ${n.taskCap}`);
  return 0;
}
