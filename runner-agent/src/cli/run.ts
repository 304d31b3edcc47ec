// `flotilla run`: a one-shot embedded agent that runs one plan with live
// progress and exits 0 on success, 1 on failure.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { AgentClient } from '../../../src/client/client.ts';
import { AgentError } from '../../../src/client/errors.ts';
import { startAgent } from '../agent.ts';
import { type AgentFlags, resolveAgentSettings } from '../config/settings.ts';
import { followDeployment, type Out, type SubmitFlags, submitPlanFile } from './follow.ts';

const NO_TARGETS =
  'without --config this run has no targets, only the agent itself as a worker; pass the agent configuration that hosts them';

export async function runCommand(file: string, flags: AgentFlags & SubmitFlags, out: Out): Promise<number> {
  // Without a config the run gets a throwaway data dir; with one, its history is kept there.
  const temp = flags.config || flags.dataDir ? null : mkdtempSync(join(tmpdir(), 'flotilla-run-'));
  try {
    const settings = await resolveAgentSettings({
      ...flags,
      listen: '127.0.0.1:0',
      dataDir: flags.dataDir ?? temp ?? undefined,
    });
    const agent = await startAgent(settings, pino({ level: 'error' }, pino.destination(2)));
    try {
      const client = new AgentClient(agent.url);
      let id: string | null;
      try {
        id = await submitPlanFile(client, file, flags, out);
      } catch (err) {
        if (!flags.config && err instanceof AgentError && err.issues.some((i) => i.path.includes('/targets')))
          err.issues.push({ path: '--config', message: NO_TARGETS });
        throw err;
      }
      if (!id) return 1;
      const state = await followDeployment(client, id, out);
      return state === 'succeeded' ? 0 : 1;
    } finally {
      await agent.stop();
    }
  } finally {
    if (temp) rmSync(temp, { recursive: true, force: true });
  }
}
