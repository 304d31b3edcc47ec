// The agent's HTTP client, used by the action and the CLI alike (undici).
// Errors carry the agent's own message and issues, so callers print them as is.
import { request } from 'undici';
import { AgentError } from './errors.ts';
import type {
  ApiErrorBody,
  DeploymentView,
  EventView,
  NodeView,
  SubmitRequest,
  SubmitResponse,
  TaskView,
} from './types.ts';

export interface ClientOptions {
  token?: string;
  /** Per-request timeout for ordinary calls. */
  timeoutMs?: number;
}

export class AgentClient {
  readonly baseUrl: string;
  private readonly opts: ClientOptions;

  constructor(baseUrl: string, opts: ClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.opts = opts;
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return {
      accept: 'application/json',
      ...(this.opts.token ? { authorization: `Bearer ${this.opts.token}` } : {}),
      ...extra,
    };
  }

  private async call<T>(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(`${this.baseUrl}${path}`, {
        method,
        headers: this.headers(body === undefined ? {} : { 'content-type': 'application/json' }),
        body: body === undefined ? undefined : JSON.stringify(body),
        headersTimeout: this.opts.timeoutMs ?? 60_000,
        bodyTimeout: this.opts.timeoutMs ?? 60_000,
      });
    } catch (err) {
      const cause =
        (err as { cause?: { code?: string }; code?: string }).cause?.code ?? (err as { code?: string }).code;
      throw new AgentError(
        0,
        'unreachable',
        `cannot reach the Flotilla agent at ${this.baseUrl}${cause ? ` (${cause})` : ''}: ${(err as Error).message}. ` +
          'Is the agent running, and is agent-url right?',
      );
    }
    const text = await res.body.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    if (res.statusCode >= 400) {
      const e = (parsed as ApiErrorBody | undefined)?.error;
      throw new AgentError(
        res.statusCode,
        e?.code ?? 'http_error',
        e?.message ?? `the agent answered ${res.statusCode}: ${String(text).slice(0, 200)}`,
        e?.issues ?? [],
      );
    }
    return { status: res.statusCode, body: parsed as T };
  }

  async submit(req: SubmitRequest): Promise<SubmitResponse & { created: boolean }> {
    const r = await this.call<SubmitResponse>('POST', '/v1/deployments', req);
    return { ...r.body, created: r.status === 201 };
  }

  async deployment(id: string): Promise<DeploymentView> {
    return (await this.call<DeploymentView>('GET', `/v1/deployments/${encodeURIComponent(id)}`)).body;
  }

  async cancel(id: string): Promise<{ id: string; state: string }> {
    return (
      await this.call<{ id: string; state: string }>(
        'POST',
        `/v1/deployments/${encodeURIComponent(id)}/cancel`,
      )
    ).body;
  }

  async queue(): Promise<(TaskView & { deploymentId: string })[]> {
    return (await this.call<(TaskView & { deploymentId: string })[]>('GET', '/v1/queue')).body;
  }

  async deployments(): Promise<
    { id: string; project: string; environment: string; release: string; state: string; createdAt: string }[]
  > {
    return (await this.call<never>('GET', '/v1/deployments')).body;
  }

  async nodes(): Promise<NodeView[]> {
    return (await this.call<NodeView[]>('GET', '/v1/nodes')).body;
  }

  async setCap(node: string, taskCap: number): Promise<NodeView> {
    return (await this.call<NodeView>('PUT', `/v1/nodes/${encodeURIComponent(node)}`, { taskCap })).body;
  }

  async drain(node: string, wait = false): Promise<NodeView> {
    return (await this.call<NodeView>('POST', `/v1/nodes/${encodeURIComponent(node)}/drain`, { wait })).body;
  }

  async resume(node: string): Promise<NodeView> {
    return (await this.call<NodeView>('POST', `/v1/nodes/${encodeURIComponent(node)}/resume`, {})).body;
  }

  async taskLog(taskId: string): Promise<string> {
    const res = await request(`${this.baseUrl}/v1/tasks/${encodeURIComponent(taskId)}/log`, {
      headers: this.headers(),
    });
    return res.body.text();
  }

  /**
   * Follows a deployment's events until deployment.finished, reconnecting with
   * Last-Event-ID when the connection drops (an agent restart, say).
   */
  async follow(id: string, onEvent: (e: EventView) => void, signal?: AbortSignal): Promise<void> {
    let last = 0;
    let failures = 0;
    while (!signal?.aborted) {
      try {
        const res = await request(`${this.baseUrl}/v1/deployments/${encodeURIComponent(id)}/events`, {
          headers: this.headers({
            accept: 'text/event-stream',
            ...(last ? { 'last-event-id': String(last) } : {}),
          }),
          signal,
          bodyTimeout: 60_000,
        });
        if (res.statusCode >= 400) {
          const text = await res.body.text();
          const e = (JSON.parse(text || '{}') as ApiErrorBody).error;
          throw new AgentError(res.statusCode, e?.code ?? 'http_error', e?.message ?? text);
        }
        let buffer = '';
        let finished = false;
        for await (const chunk of res.body) {
          buffer += chunk.toString();
          let at = buffer.indexOf('\n\n');
          while (at >= 0) {
            const block = buffer.slice(0, at);
            buffer = buffer.slice(at + 2);
            const data = block
              .split('\n')
              .filter((l) => l.startsWith('data: '))
              .map((l) => l.slice(6))
              .join('\n');
            if (data) {
              const e = JSON.parse(data) as EventView;
              last = e.id;
              failures = 0;
              onEvent(e);
              if (e.type === 'deployment.finished') finished = true;
            }
            at = buffer.indexOf('\n\n');
          }
        }
        if (finished) return;
      } catch (err) {
        if (signal?.aborted) return;
        if (err instanceof AgentError && err.status >= 400 && err.status < 500) throw err;
        if (++failures > 30) throw err;
      }
      await new Promise((r) => setTimeout(r, Math.min(1000 * failures, 5000) || 200));
    }
  }
}
