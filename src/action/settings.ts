// The action's inputs, read once into one typed settings object. Nothing else
// in the action calls core.getInput; every problem names the input to fix.
import * as core from '@actions/core';

export const COMMANDS = ['deploy', 'drain', 'resume', 'cap', 'status', 'cancel'] as const;
export type Command = (typeof COMMANDS)[number];

export interface Settings {
  agentUrl: URL;
  command: Command;
  planPath: string;
  release?: string;
  environment?: string;
  tenants: string[];
  wait: boolean;
  timeoutMinutes?: number;
  auth: { kind: 'oidc'; audience: string } | { kind: 'token'; token: string };
  githubToken?: string;
  checkName?: string;
  node?: string;
  taskCap?: number;
  waitForDrain: boolean;
  deploymentId?: string;
}

export class SettingsError extends Error {}

type Read = (name: string) => string;

/** Reads the inputs; `read` defaults to core.getInput so tests can pass a plain map. */
export function readSettings(read: Read = (n) => core.getInput(n)): Settings {
  const problems: string[] = [];
  const opt = (n: string) => read(n).trim() || undefined;
  const bool = (n: string, dflt: boolean) => {
    const v = opt(n)?.toLowerCase();
    if (v === undefined) return dflt;
    if (['true', 'yes', '1'].includes(v)) return true;
    if (['false', 'no', '0'].includes(v)) return false;
    problems.push(`input ${n} must be true or false, not "${v}"`);
    return dflt;
  };
  const int = (n: string, min: number) => {
    const v = opt(n);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v) || Number(v) < min) {
      problems.push(`input ${n} must be a whole number of at least ${min}, not "${v}"`);
      return undefined;
    }
    return Number(v);
  };

  let agentUrl: URL | undefined;
  const rawUrl = opt('agent-url');
  if (!rawUrl) problems.push('input agent-url is required, e.g. http://deploy-1.internal:8420');
  else {
    try {
      agentUrl = new URL(rawUrl);
      if (!['http:', 'https:'].includes(agentUrl.protocol)) throw new Error();
    } catch {
      problems.push(`input agent-url must be an http(s) URL, not "${rawUrl}"`);
    }
  }

  const command = (opt('command') ?? 'deploy') as Command;
  if (!COMMANDS.includes(command))
    problems.push(`input command must be one of ${COMMANDS.join(', ')}, not "${command}"`);

  const authKind = opt('auth') ?? 'oidc';
  let auth: Settings['auth'] = { kind: 'oidc', audience: opt('audience') ?? 'flotilla' };
  if (authKind === 'token') {
    const token = opt('agent-token');
    if (!token) problems.push('input agent-token is required when auth is token');
    else {
      core.setSecret(token);
      auth = { kind: 'token', token };
    }
  } else if (authKind !== 'oidc') problems.push(`input auth must be oidc or token, not "${authKind}"`);

  const node = opt('node');
  const taskCap = int('task-cap', 0);
  if (['drain', 'resume', 'cap'].includes(command) && !node)
    problems.push(`input node is required for command ${command}`);
  if (command === 'cap' && taskCap === undefined) problems.push('input task-cap is required for command cap');
  const deploymentId = opt('deployment-id');
  if (command === 'cancel' && !deploymentId)
    problems.push('input deployment-id is required for command cancel');

  const settings: Settings = {
    agentUrl: agentUrl ?? new URL('http://invalid'),
    command,
    planPath: opt('plan') ?? '.flotilla/plan.yml',
    release: opt('release'),
    environment: opt('environment'),
    tenants: (opt('tenants') ?? '')
      .split(/[\n,]/)
      .map((t) => t.trim())
      .filter(Boolean),
    wait: bool('wait', true),
    timeoutMinutes: int('timeout-minutes', 1),
    auth,
    githubToken: opt('github-token'),
    checkName: opt('check-name'),
    node,
    taskCap,
    waitForDrain: bool('wait-for-drain', false),
    deploymentId,
  };
  if (problems.length > 0) throw new SettingsError(problems.join('\n'));
  return settings;
}
