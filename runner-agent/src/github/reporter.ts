// The check-run reporter (design: Check runs). Events that change what a
// check run shows bump the deployment's row in the store's outbox; a pump
// sends each deployment's current state when its row has news and its last
// update is at least `checkIntervalMs` old. Everything it needs is in the
// store, so a restarted agent finishes what the last one left unsent.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { EventLog } from '../scheduler/event-log.ts';
import type { CheckRunRow, NewEvent, Store } from '../store/types.ts';
import { ANNOTATIONS_PER_REQUEST, annotationOf, failedActions, renderCheckRun } from './check-run.ts';
import { type GitHubClient, GitHubClients, type GithubSettings } from './octokit.ts';

/** Events that change what the check run says; log lines and action starts do not. */
const NEWS = new Set([
  'deployment.queued',
  'deployment.running',
  'deployment.finished',
  'task.started',
  'task.waiting',
  'task.requeued',
  'task.finished',
  'action.failed',
]);
const MAX_BACKOFF_MS = 5 * 60_000;

export interface ReporterOptions {
  store: Store;
  events: EventLog;
  github: GithubSettings;
  /** Why each queued task waits (the coordinator's view). */
  waitingOn: () => Promise<Map<string, string>>;
  baseUrl: () => string;
  log: Logger;
}

export class CheckRunReporter {
  private readonly opts: ReporterOptions;
  private readonly clients: GitHubClients;
  /** Whether a deployment reports to GitHub at all (it was submitted with a github context). */
  private readonly reports = new Map<string, boolean>();
  /** What was last sent per deployment: an update that would change nothing is not sent. */
  private readonly lastSent = new Map<string, string>();
  private readonly failures = new Map<string, { count: number; retryAt: number }>();
  private unsubscribe: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private pumping: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(opts: ReporterOptions) {
    this.opts = opts;
    this.clients = new GitHubClients(opts.github, opts.log);
  }

