// The HTTP API's request bodies and answers, shared by the agent (which
// validates them) and the clients (the action and the CLI).
import { z } from 'zod';

export const githubContextSchema = z.strictObject({
  apiUrl: z.string().url(),
  serverUrl: z.string().url(),
  repository: z.string().regex(/^[^/\s]+\/[^/\s]+$/, 'repository is owner/name'),
  sha: z.string().regex(/^[a-f0-9]{40}$/, 'sha is a 40-character commit sha'),
  ref: z.string().min(1),
  event: z.string().min(1),
  runId: z.union([z.string(), z.number()]),
  runAttempt: z.union([z.string(), z.number()]),
  job: z.string(),
  token: z.string().optional(),
  checkName: z.string().max(200).optional(),
});

export const submitSchema = z.strictObject({
  /** Plan text (YAML or JSON, so problems get line numbers) or an already-parsed plan. */
  plan: z.union([z.string(), z.record(z.string(), z.unknown())]),
  release: z.string().min(1).optional(),
  environment: z.string().min(1).optional(),
  tenants: z.array(z.string().min(1)).optional(),
  idempotencyKey: z.string().min(1).max(512).optional(),
  /** Values for the plan's `secrets`, masked everywhere. */
  secrets: z.record(z.string(), z.string()).optional(),
  github: githubContextSchema.optional(),
});
export type SubmitRequest = z.infer<typeof submitSchema>;

export const capSchema = z.strictObject({ taskCap: z.number().int().min(0).max(10_000) });
export const drainSchema = z.strictObject({ wait: z.boolean().optional() }).optional();

export interface ApiIssue {
  path: string;
  message: string;
  line?: number;
  column?: number;
}

export interface ApiErrorBody {
  error: { code: string; message: string; issues?: ApiIssue[] };
}

export interface TaskView {
  id: string;
  tenant: string | null;
  concurrencyTag: string;
  state: string;
  node: string | null;
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  message: string | null;
  waitingOn: string | null;
  actions?: ActionView[];
}

export interface ActionView {
  id: string;
  step: string;
  target: string | null;
  worker: string | null;
  state: string;
  attempt: number;
  startedAt: string | null;
  finishedAt: string | null;
  exitCode: number | null;
  message: string | null;
  waitingOn: string | null;
}

export interface DeploymentView {
  id: string;
  url: string;
  project: string;
  environment: string;
  release: string;
  state: string;
  createdAt: string;
  finishedAt: string | null;
  /** The GitHub check run the agent posts for this deployment, once created. */
  checkRunId?: number | null;
  tasks: TaskView[];
}

export interface SubmitResponse {
  id: string;
  url: string;
  tasks: { id: string; tenant: string | null; concurrencyTag: string; state: string }[];
}

export interface NodeView {
  name: string;
  taskCap: number;
  running: number;
  draining: boolean;
  live: boolean;
  lastHeartbeat: string;
}

export interface WorkerView {
  name: string;
  pools: readonly string[];
  targets: { name: string; roles: string[]; host: string; tenants: string[] | null }[];
  /** `draining`: a stopping worker finishes what it runs and is given nothing new. */
  state: 'online' | 'draining' | 'offline';
  /** The coordinator's own worker. */
  local: boolean;
  runningActions: number;
  maxActions: number | null;
  lastHeartbeat: string;
}

export interface EventView {
  id: number;
  type: string;
  taskId: string | null;
  at: string;
  data: Record<string, unknown>;
}
