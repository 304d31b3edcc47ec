// The `flotilla` command line: one line per command here, the work in the modules.
import { Command, Option } from 'commander';
import pkg from '../../../package.json' with { type: 'json' };
import { AgentError } from '../../../src/client/errors.ts';
import { SettingsError } from '../config/settings.ts';
import type { Out } from './follow.ts';

// Commands load their modules when they run, so the long-running agent does
// not carry the HTTP client and a one-off command does not carry the server.
const remote = () => import('./remote.ts');

const out: Out = {
  line: (t) => console.log(t),
  error: (t) => console.error(t),
  tty: Boolean(process.stdout.isTTY),
  status: (t) => process.stdout.write(`\r\x1b[2K${t}`),
};
const collect = (v: string, prev: string[] = []) => [...prev, v];
const agentUrl = () =>
  new Option('-a, --agent <url>', 'agent URL').env('FLOTILLA_AGENT_URL').default('http://127.0.0.1:8420');
const token = () => new Option('-t, --token <token>', 'API token').env('FLOTILLA_TOKEN');

async function exit(code: Promise<number>): Promise<void> {
  try {
    process.exitCode = await code;
  } catch (err) {
    if (err instanceof SettingsError || err instanceof AgentError) {
      console.error(`flotilla: ${err.message}`);
      if (err instanceof AgentError) for (const i of err.issues) console.error(`  ${i.path}: ${i.message}`);
    } else {
      console.error(`flotilla: ${(err as Error).message}`);
    }
    process.exitCode = 2;
  }
}

const program = new Command('flotilla')
  .description(
    'Deployment coordinator for GitHub Actions: task caps, concurrency tags, workers and packages.',
  )
  .version(pkg.version, '-V, --version', 'print the version')
  .showHelpAfterError();

const agentOptions = (c: Command) =>
  c
    .option('-c, --config <file>', 'agent config (flotilla.yml)')
    .option('--listen <host:port>', 'address to listen on (default 127.0.0.1:8420)')
    .option('--data-dir <dir>', 'embedded store and work files (default ./.flotilla)')
    .option('--database-url <url>', 'PostgreSQL shared by several nodes')
    .option('--node <name>', 'node name (default: host name)')
    .option('--task-cap <n>', 'tasks this node runs at once (default 5; 0 drains)')
    .option('--lease-ttl <duration>', 'how soon a dead node loses its tasks (default 30s)');

agentOptions(
  program.command('agent').description('run a coordinator and its local worker until SIGTERM (which drains)'),
).action(async (opts) => exit((await import('./agent.ts')).agentCommand(opts)));

agentOptions(
  program
    .command('run')
    .description('run a plan once on an embedded agent, with live progress; exit 0 on success, 1 on failure')
    .argument('<plan>', 'plan file'),
)
  .option('-r, --release <version>', 'release (overrides the plan)')
  .option('-e, --environment <name>', 'environment (overrides the plan)')
  .option('--tenant <name>', 'deploy only this tenant (repeatable)', collect)
  .action(async (file, opts) => exit((await import('./run.ts')).runCommand(file, opts, out)));

program
  .command('worker')
  .description('run a remote worker: take actions from a coordinator and run them on this machine')
  .addOption(
    new Option('--coordinator <url>', 'the coordinator agent URL')
      .env('FLOTILLA_COORDINATOR')
      .makeOptionMandatory(),
  )
  .addOption(token())
  .option('--name <name>', 'worker name (default: host name)')
  .option('--pool <pool>', 'a pool this worker belongs to (repeatable; default: default)', collect)
  .option('--target <name:roles>', 'a target this worker hosts, e.g. web-1:web,api (repeatable)', collect)
  .option('--root <dir>', 'flag targets install under <dir>/<target>')
  .option('-c, --config <file>', 'config file (worker, packages and dataDir of the agent config format)')
  .option('--data-dir <dir>', 'package cache and work files (default ./.flotilla-worker)')
  .option('--max-actions <n>', 'actions this worker runs at once (default 10)')
  .action(async (opts) => exit((await import('./worker.ts')).workerCommand(opts)));

program
  .command('validate')
  .description('check plans; print every problem with its path and line')
  .argument('<plan...>', 'plan files (YAML or JSON)')
  .option('-c, --config <file>', 'an agent config whose targets each step must match')
  .option('-e, --environment <name>', 'environment to expand the plan for')
  .option('-r, --release <version>', 'release to expand the plan for')
  .action(async (files: string[], opts) =>
    exit((await import('./validate.ts')).validateCommand(files, opts, out.line)),
  );

program
  .command('deploy')
  .description('submit a plan to a running agent')
  .argument('<plan>', 'plan file')
  .addOption(agentUrl())
  .addOption(token())
  .option('-r, --release <version>', 'release (overrides the plan)')
  .option('-e, --environment <name>', 'environment (overrides the plan)')
  .option('--tenant <name>', 'deploy only this tenant (repeatable)', collect)
  .option('-w, --wait', 'follow the deployment to the end; exit 1 if it fails')
  .action(async (file, opts) => exit((await remote()).deployCommand(file, opts, out)));

program
  .command('status')
  .description(
    'a deployment, or the nodes, the workers, the queue with why each task waits, and recent deployments',
  )
  .argument('[deployment]', 'deployment id')
  .addOption(agentUrl())
  .addOption(token())
  .action(async (id, opts) => exit((await remote()).statusCommand(id, opts, out)));

program
  .command('cancel')
  .description('cancel a deployment: queued tasks at once, running actions get SIGTERM')
  .argument('<deployment>', 'deployment id')
  .addOption(agentUrl())
  .addOption(token())
  .action(async (id, opts) => exit((await remote()).cancelCommand(id, opts, out)));

program
  .command('drain')
  .description('set a node to task cap 0: running tasks finish, queued ones wait or go to other nodes')
  .argument('<node>', 'node name')
  .addOption(agentUrl())
  .addOption(token())
  .option('-w, --wait', 'return once the node runs no task')
  .action(async (node, opts) => exit((await remote()).drainCommand(node, opts, out)));

program
  .command('resume')
  .description('give a drained node back its task cap')
  .argument('<node>', 'node name')
  .addOption(agentUrl())
  .addOption(token())
  .action(async (node, opts) => exit((await remote()).resumeCommand(node, opts, out)));

program
  .command('cap')
  .description("change a node's task cap")
  .argument('<node>', 'node name')
  .argument('<n>', 'new task cap')
  .addOption(agentUrl())
  .addOption(token())
  .action(async (node, n, opts) => exit((await remote()).capCommand(node, n, opts, out)));

await program.parseAsync();
