// What the agent needs to know about the workflow run: where to post the
// check run (the PR head commit for pull requests, not the merge commit), and
// the idempotency key that makes a retried step find its first deployment.
import { createHash } from 'node:crypto';
import { context } from '@actions/github';
import type { SubmitRequest } from '../client/types.ts';
import type { Settings } from './settings.ts';

type GithubContext = NonNullable<SubmitRequest['github']>;

const PR_EVENTS = ['pull_request', 'pull_request_target', 'pull_request_review'];

/** The commit the deployment's check run belongs to. */
export function checkSha(): string {
  const pr = context.payload.pull_request as { head?: { sha?: string } } | undefined;
  return PR_EVENTS.includes(context.eventName) && pr?.head?.sha ? pr.head.sha : context.sha;
}

/** Null outside a GitHub Actions run (no repository or commit to report on). */
export function githubContext(settings: Settings): GithubContext | null {
  if (!process.env.GITHUB_REPOSITORY || !/^[a-f0-9]{40}$/.test(checkSha())) return null;
  return {
    apiUrl: context.apiUrl,
    serverUrl: context.serverUrl,
    repository: `${context.repo.owner}/${context.repo.repo}`,
    sha: checkSha(),
    ref: context.ref,
    event: context.eventName,
    runId: context.runId,
    runAttempt: context.runAttempt,
    job: context.job,
    ...(settings.githubToken ? { token: settings.githubToken } : {}),
    ...(settings.checkName ? { checkName: settings.checkName } : {}),
  };
}

/** `${GITHUB_REPOSITORY}/${GITHUB_RUN_ID}/${GITHUB_RUN_ATTEMPT}/${GITHUB_JOB}/<plan hash>` (design: The action). */
export function idempotencyKey(
  request: Omit<SubmitRequest, 'github' | 'idempotencyKey'>,
): string | undefined {
  const env = process.env;
  if (!env.GITHUB_REPOSITORY || !env.GITHUB_RUN_ID) return undefined;
  // The overrides are part of what is deployed, so two steps deploying one plan to two environments differ.
  const hash = createHash('sha256')
    .update(
      JSON.stringify([
        request.plan,
        request.release ?? null,
        request.environment ?? null,
        request.tenants ?? null,
      ]),
    )
    .digest('hex')
    .slice(0, 16);
  return `${env.GITHUB_REPOSITORY}/${env.GITHUB_RUN_ID}/${env.GITHUB_RUN_ATTEMPT ?? '1'}/${env.GITHUB_JOB ?? ''}/${hash}`;
}
