// A local GitHub REST API for the agent's check-run reporter. Every request is
// checked against GitHub's own OpenAPI description (@octokit/openapi): an
// unknown route is a 404, a path parameter or body that the description does
// not allow is a 422, as the real API answers; plus rules the description only
// states in prose (a completed check run needs a conclusion). It keeps check
// runs, can answer with faults (rate limits, 5xx) for the next requests, and
// serves the GitHub App endpoints (installation lookup with the app's JWT,
// installation tokens).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { importSPKI, jwtVerify } from 'jose';
import { REPO } from './util.ts';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => void;

interface Operation {
  method: string;
  template: string;
  pattern: RegExp;
  names: string[];
  spec: {
    parameters?: { $ref?: string; name?: string; in?: string; schema?: unknown }[];
    requestBody?: unknown;
  };
}

interface Spec {
  paths: Record<string, Record<string, Operation['spec']>>;
  components: { parameters: Record<string, { name: string; in: string; schema: unknown }> };
}

let loaded: { spec: Spec; ajv: Ajv; operations: Operation[] } | null = null;
const validators = new Map<string, ValidateFunction>();

/** The description is 13 MB: parsed once per test process, schemas compiled on first use. */
function openapi() {
  if (loaded) return loaded;
  const file = join(REPO, 'node_modules/@octokit/openapi/generated/api.github.com.json');
  const spec = JSON.parse(readFileSync(file, 'utf8')) as Spec;
  // OpenAPI 3.0 adds keywords (nullable, example, discriminator) that JSON Schema does not know.
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
  addFormats(ajv);
  ajv.addSchema(spec as object, 'github');
  const operations: Operation[] = [];
  for (const [template, methods] of Object.entries(spec.paths)) {
    const names = [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
    const pattern = new RegExp(
      `^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '([^/]+)')}$`,
    );
    for (const [method, op] of Object.entries(methods)) {
      if (['get', 'post', 'put', 'patch', 'delete'].includes(method))
        operations.push({ method: method.toUpperCase(), template, pattern, names, spec: op });
    }
  }
  // Literal segments win over parameters (/repos/{owner}/{repo}/check-runs before /repos/{owner}/{repo}/{x}).
  operations.sort((a, b) => a.names.length - b.names.length);
  loaded = { spec, ajv, operations };
  return loaded;
}

function validator(op: Operation, pointer: string): ValidateFunction {
  const key = `${op.method} ${op.template} ${pointer}`;
  let v = validators.get(key);
  if (!v) {
    const ref = `github#/paths/${op.template.replace(/~/g, '~0').replace(/\//g, '~1')}/${op.method.toLowerCase()}${pointer}`;
    v = openapi().ajv.compile({ $ref: ref });
    validators.set(key, v);
  }
  return v;
}

export interface RecordedRequest {
  method: string;
  path: string;
  route: string;
  body: unknown;
  status: number;
  at: number;
}

export interface Fault {
  status: number;
  message?: string;
  headers?: Record<string, string>;
}

export interface CheckRunState {
  id: number;
  owner: string;
  repo: string;
  head_sha: string;
  name: string;
  status: string;
  conclusion: string | null;
  external_id?: string;
  details_url?: string;
  output: { title?: string; summary?: string; text?: string };
  annotations: unknown[];
  updates: number;
}

export interface LocalGitHub {
  url: string;
  requests: RecordedRequest[];
  checkRuns: Map<number, CheckRunState>;
  /** The next requests that pass validation get these answers instead, in order. */
  faults: Fault[];
  /** Holds every answer this long after doing the work (a slow network: the client may die waiting). */
  answerDelayMs: number;
  /** Tokens accepted as `token X`; empty accepts any (a workflow's GITHUB_TOKEN). */
  tokens: Set<string>;
  /** A GitHub App the server knows: its id and PEM public key (for the JWT of the installation lookup). */
  app?: { id: number; publicKeyPem: string; installationId: number };
  /** Requests that create or change content (POST, PATCH, PUT, DELETE) accepted in any 60 s window, at most. */
  maxContentPerMinute(): number;
  close(): Promise<void>;
}

const SECONDARY = 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.';
export const SECONDARY_RATE_LIMIT: Fault = {
  status: 403,
  message: SECONDARY,
  headers: { 'retry-after': '1', 'x-ratelimit-remaining': '4000' },
};

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startLocalGitHub(): Promise<LocalGitHub> {
  const { spec, operations } = openapi();
  let nextId = 1000;
  const installationTokens = new Set<string>();
  const gh: LocalGitHub = {
    url: '',
    requests: [],
    checkRuns: new Map(),
    faults: [],
    answerDelayMs: 0,
    tokens: new Set(),
    maxContentPerMinute() {
      const times = this.requests
        .filter((r) => r.method !== 'GET' && r.status < 300)
        .map((r) => r.at)
        .sort((a, b) => a - b);
      let max = 0;
      for (let i = 0, j = 0; i < times.length; i++) {
        while (times[i]! - times[j]! >= 60_000) j++;
        max = Math.max(max, i - j + 1);
      }
      return max;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://github.local');
    const method = req.method ?? 'GET';
    const text = await readBody(req);
    const record: RecordedRequest = {
      method,
      path: url.pathname,
      route: '',
      body: null,
      status: 0,
      at: Date.now(),
    };
    gh.requests.push(record);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      setTimeout(() => {
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
        res.end(JSON.stringify(body));
      }, gh.answerDelayMs);
    };
    const docs = 'https://docs.github.com/rest';

    const op = operations.find((o) => o.method === method && o.pattern.test(url.pathname));
    if (!op) return send(404, { message: 'Not Found', documentation_url: docs });
    record.route = `${method} ${op.template}`;
    const params = Object.fromEntries(
      op.names.map((n, i) => [n, decodeURIComponent(op.pattern.exec(url.pathname)![i + 1]!)]),
    );

    // Path parameters, against their schemas.
    for (const p of op.spec.parameters ?? []) {
      const param = p.$ref ? spec.components.parameters[p.$ref.split('/').pop()!]! : p;
      if (param.in !== 'path') continue;
      const value = params[param.name!];
      const schema = param.schema as { type?: string };
      if (schema?.type === 'integer' && !/^\d+$/.test(value ?? '')) {
        return send(422, {
          message: `Invalid request: ${param.name} must be an integer`,
          documentation_url: docs,
        });
      }
    }

    // Credentials: an app's JWT for app endpoints, a token for the rest.
    const auth = req.headers.authorization ?? '';
    const appRoute = op.template === '/repos/{owner}/{repo}/installation' || op.template.startsWith('/app/');
    if (appRoute) {
      const jwt = /^bearer (.+)$/i.exec(auth)?.[1];
      if (!gh.app || !jwt)
        return send(401, { message: 'A JSON web token could not be decoded', documentation_url: docs });
      try {
        const key = await importSPKI(gh.app.publicKeyPem, 'RS256');
        const { payload } = await jwtVerify(jwt, key, { algorithms: ['RS256'] });
        if (String(payload.iss) !== String(gh.app.id)) throw new Error('iss');
      } catch {
        return send(401, { message: "'Issuer' claim ('iss') must be an Integer", documentation_url: docs });
      }
    } else {
      const token = /^(?:token|bearer) (.+)$/i.exec(auth)?.[1];
      if (!token) return send(401, { message: 'Requires authentication', documentation_url: docs });
      if ((gh.tokens.size > 0 || gh.app) && !gh.tokens.has(token) && !installationTokens.has(token))
        return send(401, { message: 'Bad credentials', documentation_url: docs });
    }

    // The body, against the operation's request schema.
    let body: Record<string, unknown> = {};
    const jsonBody = (op.spec.requestBody as { content?: Record<string, unknown> } | undefined)?.content?.[
      'application/json'
    ];
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        return send(400, { message: 'Problems parsing JSON', documentation_url: docs });
      }
    }
    record.body = body;
    if (jsonBody) {
      const v = validator(op, '/requestBody/content/application~1json/schema');
      if (!v(body)) {
        const errors = (v.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
        return send(422, { message: `Invalid request.\n\n${errors.join('\n')}`, documentation_url: docs });
      }
    }
    if (op.template.startsWith('/repos/{owner}/{repo}/check-runs')) {
      // Stated in GitHub's prose, not its schema: a completed check run needs a conclusion.
      const existing = params.check_run_id ? gh.checkRuns.get(Number(params.check_run_id)) : undefined;
      if ((body.status === 'completed' || body.completed_at) && !body.conclusion && !existing?.conclusion) {
        return send(422, { message: 'Invalid request.\n\nconclusion is required when status is completed.' });
      }
    }

    const fault = gh.faults.shift();
    if (fault)
      return send(
        fault.status,
        { message: fault.message ?? 'Server Error', documentation_url: docs },
        fault.headers,
      );

    const key = `${method} ${op.template}`;
    if (key === 'GET /repos/{owner}/{repo}/installation') {
      return send(200, { id: gh.app!.installationId, app_id: gh.app!.id, account: { login: params.owner } });
    }
    if (key === 'POST /app/installations/{installation_id}/access_tokens') {
      if (Number(params.installation_id) !== gh.app!.installationId)
        return send(404, { message: 'Not Found' });
      const token = `ghs_${randomBytes(16).toString('hex')}`;
      installationTokens.add(token);
      return send(201, {
        token,
        expires_at: new Date(Date.now() + 3600_000).toISOString(),
        permissions: { checks: 'write' },
        repository_selection: 'all',
      });
    }
    if (key === 'POST /repos/{owner}/{repo}/check-runs') {
      const run: CheckRunState = {
        id: nextId++,
        owner: params.owner!,
        repo: params.repo!,
        head_sha: String(body.head_sha),
        name: String(body.name),
        status: String(body.conclusion ? 'completed' : (body.status ?? 'queued')),
        conclusion: (body.conclusion as string) ?? null,
        external_id: body.external_id as string,
        details_url: body.details_url as string,
        output: { ...(body.output as object) },
        annotations: [...(((body.output as { annotations?: unknown[] })?.annotations ?? []) as unknown[])],
        updates: 0,
      };
      delete (run.output as { annotations?: unknown }).annotations;
      gh.checkRuns.set(run.id, run);
      return send(201, view(run));
    }
    if (key === 'GET /repos/{owner}/{repo}/commits/{ref}/check-runs') {
      const runs = [...gh.checkRuns.values()].filter(
        (r) =>
          r.owner === params.owner &&
          r.repo === params.repo &&
          r.head_sha === params.ref &&
          (!url.searchParams.get('check_name') || r.name === url.searchParams.get('check_name')),
      );
      return send(200, { total_count: runs.length, check_runs: runs.map(view) });
    }
    if (
      key === 'PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}' ||
      key === 'GET /repos/{owner}/{repo}/check-runs/{check_run_id}'
    ) {
      const run = gh.checkRuns.get(Number(params.check_run_id));
      if (!run || run.owner !== params.owner || run.repo !== params.repo)
        return send(404, { message: 'Not Found' });
      if (method === 'PATCH') {
        const { output, ...rest } = body as { output?: { annotations?: unknown[] } } & Record<
          string,
          unknown
        >;
        if (output) {
          const { annotations, ...o } = output;
          run.output = { ...run.output, ...o };
          run.annotations.push(...(annotations ?? []));
        }
        for (const k of ['name', 'status', 'conclusion', 'external_id', 'details_url'] as const) {
          if (rest[k] !== undefined) (run as unknown as Record<string, unknown>)[k] = rest[k];
        }
        if (rest.conclusion) run.status = 'completed';
        run.updates++;
      }
      return send(200, view(run));
    }
    send(501, { message: `the local GitHub does not implement ${key}` });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  gh.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return gh;
}

function view(run: CheckRunState) {
  return {
    id: run.id,
    head_sha: run.head_sha,
    name: run.name,
    status: run.status,
    conclusion: run.conclusion,
    external_id: run.external_id,
    details_url: run.details_url,
    html_url: `https://github.com/${run.owner}/${run.repo}/runs/${run.id}`,
    output: { ...run.output, annotations_count: run.annotations.length },
  };
}
