// The `github` part of a submission, as the action fills it from the runner,
// pointed at a local GitHub API.
export const SHA = 'c0ffee'.padEnd(40, '0');

export function githubContext(apiUrl: string, extra: Record<string, unknown> = {}) {
  return {
    apiUrl,
    serverUrl: 'https://github.com',
    repository: 'acme/storefront',
    sha: SHA,
    ref: 'refs/heads/main',
    event: 'push',
    runId: 42,
    runAttempt: 1,
    job: 'deploy',
    token: 'ghs_workflowtoken',
    ...extra,
  };
}

/** A plan whose tenants run `script` on the agent's worker. */
export function workerPlan(tenants: string[], script: string, extra: Record<string, unknown> = {}) {
  return {
    version: 1,
    project: 'storefront',
    environment: 'production',
    release: '2026.11.3',
    tenants,
    steps: [{ name: 'deploy', on: 'worker', run: script }],
    ...extra,
  };
}
