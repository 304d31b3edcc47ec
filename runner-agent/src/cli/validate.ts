// `flotilla validate PLAN...`: every problem of every plan, with path and line.
import { dirname } from 'node:path';
import {
  checkInventory,
  expandDeployment,
  formatIssue,
  loadPlanFile,
  type Target,
} from '../../../src/plan/index.ts';
import { inventoryOf, loadAgentConfigFile } from '../config/load.ts';

export interface ValidateOptions {
  config?: string;
  environment?: string;
  release?: string;
}

export async function validateCommand(
  files: string[],
  opts: ValidateOptions,
  out: (line: string) => void,
): Promise<number> {
  let inventory: Target[] | undefined;
  if (opts.config) {
    const config = await loadAgentConfigFile(opts.config);
    if (!config.ok) {
      for (const issue of config.issues) out(formatIssue(opts.config, issue));
      return 1;
    }
    inventory = inventoryOf(config.config, dirname(opts.config));
  }
  let failed = 0;
  for (const file of files) {
    const result = await loadPlanFile(file);
    let issues = result.ok ? [] : result.issues;
    let summary = '';
    if (result.ok) {
      const { plan } = result;
      // Expansion needs an environment and a release; validation only checks shapes, so any will do.
      const spec = expandDeployment(plan, {
        environment: opts.environment ?? plan.environment ?? 'validate',
        release: opts.release ?? plan.release ?? 'validate',
      });
      if (!spec.ok) issues = spec.issues;
      else if (inventory) issues = checkInventory(plan, spec.value, inventory);
      const tenants = plan.tenants ? plural(plan.tenants.length, 'tenant') : 'untenanted';
      summary = [
        tenants,
        plural(plan.steps.length, 'step'),
        inventory ? plural(inventory.length, 'target') : '',
      ]
        .filter(Boolean)
        .join(', ');
    }
    if (issues.length === 0) {
      out(`${file}: ok (${summary})`);
      continue;
    }
    failed++;
    for (const issue of issues) out(formatIssue(file, issue));
  }
  if (files.length > 1) out(`${files.length - failed} valid, ${failed} invalid`);
  return failed > 0 ? 1 : 0;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
