// The action's main step: one command against the agent, with the shared
// client. Deploy submits idempotently, follows the deployment live, writes the
// job summary and outputs, and fails the step when the deployment fails.
import * as core from '@actions/core';
import type { Out } from '../../runner-agent/src/cli/follow.ts';
import {
  cancelCommand,
  capCommand,
  clientOf,
  drainCommand,
  type RemoteFlags,
  resumeCommand,
  statusCommand,
} from '../../runner-agent/src/cli/remote.ts';
import type { AgentClient } from '../client/client.ts';
import { AgentError } from '../client/errors.ts';
import { uploadMissing } from '../client/packages.ts';
import { preparePlan } from '../client/prepare.ts';
import { DeploymentProgress } from '../client/progress.ts';
import type { DeploymentView } from '../client/types.ts';
import { formatIssue } from '../plan/index.ts';
import { githubContext, idempotencyKey } from './github-context.ts';
import { readSettings, type Settings } from './settings.ts';
import { summaryMarkdown } from './summary.ts';

/** Failed tasks whose log tail goes into the job log; the rest are on the agent. */
const LOG_TAILS = 20;
const LOG_TAIL_LINES = 40;

const out: Out = { line: (text) => core.info(text), error: (text) => core.error(text), tty: false };

async function idToken(audience: string): Promise<string> {
  try {
    return await core.getIDToken(audience);
  } catch (err) {
    throw new Error(
      `auth is oidc, but the job could not get an OIDC token (${(err as Error).message}). ` +
        'Give the job `permissions: id-token: write`, or use auth: token with agent-token.',
    );
  }
}

function remote(settings: Settings): RemoteFlags {
  const { auth } = settings;
  return {
    agent: settings.agentUrl.toString(),
    // OIDC tokens are single-use at the agent (replay protection), so every request asks the runner for one.
    token: auth.kind === 'token' ? auth.token : () => idToken(auth.audience),
    urlFrom: 'the agent-url input',
  };
}

export async function run(settings: Settings): Promise<void> {
  const flags = remote(settings);
  switch (settings.command) {
    case 'deploy':
      return deploy(settings, clientOf(flags));
    case 'drain':
      await drainCommand(settings.node!, { ...flags, wait: settings.waitForDrain }, out);
      return nodeOutputs(settings, flags);
    case 'resume':
      await resumeCommand(settings.node!, flags, out);
      return nodeOutputs(settings, flags);
    case 'cap':
      await capCommand(settings.node!, String(settings.taskCap), flags, out);
      return nodeOutputs(settings, flags);
    case 'cancel':
      await cancelCommand(settings.deploymentId!, flags, out);
      return deploymentOutputs(await clientOf(flags).deployment(settings.deploymentId!));
    case 'status':
      await statusCommand(settings.deploymentId, flags, out);
      if (settings.deploymentId) deploymentOutputs(await clientOf(flags).deployment(settings.deploymentId));
      return;
  }
}

async function nodeOutputs(settings: Settings, flags: RemoteFlags): Promise<void> {
  const node = (await clientOf(flags).nodes()).find((n) => n.name === settings.node);
  if (node) core.setOutput('status', node.draining ? (node.running === 0 ? 'drained' : 'draining') : 'ready');
}

function deploymentOutputs(d: DeploymentView): void {
  const count = (states: string[]) => String(d.tasks.filter((t) => states.includes(t.state)).length);
  core.setOutput('deployment-id', d.id);
  core.setOutput('url', d.url);
  core.setOutput('status', d.state);
  core.setOutput('tasks-succeeded', count(['succeeded']));
  core.setOutput('tasks-failed', count(['failed', 'interrupted', 'cancelled']));
  if (d.checkRunId) core.setOutput('check-run-id', String(d.checkRunId));
}

