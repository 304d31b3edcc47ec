// The action's main step.
import * as core from '@actions/core';
import { formatIssue, loadPlanFile } from '../plan/index.ts';
import { readSettings, type Settings } from './settings.ts';

export async function run(settings: Settings): Promise<void> {
  if (settings.command !== 'deploy') {
    throw new Error(`command ${settings.command} is not available in this version of the action`);
  }
  const result = await loadPlanFile(settings.planPath);
  if (!result.ok) {
    for (const issue of result.issues) {
      core.error(`${issue.path}: ${issue.message}`, {
        file: settings.planPath,
        startLine: issue.line,
        startColumn: issue.column,
      });
    }
    throw new Error(
      `${settings.planPath} is not a valid plan:\n${result.issues.map((i) => formatIssue(settings.planPath, i)).join('\n')}`,
    );
  }
  core.info(`plan ${settings.planPath}: project ${result.plan.project}, ${result.plan.steps.length} steps`);
}

export async function main(): Promise<void> {
  try {
    await run(readSettings());
  } catch (err) {
    core.setFailed((err as Error).message);
  }
}
