// Agents for integration tests: in-process (startAgent on 127.0.0.1:0 from a
// real config file through resolveAgentSettings) and as a child process (the
// real `flotilla agent --config …` CLI). Both are tracked so afterEach can stop
// them even when a test failed.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { type RunningAgent, startAgent } from '../../runner-agent/src/agent.ts';
import { type AgentSettings, resolveAgentSettings } from '../../runner-agent/src/config/settings.ts';
import {
  CLI,
  type HttpAnswer,
  type HttpOptions,
  http,
  type Json,
  NODE_BIN,
  REPO,
  tempDir,
  waitFor,
} from './util.ts';

export interface TargetConfig {
  name: string;
  roles: string[];
  host?: string;
  root?: string;
  tenants?: string[];
}

export interface AgentConfig {
  node?: string;
  listen?: string;
  dataDir?: string;
  taskCap?: number;
  leaseTtl?: string | number;
  worker?: { pools?: string[]; targets?: TargetConfig[] };
  packages?: {
    cacheDir?: string;
    maxCacheBytes?: string | number;
    maxPackageBytes?: string | number;
    allowedHosts?: string[];
  };
  auth?: {
    tokens?: { name: string; sha256: string; scopes: string[] }[];
    oidc?: { issuer: string; audience: string; jwksUrl?: string; allow: Record<string, unknown>[] };
  };
  github?: { apiUrl?: string; app?: { id: number; privateKeyFile: string } };
}

/** Writes flotilla.yml into `dir` (data dir ./data, listening on a free loopback port unless told). */
export function writeAgentConfig(dir: string, config: AgentConfig): string {
  mkdirSync(dir, { recursive: true });
  const full: AgentConfig = { node: 'test-node', listen: '127.0.0.1:0', dataDir: './data', ...config };
  const file = join(dir, 'flotilla.yml');
  writeFileSync(file, stringify(full));
  return file;
}

/** Environment for agents under test: quick retries and a short kill grace. */
export const TEST_ENV: Record<string, string> = {
  FLOTILLA_RETRY_BACKOFF_MS: '50',
  FLOTILLA_KILL_GRACE_MS: '2000',
};

export interface TestAgent {
  running: RunningAgent;
  settings: AgentSettings;
  url: string;
  node: string;
  dir: string;
  configPath: string;
  call<T = Json>(method: string, path: string, opts?: HttpOptions): Promise<HttpAnswer<T>>;
  stop(): Promise<void>;
}

const inProcess: TestAgent[] = [];

export async function startTestAgent(
  config: AgentConfig = {},
  env: Record<string, string> = TEST_ENV,
): Promise<TestAgent> {
  const dir = tempDir('flotilla-agent-');
  const configPath = writeAgentConfig(dir, config);
  const settings = await resolveAgentSettings({ config: configPath }, env, dir);
  const running = await startAgent(settings);
  const url = running.url;
  const agent: TestAgent = {
    running,
    settings,
    url,
    node: settings.node,
    dir,
    configPath,
    call: (method, path, opts) => http(url, method, path, opts),
    stop: () => running.stop(),
  };
  inProcess.push(agent);
  return agent;
}

export async function stopTestAgents(): Promise<void> {
  await Promise.all(inProcess.splice(0).map((a) => a.stop()));
}

// ---- child processes ----------------------------------------------------

export interface ChildAgent {
  proc: ChildProcess;
  pid: number;
  url: string;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  call<T = Json>(method: string, path: string, opts?: HttpOptions): Promise<HttpAnswer<T>>;
}

const children = new Map<ChildProcess, Promise<unknown>>();

function track(proc: ChildProcess) {
  let out = '';
  let err = '';
  proc.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.on('exit', (code, signal) => {
      children.delete(proc);
      resolve({ code, signal });
    });
  });
  children.set(proc, exited);
  return { stdout: () => out, stderr: () => err, exited };
}

/** Spawns the CLI with Node 24 in its own process group (so cleanup can kill the group). */
export function spawnCli(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) {
  const proc = spawn(NODE_BIN, [CLI, ...args], {
    cwd: opts.cwd ?? REPO,
    env: { ...process.env, ...TEST_ENV, FLOTILLA_LOG_LEVEL: 'info', ...opts.env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { proc, ...track(proc) };
}

/** Runs a CLI command to its end. */
export async function runCli(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const c = spawnCli(args, opts);
  const timer = setTimeout(() => killGroup(c.proc), opts.timeoutMs ?? 60_000);
  const { code } = await c.exited;
  clearTimeout(timer);
  return { code, stdout: c.stdout(), stderr: c.stderr() };
}

/** `flotilla agent --config FILE`; resolves once it logged its URL and /healthz answers 200. */
export async function spawnAgent(configPath: string, env: Record<string, string> = {}): Promise<ChildAgent> {
  const c = spawnCli(['agent', '--config', configPath], { env });
  let exit: { code: number | null } | null = null;
  void c.exited.then((e) => {
    exit = e;
  });
  const url = await waitFor('the agent to log its URL', () => {
    if (exit) throw new Error(`agent exited with ${exit.code}: ${c.stderr()}${c.stdout()}`);
    return /"url":"(http:\/\/[^"]+)"/.exec(c.stdout())?.[1];
  });
  await waitFor('GET /healthz 200', async () => (await http(url, 'GET', '/healthz')).status === 200);
  return {
    proc: c.proc,
    pid: c.proc.pid!,
    url,
    stdout: c.stdout,
    stderr: c.stderr,
    exited: c.exited,
    call: (method, path, opts) => http(url, method, path, opts),
  };
}

function killGroup(proc: ChildProcess, signal: NodeJS.Signals = 'SIGKILL') {
  try {
    if (proc.pid) process.kill(-proc.pid, signal);
  } catch {}
}

/** Kills every child still running (its whole process group). */
export async function killChildren(): Promise<void> {
  const list = [...children];
  for (const [p] of list) killGroup(p);
  await Promise.all(list.map(([, exited]) => exited));
}
