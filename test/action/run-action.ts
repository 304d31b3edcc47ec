// Runs the action the way the GitHub runner does: a child process with the
// inputs as INPUT_* variables (defaults filled from action.yml), the runner's
// GITHUB_* variables, and files for GITHUB_OUTPUT, GITHUB_STEP_SUMMARY,
// GITHUB_STATE and GITHUB_EVENT_PATH, read back after the step.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { NODE_BIN, REPO, tempDir } from '../helpers/util.ts';

/**
 * The action's entry points, as action.yml names them: the committed bundles
 * (check-dist keeps them equal to the sources; run `npm run build` after
 * changing src/).
 */
export const ACTION_ENTRY = {
  main: join(REPO, 'dist/index.js'),
  post: join(REPO, 'dist/post/index.js'),
};

export const WORKFLOW_TOKEN = 'ghs_workflowtoken';

export interface ActionRun {
  proc: ChildProcess;
  done: Promise<ActionResult>;
  /** State saved so far (core.saveState), for a post step. */
  state(): Record<string, string>;
}

export interface ActionResult {
  code: number | null;
  log: string;
  outputs: Record<string, string>;
  summary: string;
  state: Record<string, string>;
}

export interface RunOptions {
  cwd: string;
  env?: Record<string, string>;
  event?: Record<string, unknown>;
  state?: Record<string, string>;
  timeoutMs?: number;
}

const actionYml = parse(readFileSync(join(REPO, 'action.yml'), 'utf8')) as {
  inputs: Record<string, { default?: string }>;
};

/** The runner's file commands: `name<<DELIMITER\nvalue\nDELIMITER`, or `name=value`. */
function readFileCommands(file: string): Record<string, string> {
  const text = readFileSync(file, 'utf8');
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^=<]+)<<(.+)$/.exec(lines[i]!);
    if (m) {
      const value: string[] = [];
      while (++i < lines.length && lines[i] !== m[2]) value.push(lines[i]!);
      out[m[1]!] = value.join('\n');
    } else if (lines[i]!.includes('=')) {
      const [k, ...v] = lines[i]!.split('=');
      out[k!] = v.join('=');
    }
  }
  return out;
}

export function startAction(
  step: 'main' | 'post',
  inputs: Record<string, string>,
  opts: RunOptions,
): ActionRun {
  const dir = tempDir('flotilla-runner-');
  const files = {
    GITHUB_OUTPUT: join(dir, 'output'),
    GITHUB_STEP_SUMMARY: join(dir, 'summary'),
    GITHUB_STATE: join(dir, 'state'),
    GITHUB_EVENT_PATH: join(dir, 'event.json'),
  };
  for (const f of Object.values(files)) writeFileSync(f, '');
  writeFileSync(files.GITHUB_EVENT_PATH, JSON.stringify(opts.event ?? { ref: 'refs/heads/main' }));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? dir,
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_REPOSITORY: 'acme/storefront',
    GITHUB_REPOSITORY_OWNER: 'acme',
    GITHUB_SHA: 'c0ffee'.padEnd(40, '1'),
    GITHUB_REF: 'refs/heads/main',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_RUN_ID: '9001',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_JOB: 'deploy',
    GITHUB_WORKFLOW: 'deploy',
    GITHUB_API_URL: 'https://api.github.com',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_WORKSPACE: opts.cwd,
    RUNNER_TEMP: dir,
    ...files,
    ...opts.env,
  };
  // The runner fills every input, defaults included; `${{ github.token }}` is the job's token.
  for (const [name, spec] of Object.entries(actionYml.inputs)) {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub expression, not a JS template
    const value = inputs[name] ?? spec.default?.replace('${{ github.token }}', WORKFLOW_TOKEN) ?? '';
    env[`INPUT_${name.toUpperCase()}`] = value;
  }
  for (const [k, v] of Object.entries(opts.state ?? {})) env[`STATE_${k}`] = v;

  const proc = spawn(NODE_BIN, [ACTION_ENTRY[step]], {
    cwd: opts.cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
    log += d;
  });
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
    log += d;
  });
  const timer = setTimeout(() => proc.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
  const done = new Promise<ActionResult>((resolve) => {
    proc.on('exit', (code) => {
      clearTimeout(timer);
      resolve({
        code,
        log,
        outputs: readFileCommands(files.GITHUB_OUTPUT),
        summary: readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
        state: readFileCommands(files.GITHUB_STATE),
      });
    });
  });
  return { proc, done, state: () => readFileCommands(files.GITHUB_STATE) };
}

export function runAction(step: 'main' | 'post', inputs: Record<string, string>, opts: RunOptions) {
  return startAction(step, inputs, opts).done;
}
