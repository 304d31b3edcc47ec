// Submitting deployments and waiting for them over the HTTP API.
import type { DeploymentView, SubmitResponse } from '../../src/client/types.ts';
import type { HttpAnswer, HttpOptions, Json } from './util.ts';
import { waitFor } from './util.ts';
import type { Workspace } from './workspace.ts';

export interface Caller {
  call<T = Json>(method: string, path: string, opts?: HttpOptions): Promise<HttpAnswer<T>>;
}

const TERMINAL = ['succeeded', 'failed', 'cancelled'];

/** POST /v1/deployments; fails the test unless the agent answers 201. */
export async function submit(agent: Caller, body: Record<string, unknown>): Promise<SubmitResponse> {
  const r = await agent.call<SubmitResponse>('POST', '/v1/deployments', { json: body });
  if (r.status !== 201) throw new Error(`submission answered ${r.status}: ${r.text}`);
  return r.json;
}

export async function deployment(agent: Caller, id: string): Promise<DeploymentView> {
  const r = await agent.call<DeploymentView>('GET', `/v1/deployments/${id}`);
  if (r.status !== 200) throw new Error(`GET deployment answered ${r.status}: ${r.text}`);
  return r.json;
}

/** Polls until the deployment is finished; returns its final view. */
export async function finished(agent: Caller, id: string, timeoutMs = 30_000): Promise<DeploymentView> {
  return waitFor(
    `deployment ${id} to finish`,
    async () => {
      const d = await deployment(agent, id);
      return TERMINAL.includes(d.state) ? d : undefined;
    },
    timeoutMs,
  );
}

/** Polls until `pred` holds for the deployment's view. */
export async function until(
  agent: Caller,
  id: string,
  what: string,
  pred: (d: DeploymentView) => boolean,
  timeoutMs = 20_000,
): Promise<DeploymentView> {
  return waitFor(
    what,
    async () => {
      const d = await deployment(agent, id);
      return pred(d) ? d : undefined;
    },
    timeoutMs,
  );
}

export const tenants = (n: number, prefix = 't') =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i + 1).padStart(2, '0')}`);

/**
 * Waits until at least `n` tasks' scripts have started and every task the
 * nodes report running has started its script; returns how many started. A
 * test then asserts the exact number, so too many starts fail clearly
 * instead of timing out.
 */
export async function scriptsStarted(agent: Caller, ws: Workspace, n: number): Promise<number> {
  return waitFor(`${n} tasks to start their scripts`, async () => {
    const started = new Set(ws.starts().map((s) => s.task)).size;
    if (started < n) return undefined;
    const nodes: { running: number }[] = (await agent.call('GET', '/v1/nodes')).json;
    const running = nodes.reduce((sum, x) => sum + x.running, 0);
    return started >= running ? started : undefined;
  });
}
