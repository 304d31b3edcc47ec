// What the coordinator asks of a worker: run one action. The agent's own
// worker (local.ts) runs it in a child process; remote workers take it over HTTP.
import type { Target } from '../../../src/plan/index.ts';
import type { Acquired, PackageSpec } from '../packages/cache.ts';

export interface ActionRequest {
  actionId: string;
  kind: 'run' | 'deploy';
  /** Bash script text, already interpolated. */
  script: string;
  /** The action's variables; the worker lays them over its own environment. */
  env: Record<string, string>;
  timeoutMs: number;
  target: Target | null;
  /**
   * Where the script runs. Steps on targets run in the tenant's project
   * directory on the target, <root>/<tenant|_>/<project>, which persists across
   * steps and releases; worker steps get a fresh directory (absent here).
   */
  cwd?: string;
  /** Deploy actions: the package to install into <cwd>/<release>. */
  deploy?: { package: PackageSpec; release: string; keepReleases: number };
}

/** One package acquisition on a worker (design rule 4), as events and metrics report it. */
export interface AcquireReport extends Acquired {
  package: string;
  worker: string;
}

export interface ActionResult {
  ok: boolean;
  cancelled: boolean;
  exitCode: number | null;
  message: string;
}

export interface Worker {
  readonly name: string;
  readonly pools: readonly string[];
  readonly targets: readonly Target[];
  readonly runningActions: number;
  execute(
    request: ActionRequest,
    signal: AbortSignal,
    onLine: (stream: 'stdout' | 'stderr', line: string) => void,
  ): Promise<ActionResult>;
  /**
   * Makes a package available on this worker (downloaded once per sha256
   * however many tasks ask at once) and pins it for `holder` until
   * releasePackages(holder).
   */
  acquire(
    spec: PackageSpec,
    holder: string,
    signal: AbortSignal,
    onLine: (line: string) => void,
  ): Promise<AcquireReport>;
  releasePackages(holder: string): void;
}