  start(): void {
    this.unsubscribe = this.opts.events.onBatch((batch) => void this.heard(batch));
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer) clearTimeout(this.timer);
    await this.pumping;
  }

  private async heard(batch: readonly NewEvent[]): Promise<void> {
    try {
      const ids = new Set(batch.filter((e) => NEWS.has(e.type)).map((e) => e.deploymentId));
      for (const id of ids) {
        if (!(await this.reportsTo(id))) continue;
        await this.opts.store.touchCheckRun(id);
      }
      if (ids.size) this.kick();
      // Deployments without a check run are forgotten when they end (the others, when their run completes).
      for (const e of batch)
        if (e.type === 'deployment.finished' && this.reports.get(e.deploymentId) === false)
          this.reports.delete(e.deploymentId);
    } catch (err) {
      this.opts.log.error({ err }, 'could not record a check-run update');
    }
  }

  private async reportsTo(id: string): Promise<boolean> {
    let yes = this.reports.get(id);
    if (yes === undefined) {
      const d = await this.opts.store.getDeployment(id);
      yes = Boolean(d?.github && (d.github.token || this.opts.github.app));
      this.reports.set(id, yes);
    }
    return yes;
  }

  /** Runs the pump now, or once more after the current run. */
  private kick(): void {
    if (this.stopped) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = this.pump().finally(() => {
      this.pumping = null;
    });
  }

  private async pump(): Promise<void> {
    do {
      this.again = false;
      let next = Number.POSITIVE_INFINITY;
      try {
        const rows = await this.opts.store.pendingCheckRuns(100);
        for (const row of rows) {
          if (this.stopped) return;
          const dueAt = Math.max(
            row.sentAt === null ? 0 : row.sentAt + this.opts.github.checkIntervalMs,
            this.failures.get(row.deploymentId)?.retryAt ?? 0,
          );
          if (dueAt > Date.now()) next = Math.min(next, dueAt);
          else if (await this.send(row)) this.again = true;
        }
      } catch (err) {
        this.opts.log.error({ err }, 'check-run outbox failed');
        next = Date.now() + 1000;
      }
      if (Number.isFinite(next) && !this.stopped) {
        if (this.timer) clearTimeout(this.timer);
        this.timer = setTimeout(() => this.kick(), Math.max(0, next - Date.now()));
      }
    } while (this.again && !this.stopped);
  }

  /** Sends one deployment's state; true when it wrote something to the store. */
  private async send(row: CheckRunRow): Promise<boolean> {
    const { store, log } = this.opts;
    const id = row.deploymentId;
    const d = await store.getDeployment(id);
    const github = d?.github;
    const octokit = github ? await this.clients.for(github).catch((err) => this.failed(id, err)) : null;
    if (octokit === undefined) return false;
    const done = { version: row.version, checkRunId: row.checkRunId, annotations: row.annotations };
    if (!d || !github || !octokit) {
      await store.markCheckRunSent(id, { ...done, at: Date.now(), completed: true });
      return true;
    }
    const tasks = await store.tasksOf(id);
    const waiting = tasks.some((t) => t.state === 'queued')
      ? await this.opts.waitingOn()
      : new Map<string, string>();
    const failed = failedActions(await store.actionsOf(tasks.map((t) => t.id)));
    const tenants = new Map(tasks.map((t) => [t.id, t.tenant]));
    const batch = failed
      .slice(row.annotations, row.annotations + ANNOTATIONS_PER_REQUEST)
      .map((a) => annotationOf(d, a, tenants.get(a.taskId) ?? null));
    const content = renderCheckRun(d, tasks, waiting);
    const annotations = row.annotations + batch.length;
    const completed = content.status === 'completed' && annotations >= failed.length;
    const fingerprint = createHash('sha256').update(JSON.stringify(content)).digest('hex');
    if (row.checkRunId !== null && batch.length === 0 && this.lastSent.get(id) === fingerprint) {
      await store.markCheckRunSent(id, {
        ...done,
        checkRunId: row.checkRunId,
        at: row.sentAt ?? 0,
        completed,
      });
      return true;
    }

    const [owner, repo] = github.repository.split('/') as [string, string];
    const body = {
      owner,
      repo,
      ...content,
      output: { ...content.output, ...(batch.length ? { annotations: batch } : {}) },
      external_id: d.id,
      details_url: `${this.opts.baseUrl()}/v1/deployments/${d.id}`,
    };
    let checkRunId = row.checkRunId;
    try {
      if (checkRunId === null && row.sentAt !== null) {
        // A create was tried before (sentAt marks it) and may have reached GitHub just before a crash.
        checkRunId = await this.existing(octokit, owner, repo, d.id, github.sha, content.name);
      }
      if (checkRunId === null) {
        const attempt = { version: row.sentVersion, checkRunId: null, annotations: row.annotations };
        await store.markCheckRunSent(id, { ...attempt, at: Date.now(), completed: false });
        checkRunId = (await octokit.rest.checks.create({ ...body, head_sha: github.sha })).data.id;
      } else {
        await octokit.rest.checks.update({ ...body, check_run_id: checkRunId });
      }
    } catch (err) {
      this.failed(id, err);
      return false;
    }
    this.failures.delete(id);
    this.lastSent.set(id, fingerprint);
    await store.markCheckRunSent(id, {
      version: row.version,
      checkRunId,
      at: Date.now(),
      annotations,
      completed,
    });
    if (annotations < failed.length) await store.touchCheckRun(id);
    if (completed) {
      this.lastSent.delete(id);
      this.reports.delete(id);
      log.info({ deployment: id, checkRunId, conclusion: content.conclusion }, 'check run completed');
    }
    return true;
  }

  /** The check run an earlier create made for this deployment (found by its external_id), if any. */
  private async existing(
    octokit: GitHubClient,
    owner: string,
    repo: string,
    deploymentId: string,
    sha: string,
    name: string,
  ): Promise<number | null> {
    const { data } = await octokit.rest.checks.listForRef({
      owner,
      repo,
      ref: sha,
      check_name: name,
      filter: 'all',
    });
    return data.check_runs.find((r) => r.external_id === deploymentId)?.id ?? null;
  }

  /** Backs off after a failure the plugins could not retry away; gives up on ones no retry can fix. */
  private failed(id: string, err: unknown): undefined {
    const status = (err as { status?: number }).status ?? 0;
    const message = (err as Error).message;
    const permanent =
      [401, 404, 410, 422].includes(status) || (status === 403 && !/rate limit/i.test(message));
    const count = (this.failures.get(id)?.count ?? 0) + 1;
    if (permanent) {
      this.opts.log.error(
        { deployment: id, status, err: message },
        'GitHub refused the check run; giving up on it',
      );
      void this.opts.store.getCheckRun(id).then((row) =>
        row
          ? this.opts.store.markCheckRunSent(id, {
              version: row.version,
              checkRunId: row.checkRunId,
              at: Date.now(),
              annotations: row.annotations,
              completed: true,
            })
          : undefined,
      );
      return undefined;
    }
    const delay = Math.min(1000 * 2 ** count, MAX_BACKOFF_MS);
    this.failures.set(id, { count, retryAt: Date.now() + delay });
    this.opts.log.warn(
      { deployment: id, status, err: message, retryInMs: delay },
      'check-run update failed; will retry',
    );
    return undefined;
  }
}
