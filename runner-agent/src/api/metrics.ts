// GET /metrics: Prometheus text (exposition format 0.0.4). Gauges are read
// from the store at scrape time, so they are right on every node of a
// cluster; counters and histograms count this node's events since it started.
// The text is written here rather than by prom-client: for these ten metrics
// its registry, cluster aggregator, push gateway and default metrics cost the
// idle agent about 2 MB of memory. The output is the same as prom-client's.
import type { Coordinator } from '../scheduler/coordinator.ts';
import type { AcquireReport } from '../worker/types.ts';

type Labels = Record<string, string>;

/** `a="x",b="y"`, in the order given, values escaped as the format wants. */
function labelText(labels: Labels): string {
  let text = '';
  for (const k in labels) {
    const v = labels[k]!;
    // Called for every action that ends: most values need no escaping.
    const escaped = /[\\\n"]/.test(v)
      ? v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')
      : v;
    text += `${text ? ',' : ''}${k}="${escaped}"`;
  }
  return text;
}

/** One sample line; `labels` as labelText writes them. */
function sample(name: string, labels: string, value: number): string {
  return `${name}${labels ? `{${labels}}` : ''} ${value}`;
}

/** A metric's text: its HELP and TYPE lines, then its samples. */
function block(name: string, help: string, type: string, samples: string[]): string {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples].join('\n');
}

// Counters and histograms keep their series by label values (as labelText
// writes them), in the order first seen, as prom-client lists them.

function counter(name: string, help: string) {
  const series = new Map<string, number>();
  return {
    inc(labels: Labels, by = 1): void {
      const key = labelText(labels);
      series.set(key, (series.get(key) ?? 0) + by);
    },
    text: () =>
      block(
        name,
        help,
        'counter',
        [...series].map(([labels, v]) => sample(name, labels, v)),
      ),
  };
}

/** Buckets are cumulative in the text: a sample counts in every bucket whose bound it does not pass. */
function histogram(name: string, help: string, bounds: number[]) {
  const series = new Map<string, { buckets: number[]; sum: number; count: number }>();
  return {
    observe(labels: Labels, value: number): void {
      const key = labelText(labels);
      let s = series.get(key);
      if (!s) {
        s = { buckets: bounds.map(() => 0), sum: 0, count: 0 };
        series.set(key, s);
      }
      const i = bounds.findIndex((b) => value <= b);
      if (i >= 0) s.buckets[i]! += 1;
      s.sum += value;
      s.count += 1;
    },
    text: () =>
      block(
        name,
        help,
        'histogram',
        [...series].flatMap(([labels, s]) => {
          const rest = labels ? `,${labels}` : '';
          let cumulative = 0;
          return [
            ...bounds.map((b, i) => {
              cumulative += s.buckets[i]!;
              return sample(`${name}_bucket`, `le="${b}"${rest}`, cumulative);
            }),
            sample(`${name}_bucket`, `le="+Inf"${rest}`, s.count),
            sample(`${name}_sum`, labels, s.sum),
            sample(`${name}_count`, labels, s.count),
          ];
        }),
      ),
  };
}

export function createMetrics(co: Coordinator) {
  const taskDuration = histogram(
    'flotilla_task_duration_seconds',
    'Task run time, by final state',
    [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
  );
  const actionDuration = histogram(
    'flotilla_action_duration_seconds',
    'Action run time, by final state',
    [0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900],
  );
  const tasksFinished = counter('flotilla_tasks_finished_total', 'Tasks that ended, by state');
  co.signals.on('taskEnded', (e: { state: string; seconds: number }) => {
    taskDuration.observe({ state: e.state }, e.seconds);
    tasksFinished.inc({ state: e.state });
  });
  co.signals.on('actionEnded', (e: { state: string; seconds: number }) =>
    actionDuration.observe({ state: e.state }, e.seconds),
  );
  const acquisitions = counter(
    'flotilla_package_acquisitions_total',
    'Package acquisitions by worker and cache result (hit, miss, joined: waited for a download under way, failed)',
  );
  const downloaded = counter(
    'flotilla_package_downloaded_bytes_total',
    'Package bytes downloaded (cache misses), by worker',
  );
  const acquireSeconds = histogram(
    'flotilla_package_acquire_seconds',
    'Time to acquire a package, by cache result',
    [0.001, 0.01, 0.1, 0.5, 1, 5, 15, 60, 300],
  );
  co.signals.on('packageAcquired', (r: AcquireReport | { worker: string; error: string }) => {
    if (!('cache' in r)) return acquisitions.inc({ worker: r.worker, cache: 'failed' });
    acquisitions.inc({ worker: r.worker, cache: r.cache });
    acquireSeconds.observe({ cache: r.cache }, r.seconds);
    if (r.cache === 'miss') downloaded.inc({ worker: r.worker }, r.bytes);
  });

  const gauge = (name: string, help: string, series: [Labels, number][]) =>
    block(
      name,
      help,
      'gauge',
      series.map(([labels, v]) => sample(name, labelText(labels), v)),
    );
  const render = async () => {
    const [queued, now, nodes] = await Promise.all([
      co.store.queuedTasks(),
      co.store.now(),
      co.store.listNodes(),
    ]);
    const oldest = queued.reduce((min, t) => Math.min(min, t.queuedAt), now);
    const blocks = [
      gauge('flotilla_queue_depth', 'Tasks queued, waiting to start', [[{}, queued.length]]),
      gauge('flotilla_oldest_queued_age_seconds', 'Age of the oldest queued task', [
        [{}, (now - oldest) / 1000],
      ]),
      gauge(
        'flotilla_running_tasks',
        'Tasks running, per node',
        nodes.map((n) => [{ node: n.name }, n.running]),
      ),
      gauge(
        'flotilla_task_cap',
        'Task cap, per node (0 while draining)',
        nodes.map((n) => [{ node: n.name }, n.taskCap]),
      ),
      taskDuration.text(),
      actionDuration.text(),
      tasksFinished.text(),
      acquisitions.text(),
      downloaded.text(),
      acquireSeconds.text(),
    ];
    return `${blocks.join('\n\n')}\n`;
  };
  return { contentType: 'text/plain; version=0.0.4; charset=utf-8', render };
}
