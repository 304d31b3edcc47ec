// GitHub clients for check runs: octokit with the throttling and retry
// plugins, authenticated as the agent's GitHub App installation of the
// repository when an app is configured, else with the token sent with the plan.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { GithubContext } from '../store/types.ts';

/** Octokit and its plugins take most of a second to load: only agents that report to GitHub pay for it. */
async function loadOctokit() {
  const [{ createAppAuth }, { retry }, { throttling }, { Octokit }] = await Promise.all([
    import('@octokit/auth-app'),
    import('@octokit/plugin-retry'),
    import('@octokit/plugin-throttling'),
    import('@octokit/rest'),
  ]);
  return { createAppAuth, GitHub: Octokit.plugin(throttling, retry) };
}
type Loaded = Awaited<ReturnType<typeof loadOctokit>>;
type GitHubClass = Loaded['GitHub'];
export type GitHubClient = InstanceType<GitHubClass>;
let loading: Promise<Loaded> | null = null;

export interface GithubSettings {
  apiUrl: string;
  app?: { id: number; privateKey: string };
  /** At most one check-run update per deployment this often (design: 10 s). */
  checkIntervalMs: number;
}

/** Rate limits are waited out (throttling); other transient failures are retried (retry plugin). */
const RETRIES = 4;

function client(
  GitHub: GitHubClass,
  apiUrl: string,
  auth: ConstructorParameters<GitHubClass>[0],
  log: Logger,
): GitHubClient {
  return new GitHub({
    ...auth,
    baseUrl: apiUrl.replace(/\/+$/, ''),
    userAgent: 'flotilla-agent',
    log: {
      debug: () => {},
      info: () => {},
      warn: (m: string) => log.warn(m),
      error: (m: string) => log.error(m),
    },
    request: { retries: RETRIES },
    throttle: {
      onRateLimit: (retryAfter: number, o: { method: string; url: string }, _k: unknown, count: number) => {
        log.warn({ retryAfter, url: o.url }, 'GitHub rate limit; waiting');
        return count < RETRIES;
      },
      onSecondaryRateLimit: (
        retryAfter: number,
        o: { method: string; url: string },
        _k: unknown,
        count: number,
      ) => {
        log.warn({ retryAfter, url: o.url }, 'GitHub secondary rate limit; waiting');
        return count < RETRIES;
      },
    },
  });
}

/** One client per credential, so the throttling plugin's limits apply across deployments. */
export class GitHubClients {
  private readonly settings: GithubSettings;
  private readonly log: Logger;
  private readonly byKey = new Map<string, GitHubClient>();

  constructor(settings: GithubSettings, log: Logger) {
    this.settings = settings;
    this.log = log;
  }

  /** Null when there is no way to authenticate for this repository. */
  async for(github: GithubContext): Promise<GitHubClient | null> {
    const app = this.settings.app;
    if (!app && !github.token) return null;
    loading ??= loadOctokit();
    const loaded = await loading;
    if (app) return this.installation(loaded, github, app);
    if (!github.token) return null;
    // The submission's apiUrl wins with its token: it is the GitHub (Enterprise Server) that issued the token.
    const key = createHash('sha256').update(`${github.apiUrl}\n${github.token}`).digest('hex');
    let c = this.byKey.get(key);
    if (!c) {
      c = client(loaded.GitHub, github.apiUrl, { auth: github.token }, this.log);
      this.byKey.set(key, c);
    }
    return c;
  }

  private async installation(
    { GitHub, createAppAuth }: Loaded,
    github: GithubContext,
    app: { id: number; privateKey: string },
  ): Promise<GitHubClient> {
    const key = `app\n${github.repository}`;
    const cached = this.byKey.get(key);
    if (cached) return cached;
    const base = { appId: app.id, privateKey: app.privateKey };
    const asApp = client(GitHub, this.settings.apiUrl, { authStrategy: createAppAuth, auth: base }, this.log);
    const [owner, repo] = github.repository.split('/') as [string, string];
    const { data } = await asApp.rest.apps.getRepoInstallation({ owner, repo });
    // auth-app caches the installation token and renews it before it expires.
    const c = client(
      GitHub,
      this.settings.apiUrl,
      { authStrategy: createAppAuth, auth: { ...base, installationId: data.id } },
      this.log,
    );
    this.byKey.set(key, c);
    return c;
  }
}