async function deploy(settings: Settings, client: AgentClient): Promise<void> {
  // upload: paths start at the workspace, like every path a workflow names.
  const prepared = await preparePlan(settings.planPath, process.env.GITHUB_WORKSPACE ?? process.cwd());
  if (!prepared.ok) {
    for (const issue of prepared.issues) {
      core.error(`${issue.path}: ${issue.message}`, {
        file: settings.planPath,
        startLine: issue.line,
        startColumn: issue.column,
      });
    }
    throw new Error(
      `${settings.planPath} is not a valid plan:\n${prepared.issues.map((i) => formatIssue(settings.planPath, i)).join('\n')}`,
    );
  }
  await uploadMissing(client, prepared.uploads, (line) => core.info(line));
  const request = {
    plan: prepared.body,
    release: settings.release,
    environment: settings.environment,
    tenants: settings.tenants.length ? settings.tenants : undefined,
  };
  const github = githubContext(settings);
  const submitted = await client.submit({
    ...request,
    idempotencyKey: idempotencyKey(request),
    ...(github ? { github } : {}),
  });
  // The post step (run only when the workflow is cancelled) cancels what this submitted.
  core.saveState('deployment-id', submitted.id);
  core.setOutput('deployment-id', submitted.id);
  core.setOutput('url', submitted.url);
  core.info(
    `deployment ${submitted.id}${submitted.created ? '' : ' (already submitted by an earlier attempt of this step)'}: ` +
      `${submitted.tasks.length} task(s), ${submitted.url}`,
  );
  if (!settings.wait) {
    core.setOutput('status', 'queued');
    return;
  }

  const progress = new DeploymentProgress();
  const byTenant = new Map<string, string[]>();
  const timeout = settings.timeoutMinutes ? AbortSignal.timeout(settings.timeoutMinutes * 60_000) : undefined;
  await client.follow(
    submitted.id,
    (e) => {
      for (const line of progress.apply(e)) {
        core.info(line);
        const tenant = e.taskId ? (progress.tasks.get(e.taskId)?.tenant ?? '(untenanted)') : null;
        if (tenant !== null) byTenant.set(tenant, [...(byTenant.get(tenant) ?? []), line]);
      }
    },
    timeout,
  );
  const view = await client.deployment(submitted.id);
  deploymentOutputs(view);
  await report(client, view, byTenant);
  if (timeout?.aborted) {
    throw new Error(
      `stopped waiting after ${settings.timeoutMinutes} minute(s) (timeout-minutes); deployment ${view.id} is ${view.state} and goes on`,
    );
  }
  if (view.state !== 'succeeded') throw new Error(`deployment ${view.id} ${view.state}`);
}

/** Per-tenant groups, annotations for failed actions, and the job summary. */
async function report(
  client: AgentClient,
  view: DeploymentView,
  byTenant: Map<string, string[]>,
): Promise<void> {
  let tails = 0;
  for (const task of view.tasks) {
    const tenant = task.tenant ?? '(untenanted)';
    core.startGroup(`${tenant}: ${task.state}`);
    for (const line of byTenant.get(tenant) ?? []) core.info(line);
    if (['failed', 'interrupted'].includes(task.state) && tails++ < LOG_TAILS) {
      const log = (await client.taskLog(task.id)).trimEnd().split('\n');
      core.info(`--- last ${Math.min(LOG_TAIL_LINES, log.length)} log lines of task ${task.id} ---`);
      for (const line of log.slice(-LOG_TAIL_LINES)) core.info(line);
    }
    core.endGroup();
    for (const a of task.actions ?? []) {
      if (a.state !== 'failed') continue;
      core.error(a.message ?? `exit code ${a.exitCode}`, {
        title: `${tenant}: step ${a.step}${a.target ? ` on ${a.target}` : ''} failed`,
      });
    }
  }
  await core.summary.addRaw(summaryMarkdown(view)).write();
}

export async function main(): Promise<void> {
  try {
    await run(readSettings());
  } catch (err) {
    if (err instanceof AgentError) {
      for (const i of err.issues)
        core.error(`${i.path}: ${i.message}`, { title: 'the agent refused the request' });
    }
    core.setFailed((err as Error).message);
  }
}

/** The post step's work; a failure here is a warning, since the run is already cancelled. */
export async function cancelDeployment(deploymentId: string): Promise<void> {
  if (!deploymentId) return core.info('no deployment was submitted; nothing to cancel');
  try {
    const flags = remote(readSettings());
    await cancelCommand(deploymentId, flags, out);
  } catch (err) {
    core.warning(`could not cancel deployment ${deploymentId}: ${(err as Error).message}`);
  }
}
