// Start-up time to ready and idle RSS of the bundled agent, next to a bare
// `node` process started the same way as the baseline.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fmt } from './lib.ts';

const AGENT = resolve(import.meta.dirname, '../dist/agent/index.js');

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

async function startOnce(): Promise<{ readyMs: number; rss: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-startup-'));
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [AGENT, 'agent', '--data-dir', dir, '--listen', '127.0.0.1:0', '--node', 'startup'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  try {
    const readyMs = await new Promise<number>((res, rej) => {
      let buf = '';
      child.stdout.on('data', (c) => {
        buf += c;
        if (buf.includes('agent ready')) res(performance.now() - t0);
      });
      child.on('exit', (code) => rej(new Error(`agent exited with ${code}: ${buf}`)));
    });
    await new Promise((r) => setTimeout(r, 1500));
    return { readyMs, rss: rssMb(child.pid!) };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

async function bareNodeMs(): Promise<number> {
  const t0 = performance.now();
  await new Promise((r) => spawn(process.execPath, ['-e', '0']).once('exit', r));
  return performance.now() - t0;
}

export async function startupBench() {
  const runs = [];
  const bare = [];
  for (let i = 0; i < 5; i++) {
    runs.push(await startOnce());
    bare.push(await bareNodeMs());
  }
  const readyMs = runs.map((r) => r.readyMs).sort((a, b) => a - b)[2]!;
  const rss = runs.map((r) => r.rss).sort((a, b) => a - b)[2]!;
  const bareMs = bare.sort((a, b) => a - b)[2]!;
  return {
    name: 'agent start-up and idle memory (median of 5)',
    readyMs,
    bareNodeMs: bareMs,
    idleRssMb: rss,
    goal: '< 500 ms to ready, < 80 MB RSS',
    line: `start-up to ready ${fmt(readyMs, 0)} ms (bare node ${fmt(bareMs, 0)} ms; goal < 500 ms), idle RSS ${fmt(rss, 1)} MB (goal < 80 MB)`,
  };
}
