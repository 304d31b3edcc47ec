// The agent's HTTP client, used by the action and the CLI alike (undici).
// Errors carry the agent's own message and issues, so callers print them as is.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { type Dispatcher, request } from 'undici';
import { AgentError } from './errors.ts';
import type {
  ApiErrorBody,
  DeploymentView,
  EventView,
  NodeView,
  SubmitRequest,
  SubmitResponse,
  TaskView,
  WorkerView,
} from './types.ts';

export interface ClientOptions {
  /** A static token, or a function giving a fresh one per request (OIDC tokens are single-use). */
  token?: string | (() => Promise<string>);
  /** Per-request timeout for ordinary calls. */
  timeoutMs?: number;
  /** Where the caller set the agent's URL, named when the agent cannot be reached (say, the agent-url input). */
  urlFrom?: string;
}

export class AgentClient {
  readonly baseUrl: string;
  private readonly opts: ClientOptions;

  constructor(baseUrl: string, opts: ClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.opts = opts;
  }

  private async headers(extra: Record<string, string> = {}): Promise<Record<string, string>> {
    const t = this.opts.token;
    const token = typeof t === 'function' ? await t() : t;
    return {
      accept: 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...extra,
    };
  }

  private async call<T>(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    let res: Awaited<ReturnType<typeof request>>;
    const headers = await this.headers(body === undefined ? {} : { 'content-type': 'application/json' });
    try {
      res = await request(`${this.baseUrl}${path}`, {
        method,
        headers,
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
          `Is the agent running, and is ${this.opts.urlFrom ?? 'its URL'} right?`,
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

  async workers(): Promise<WorkerView[]> {
    return (await this.call<WorkerView[]>('GET', '/v1/workers')).body;
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

  /** Whether the agent has the package with this sha256 (HEAD /v1/packages/:sha256). */
  async hasPackage(sha256: string): Promise<boolean> {
    const res = await this.send('HEAD', `/v1/packages/${sha256}`);
    await res.body.dump();
    if (res.statusCode === 200 || res.statusCode === 404) return res.statusCode === 200;
    throw new AgentError(
      res.statusCode,
      'http_error',
      `the agent answered ${res.statusCode} to HEAD /v1/packages`,
    );
  }

  /** Streams a package file to the agent, which keeps it only if it hashes to `sha256`. */
  async uploadPackage(sha256: string, file: string): Promise<{ bytes: number; created: boolean }> {
    const { size } = await stat(file);
    const res = await this.send('POST', `/v1/packages/${sha256}`, {
      body: createReadStream(file),
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
    });
    const text = await res.body.text();
    if (res.statusCode >= 400) {
      const e = (JSON.parse(text || '{}') as ApiErrorBody).error;
      throw new AgentError(
        res.statusCode,
        e?.code ?? 'http_error',
        e?.message ?? `the agent answered ${res.statusCode}`,
      );
    }
    return JSON.parse(text) as { bytes: number; created: boolean };
  }

  private async send(
    method: 'HEAD' | 'POST',
    path: string,
    opts: { body?: Readable; headers?: Record<string, string> } = {},
  ): Promise<Dispatcher.ResponseData> {
    const headers = await this.headers(opts.headers);
    try {
      return await request(`${this.baseUrl}${path}`, { method, headers, body: opts.body });
    } catch (err) {
      throw new AgentError(
        0,
        'unreachable',
        `cannot reach the Flotilla agent at ${this.baseUrl}: ${(err as Error).message}`,
      );
    }
  }

  async taskLog(taskId: string): Promise<string> {
    const res = await request(`${this.baseUrl}/v1/tasks/${encodeURIComponent(taskId)}/log`, {
      headers: await this.headers(),
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
          headers: await this.headers({
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
