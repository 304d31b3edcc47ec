// The /metrics text is written by hand (api/metrics.ts): these pin it to the
// Prometheus text format as prom-client wrote it before, sample by sample.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../runner-agent/src/api/metrics.ts';
import type { Coordinator } from '../../runner-agent/src/scheduler/coordinator.ts';

function coordinator(queuedAt: number[], nodes: { name: string; running: number; taskCap: number }[]) {
  const store = {
    queuedTasks: async () => queuedAt.map((at) => ({ queuedAt: at })),
    now: async () => 100_000,
    listNodes: async () => nodes,
  };
  return { signals: new EventEmitter(), store } as unknown as Coordinator;
}

describe('metrics text', () => {
  it('gauges are read at scrape time; metrics without a sample keep their HELP and TYPE', async () => {
    const co = coordinator([98_500, 99_000], [{ name: 'n1', running: 2, taskCap: 5 }]);
    const metrics = createMetrics(co);
    expect(metrics.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await metrics.render();
    expect(text).toContain(
      [
        '# HELP flotilla_queue_depth Tasks queued, waiting to start',
        '# TYPE flotilla_queue_depth gauge',
        'flotilla_queue_depth 2',
        '',
        '# HELP flotilla_oldest_queued_age_seconds Age of the oldest queued task',
        '# TYPE flotilla_oldest_queued_age_seconds gauge',
        'flotilla_oldest_queued_age_seconds 1.5',
        '',
        '# HELP flotilla_running_tasks Tasks running, per node',
        '# TYPE flotilla_running_tasks gauge',
        'flotilla_running_tasks{node="n1"} 2',
        '',
      ].join('\n'),
    );
    expect(text).toMatch(
      /\n# HELP flotilla_tasks_finished_total Tasks that ended, by state\n# TYPE flotilla_tasks_finished_total counter\n\n/,
    );
    expect(text.endsWith('# TYPE flotilla_package_acquire_seconds histogram\n')).toBe(true);
  });

  it('histograms count cumulatively per label set, in the order first seen', async () => {
    const co = coordinator([], []);
    const metrics = createMetrics(co);
    for (const [state, seconds] of [
      ['failed', 7200],
      ['succeeded', 0.1],
      ['failed', 12],
    ] as const) {
      co.signals.emit('taskEnded', { state, seconds });
    }
    const text = await metrics.render();
    const bucket = (le: string, state: string, n: number) =>
      `flotilla_task_duration_seconds_bucket{le="${le}",state="${state}"} ${n}`;
    expect(text).toContain(
      [
        '# TYPE flotilla_task_duration_seconds histogram',
        ...['0.1', '0.5', '1', '5'].map((le) => bucket(le, 'failed', 0)),
        ...['15', '60', '300', '900', '3600', '+Inf'].map((le, i) => bucket(le, 'failed', i < 5 ? 1 : 2)),
        'flotilla_task_duration_seconds_sum{state="failed"} 7212',
        'flotilla_task_duration_seconds_count{state="failed"} 2',
        ...['0.1', '0.5', '1', '5', '15', '60', '300', '900', '3600', '+Inf'].map((le) =>
          bucket(le, 'succeeded', 1),
        ),
        'flotilla_task_duration_seconds_sum{state="succeeded"} 0.1',
        'flotilla_task_duration_seconds_count{state="succeeded"} 1',
        '',
      ].join('\n'),
    );
    expect(text).toContain('flotilla_tasks_finished_total{state="failed"} 2\n');
  });

  it('escapes label values and keeps the label order of the observation', async () => {
    const co = coordinator([], []);
    const metrics = createMetrics(co);
    const worker = 'w"1\\a\nb';
    co.signals.emit('packageAcquired', { worker, cache: 'miss', seconds: 0.5, bytes: 300 });
    co.signals.emit('packageAcquired', { worker, error: 'refused' });
    co.signals.emit('packageAcquired', { worker, cache: 'miss', seconds: 2, bytes: 200 });
    const text = await metrics.render();
    expect(text).toContain(
      [
        'flotilla_package_acquisitions_total{worker="w\\"1\\\\a\\nb",cache="miss"} 2',
        'flotilla_package_acquisitions_total{worker="w\\"1\\\\a\\nb",cache="failed"} 1',
        '',
      ].join('\n'),
    );
    expect(text).toContain('flotilla_package_downloaded_bytes_total{worker="w\\"1\\\\a\\nb"} 500\n');
    expect(text).toContain('flotilla_package_acquire_seconds_bucket{le="1",cache="miss"} 1\n');
  });
});
