// GET /metrics: Prometheus text. Gauges are read from the store at scrape
// time, so they are right on every node of a cluster.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Coordinator } from '../scheduler/coordinator.ts';
import type { AcquireReport } from '../worker/types.ts';

export function createMetrics(co: Coordinator) {
  const registry = new Registry();
  new Gauge({
    name: 'flotilla_queue_depth',
    help: 'Tasks queued, waiting to start',
    registers: [registry],
    async collect() {
      this.set((await co.store.queuedTasks()).length);
    },
  });
  new Gauge({
    name: 'flotilla_oldest_queued_age_seconds',
    help: 'Age of the oldest queued task',
    registers: [registry],
    async collect() {
      const queued = await co.store.queuedTasks();
      const now = await co.store.now();
      const oldest = queued.reduce((min, t) => Math.min(min, t.queuedAt), now);
      this.set((now - oldest) / 1000);
    },
  });
  new Gauge({
    name: 'flotilla_running_tasks',
    help: 'Tasks running, per node',
    labelNames: ['node'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const n of await co.store.listNodes()) this.set({ node: n.name }, n.running);
    },
  });
  new Gauge({
    name: 'flotilla_task_cap',
    help: 'Task cap, per node (0 while draining)',
    labelNames: ['node'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const n of await co.store.listNodes()) this.set({ node: n.name }, n.taskCap);
    },
  });
  const taskDuration = new Histogram({
    name: 'flotilla_task_duration_seconds',
    help: 'Task run time, by final state',
    labelNames: ['state'],
    buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
    registers: [registry],
  });
  const actionDuration = new Histogram({
    name: 'flotilla_action_duration_seconds',
    help: 'Action run time, by final state',
    labelNames: ['state'],
    buckets: [0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900],
    registers: [registry],
  });
  const tasksFinished = new Counter({
    name: 'flotilla_tasks_finished_total',
    help: 'Tasks that ended, by state',
    labelNames: ['state'],
    registers: [registry],
  });
  co.signals.on('taskEnded', (e: { state: string; seconds: number }) => {
    taskDuration.observe({ state: e.state }, e.seconds);
    tasksFinished.inc({ state: e.state });
  });
  co.signals.on('actionEnded', (e: { state: string; seconds: number }) =>
    actionDuration.observe({ state: e.state }, e.seconds),
  );
  const acquisitions = new Counter({
    name: 'flotilla_package_acquisitions_total',
    help: 'Package acquisitions by worker and cache result (hit, miss, joined: waited for a download under way, failed)',
    labelNames: ['worker', 'cache'],
    registers: [registry],
  });
  const downloaded = new Counter({
    name: 'flotilla_package_downloaded_bytes_total',
    help: 'Package bytes downloaded (cache misses), by worker',
    labelNames: ['worker'],
    registers: [registry],
  });
  const acquireSeconds = new Histogram({
    name: 'flotilla_package_acquire_seconds',
    help: 'Time to acquire a package, by cache result',
    labelNames: ['cache'],
    buckets: [0.001, 0.01, 0.1, 0.5, 1, 5, 15, 60, 300],
    registers: [registry],
  });
  co.signals.on('packageAcquired', (r: AcquireReport | { worker: string; error: string }) => {
    if (!('cache' in r)) return acquisitions.inc({ worker: r.worker, cache: 'failed' });
    acquisitions.inc({ worker: r.worker, cache: r.cache });
    acquireSeconds.observe({ cache: r.cache }, r.seconds);
    if (r.cache === 'miss') downloaded.inc({ worker: r.worker }, r.bytes);
  });
  return { contentType: registry.contentType, render: () => registry.metrics() };
}
