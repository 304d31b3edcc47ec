// `flotilla agent`: a long-running coordinator until SIGTERM, which drains.
import { startAgent } from '../agent.ts';
import { type AgentFlags, resolveAgentSettings } from '../config/settings.ts';
import { cliLogger } from './log.ts';

export async function agentCommand(flags: AgentFlags): Promise<number> {
  const settings = await resolveAgentSettings(flags);
  const log = cliLogger();
  const agent = await startAgent(settings, log);
  await new Promise<void>((resolve) => {
    const onSignal = (sig: string) => {
      log.info(
        { signal: sig, running: agent.coordinator.runningCount },
        'draining: waiting for running tasks, then exiting',
      );
      resolve();
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
  await agent.stop();
  log.info('stopped');
  return 0;
}
