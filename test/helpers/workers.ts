// Workers for scheduler tests: local peers implementing the Worker interface
// (what remote workers implement too), not mocked modules, so that a test
// decides how actions end while the coordinator, task runners and store are
// the real ones.
import type {
  AcquireReport,
  ActionRequest,
  ActionResult,
  Worker,
} from '../../runner-agent/src/worker/types.ts';
import type { Target } from '../../src/plan/index.ts';

/** Runs every action at once, successfully: the scheduling is what is under test. */
export class InstantWorker implements Worker {
  readonly name: string = 'instant';
  readonly pools = ['default'];
  readonly targets: readonly Target[] = [];
  runningActions = 0;
  async execute(_request: ActionRequest): Promise<ActionResult> {
    return { ok: true, cancelled: false, exitCode: 0, message: 'exit code 0' };
  }
  acquire(): Promise<AcquireReport> {
    return Promise.reject(new Error('this plan deploys no packages'));
  }
  releasePackages(): void {}
}
