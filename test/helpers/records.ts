// The records checker. Test scripts append one line when they begin and one
// when they end:
//   start <task> <tag> <target|-> <step> <epoch-ns>
//   end   <task> <tag> <target|-> <step> <epoch-ns>
// (written with `date +%s%N`). A recorded interval lies inside the real
// action's run, so two recorded intervals that overlap prove that the real
// actions overlapped: the checks below can only report real violations.
import { readFileSync } from 'node:fs';

export interface RecordLine {
  kind: 'start' | 'end';
  task: string;
  tag: string;
  target: string;
  step: string;
  ns: bigint;
}

export interface Interval {
  task: string;
  tag: string;
  target: string;
  step: string;
  start: bigint;
  end: bigint;
}

export function parseRecords(text: string): RecordLine[] {
  const out: RecordLine[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (!line.trim()) continue;
    const m = /^(start|end) (\S+) (\S+) (\S+) (\S+) (\d+)$/.exec(line.trim());
    if (!m) throw new Error(`records line ${i + 1} is malformed: ${JSON.stringify(line)}`);
    out.push({
      kind: m[1] as 'start' | 'end',
      task: m[2]!,
      tag: m[3]!,
      target: m[4]!,
      step: m[5]!,
      ns: BigInt(m[6]!),
    });
  }
  return out;
}

export function readRecords(file: string): RecordLine[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return parseRecords(text);
}

/** Pairs each end with the latest unmatched start of the same task, target and step. */
export function intervalsOf(lines: RecordLine[]): { intervals: Interval[]; unmatched: RecordLine[] } {
  const open = new Map<string, RecordLine[]>();
  const intervals: Interval[] = [];
  const unmatched: RecordLine[] = [];
  const sorted = [...lines].sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0));
  for (const l of sorted) {
    const key = `${l.task} ${l.target} ${l.step}`;
    if (l.kind === 'start') {
      open.set(key, [...(open.get(key) ?? []), l]);
      continue;
    }
    const starts = open.get(key);
    const s = starts?.pop();
    if (!s) {
      unmatched.push(l);
      continue;
    }
    intervals.push({ task: l.task, tag: s.tag, target: l.target, step: l.step, start: s.ns, end: l.ns });
  }
  for (const starts of open.values()) unmatched.push(...starts);
  return { intervals, unmatched };
}

/** Most intervals open at one instant (touching ends do not overlap). */
export function maxOverlap(intervals: { start: bigint; end: bigint }[]): number {
  const points: [bigint, number][] = [];
  for (const i of intervals) points.push([i.start, 1], [i.end, -1]);
  points.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]));
  let now = 0;
  let max = 0;
  for (const [, d] of points) {
    now += d;
    max = Math.max(max, now);
  }
  return max;
}

export interface CheckOptions {
  /** Task cap of the node(s): never more tasks than this running at once. */
  cap: number;
  /** Task ids in submission order (all deployments); tasks of one tag must start in this order. */
  submissionOrder?: string[];
  /** The concurrency tag the agent gave each task; recorded tags must agree. */
  tagOf?: Map<string, string>;
  /** Actions on one target may overlap (plan option bypassTargetMutex). */
  bypassTargetMutex?: boolean;
  /** At most this many actions of one step of one task at once. */
  window?: number;
  /** Every start has its end. */
  complete?: boolean;
}

export interface CheckResult {
  violations: string[];
  /** What was seen, for tests that also want to know a limit was reached. */
  maxTasks: number;
  maxPerStep: number;
  tasks: Map<string, { tag: string; start: bigint; end: bigint }>;
}

const ms = (ns: bigint) => `${ns / 1_000_000n}ms`;

export function checkRecords(lines: RecordLine[], opts: CheckOptions): CheckResult {
  const violations: string[] = [];
  const { intervals, unmatched } = intervalsOf(lines);
  if (opts.complete !== false) {
    for (const u of unmatched) violations.push(`unmatched ${u.kind} of task ${u.task} ${u.target} ${u.step}`);
  }

  // A task runs at least from its first action's start to its last action's end.
  const tasks = new Map<string, { tag: string; start: bigint; end: bigint }>();
  for (const i of intervals) {
    const t = tasks.get(i.task);
    if (!t) tasks.set(i.task, { tag: i.tag, start: i.start, end: i.end });
    else {
      if (t.tag !== i.tag) violations.push(`task ${i.task} recorded two tags: ${t.tag} and ${i.tag}`);
      if (i.start < t.start) t.start = i.start;
      if (i.end > t.end) t.end = i.end;
    }
  }
  if (opts.tagOf) {
    for (const [id, t] of tasks) {
      const want = opts.tagOf.get(id);
      if (want !== undefined && want !== t.tag)
        violations.push(`task ${id} recorded tag ${t.tag}, the agent says ${want}`);
    }
  }

  const maxTasks = maxOverlap([...tasks.values()]);
  if (maxTasks > opts.cap) violations.push(`${maxTasks} tasks ran at once; the cap is ${opts.cap}`);

  const byTag = Map.groupBy([...tasks.entries()], ([, t]) => t.tag);
  for (const [tag, list] of byTag) {
    const sorted = list.sort((a, b) => (a[1].start < b[1].start ? -1 : 1));
    for (let k = 1; k < sorted.length; k++) {
      const [prevId, prev] = sorted[k - 1]!;
      const [id, cur] = sorted[k]!;
      if (cur.start <= prev.end) {
        violations.push(
          `tag ${tag}: task ${id} started at ${ms(cur.start)} while task ${prevId} ran until ${ms(prev.end)}`,
        );
      }
    }
    if (opts.submissionOrder) {
      const started = sorted.map(([id]) => id);
      const expected = opts.submissionOrder.filter((id) => started.includes(id));
      if (expected.join(' ') !== started.join(' ')) {
        violations.push(
          `tag ${tag}: tasks started in order ${started.join(', ')}, submitted as ${expected.join(', ')}`,
        );
      }
    }
  }

  if (!opts.bypassTargetMutex) {
    const byTarget = Map.groupBy(
      intervals.filter((i) => i.target !== '-'),
      (i) => i.target,
    );
    for (const [target, list] of byTarget) {
      const sorted = list.sort((a, b) => (a.start < b.start ? -1 : 1));
      for (let k = 1; k < sorted.length; k++) {
        const prev = sorted[k - 1]!;
        const cur = sorted[k]!;
        if (cur.start <= prev.end) {
          violations.push(
            `target ${target}: ${cur.task}/${cur.step} started while ${prev.task}/${prev.step} held the mutex`,
          );
        }
      }
    }
  }

  let maxPerStep = 0;
  for (const [key, list] of Map.groupBy(intervals, (i) => `${i.task} ${i.step}`)) {
    const n = maxOverlap(list);
    maxPerStep = Math.max(maxPerStep, n);
    if (opts.window !== undefined && n > opts.window) {
      violations.push(`${key}: ${n} actions at once; the window is ${opts.window}`);
    }
  }

  return { violations, maxTasks, maxPerStep, tasks };
}
