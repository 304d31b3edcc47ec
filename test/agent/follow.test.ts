// Following a deployment on a terminal (flotilla run, flotilla deploy --wait):
// a line per transition, and a counter that stays on the last line. A real
// agent runs real scripts; the terminal is the recorded calls.
import { afterEach, expect, it } from 'vitest';
import { followDeployment } from '../../runner-agent/src/cli/follow.ts';
import { AgentClient } from '../../src/client/client.ts';
import { startTestAgent, stopTestAgents } from '../helpers/agent.ts';
import { submit } from '../helpers/deploy.ts';
import { removeTempDirs } from '../helpers/util.ts';

afterEach(async () => {
  await stopTestAgents();
  removeTempDirs();
});

it('draws the counter again right after the lines that pushed it away, and clears it at the end', async () => {
  const agent = await startTestAgent({ taskCap: 2 });
  const tenants = ['a', 'b', 'c', 'd', 'e', 'f'];
  const sub = await submit(agent, {
    plan: {
      version: 1,
      project: 'shop',
      environment: 'prod',
      release: '1.0.0',
      tenants,
      steps: [{ name: 'work', on: 'worker', run: 'sleep 0.05' }],
    },
  });
  const calls: { to: 'line' | 'status'; text: string }[] = [];
  const state = await followDeployment(new AgentClient(agent.url), sub.id, {
    tty: true,
    line: (text) => calls.push({ to: 'line', text }),
    status: (text) => calls.push({ to: 'status', text }),
    error: (text) => calls.push({ to: 'line', text }),
  });
  expect(state).toBe('succeeded');

  const table = calls.findIndex((c) => c.to === 'line' && c.text.startsWith('TENANT'));
  expect(table).toBe(calls.length - 1);
  // Cleared before the final table...
  expect(calls[table - 1]).toEqual({ to: 'status', text: '' });
  const following = calls.slice(0, table - 1);
  expect(following.filter((c) => c.to === 'line').length).toBeGreaterThanOrEqual(2 * tenants.length);
  following.forEach((c, i) => {
    if (c.to !== 'line') return;
    // ...and while following, never left cleared after a line: the next draw is the counter.
    const next = following.slice(i + 1).find((n) => n.to === 'status');
    expect(next?.text, `after "${c.text}"`).toMatch(/^6 tasks: /);
  });
  const counters = following.filter((c) => c.to === 'status' && c.text !== '');
  expect(counters.at(-1)!.text).toBe('6 tasks: 0 running, 0 queued, 6 succeeded, 0 failed');
});
