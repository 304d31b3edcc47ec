// The store conformance suite on the shared PostgreSQL store, each test on a
// fresh schema of the machine's real PostgreSQL, plus what only several nodes
// on one database need: the database itself refusing a second running task of
// one tag, caps held by the claim, racing claimers, fencing of a node whose
// lease was taken, and wake-ups through NOTIFY.
import postgres from 'postgres';
import { afterEach, describe, expect, it } from 'vitest';
import { openPostgresStore, type PostgresStore } from '../../runner-agent/src/store/postgres.ts';
import { StaleLeaseError } from '../../runner-agent/src/store/types.ts';
import { createTestSchema, PG_URL, postgresAvailable, type TestSchema } from '../helpers/postgres.ts';
import { deploy, describeStoreConformance } from './conformance.ts';

const available = await postgresAvailable();

async function openFresh() {
  const schema = await createTestSchema();
  try {
    return { schema, store: await openPostgresStore(schema.url) };
  } catch (err) {
    await schema.drop();
    throw err;
  }
}

if (available) {
  describeStoreConformance('postgres', async () => {
    const { schema, store } = await openFresh();
    return {
      store,
      cleanup: async () => {
        await store.close();
        await schema.drop();
      },
    };
  });
}

describe.skipIf(!available)('PostgresStore on a shared database', () => {
  let schema: TestSchema;
  const open: PostgresStore[] = [];
  async function nodes(count: number): Promise<PostgresStore[]> {
    ({ schema } = await openFresh().then(async (f) => {
      open.push(f.store);
      return f;
    }));
    for (let i = 1; i < count; i++) open.push(await openPostgresStore(schema.url));
    return open.slice();
  }
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    await schema?.drop();
  });

  it('migrates once when several nodes open an empty schema at the same moment', async () => {
    const [first] = await nodes(1);
    const more = await Promise.all([1, 2, 3].map(() => openPostgresStore(schema.url)));
    open.push(...more);
    await first!.registerNode('n1', 2);
    for (const s of more) expect((await s.listNodes()).map((n) => n.name)).toEqual(['n1']);
  });

  it('plans the claim function once per connection, a setting a migration that recreates it must keep', async () => {
    await nodes(1);
    const sql = postgres(PG_URL, { max: 1, onnotice: () => {} });
    try {
      const rows = await sql<{ proconfig: string[] | null }[]>`
        SELECT p.proconfig FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE p.proname = 'claim_tasks' AND n.nspname = ${schema.name}`;
      expect(rows).toHaveLength(1);
      expect(rows[0]!.proconfig).toContain('plan_cache_mode=force_generic_plan');
    } finally {
      await sql.end({ timeout: 1 });
    }
  });

  it('the database refuses a second running task with one tag, whoever writes it', async () => {
    const [store] = await nodes(1);
    const node = await store!.registerNode('n1', 5);
    const d = await deploy(store!, { tags: ['x', 'x'] });
    await store!.claimTasks({ node: 'n1', epoch: node.epoch }, 5);
    const raw = postgres(schema.url, { max: 1, onnotice: () => {} });
    try {
      const claim = () =>
        raw`UPDATE tasks SET state = 'running', node = 'n2', epoch = 1, started_at = 0 WHERE id = ${d.tasks[1]!.id}`;
      await expect(claim()).rejects.toThrow(/tasks_running_tag/);
      await raw`UPDATE tasks SET state = 'succeeded' WHERE id = ${d.tasks[0]!.id}`;
      expect((await claim()).count).toBe(1);
    } finally {
      await raw.end({ timeout: 1 });
    }
  });

  it('a claim never takes a node past its task cap, whatever limit it asks for', async () => {
    const [store] = await nodes(1);
    const row = await store!.registerNode('n1', 2);
    const lease = { node: 'n1', epoch: row.epoch };
    await deploy(store!, { tags: ['a', 'b', 'c', 'd'] });
    expect(await store!.claimTasks(lease, 10)).toHaveLength(2);
    expect(await store!.claimTasks(lease, 10)).toHaveLength(0);
    await store!.drainNode('n1');
    const [running] = await store!.runningTasks();
    await store!.finishTask(running!.id, lease, 'succeeded', null);
    expect(await store!.claimTasks(lease, 10)).toHaveLength(0);
    await store!.resumeNode('n1', 9);
    expect(await store!.claimTasks(lease, 10)).toHaveLength(1);
  });

  it('three nodes claiming on their own connections never break a tag, a cap or the order of a tag', async () => {
    const stores = await nodes(3);
    const leases = await Promise.all(
      stores.map(async (s, i) => {
        const r = await s.registerNode(`n${i}`, 4);
        return { node: r.name, epoch: r.epoch };
      }),
    );
    const tagList = Array.from({ length: 60 }, (_, i) => `tag-${i % 7}`);
    const d = await deploy(stores[0]!, { tags: tagList });
    const started: string[] = [];
    // Each node claims, finishes what it holds, and claims again until nothing is left.
    await Promise.all(
      stores.map(async (s, i) => {
        for (;;) {
          const claimed = await s.claimTasks(leases[i]!, 10);
          const running = await s.runningTasks();
          expect(running.filter((t) => t.node === leases[i]!.node).length).toBeLessThanOrEqual(4);
          expect(new Set(running.map((t) => t.concurrencyTag)).size).toBe(running.length);
          started.push(...claimed.map((t) => t.id));
          for (const t of claimed) await s.finishTask(t.id, leases[i]!, 'succeeded', null);
          if (claimed.length === 0 && (await s.queuedTasks(1)).length === 0) return;
          if (claimed.length === 0) await new Promise((r) => setTimeout(r, 5));
        }
      }),
    );
    expect(new Set(started).size).toBe(60);
    for (let k = 0; k < 7; k++) {
      const tag = `tag-${k}`;
      const order = d.tasks.filter((t) => t.concurrencyTag === tag).map((t) => t.id);
      expect(started.filter((id) => order.includes(id))).toEqual(order);
    }
  });

  it('a node whose lease expired loses its epoch: its heartbeat and claims are refused', async () => {
    const [a, b] = await nodes(2);
    const slow = await a!.registerNode('slow', 2);
    const lease = { node: 'slow', epoch: slow.epoch };
    const d = await deploy(a!, { tags: ['x', 'y'] });
    await a!.claimTasks(lease, 1);
    const recovered = await b!.recoverTasks({ staleBefore: (await b!.now()) + 1 });
    expect(recovered.map((t) => [t.id, t.state])).toEqual([[d.tasks[0]!.id, 'queued']]);
    await expect(a!.heartbeat(lease)).rejects.toBeInstanceOf(StaleLeaseError);
    await expect(a!.claimTasks(lease, 1)).rejects.toBeInstanceOf(StaleLeaseError);
    await expect(a!.finishTask(d.tasks[0]!.id, lease, 'succeeded', null)).rejects.toBeInstanceOf(
      StaleLeaseError,
    );
    // Re-registering gives a fresh lease that works.
    const again = await a!.registerNode('slow', 2);
    expect(again.epoch).toBeGreaterThan(lease.epoch + 1);
    expect(await a!.claimTasks({ node: 'slow', epoch: again.epoch }, 2)).toHaveLength(2);
  });

  it('nodes hear of new tasks, cap changes, and task ends while a node waits for work, through NOTIFY', async () => {
    const [a, b] = await nodes(2);
    const heard: string[] = [];
    b!.onWake((reason) => heard.push(reason));
    const n1 = { node: 'n1', epoch: (await a!.registerNode('n1', 2)).epoch };
    const n2 = { node: 'n2', epoch: (await b!.registerNode('n2', 2)).epoch };
    const d = await deploy(a!, { tags: ['x', 'x', 'x', 'y'] });
    await expect.poll(() => heard, { timeout: 5000 }).toEqual(['queue']);
    // n1 fills both its slots (x and y), so it is not waiting for work, and
    // n2 has not claimed yet: the end of x wakes nobody (n1 claims again itself).
    expect((await a!.claimTasks(n1, 2)).map((t) => t.id)).toEqual([d.tasks[0]!.id, d.tasks[3]!.id]);
    await a!.finishTask(d.tasks[0]!.id, n1, 'succeeded', null);
    // n1 takes the second x; n2 then finds nothing it may run (x and y are
    // running), so its claim leaves slots free: n2 waits for work.
    expect((await a!.claimTasks(n1, 1)).map((t) => t.id)).toEqual([d.tasks[1]!.id]);
    expect(await b!.claimTasks(n2, 2)).toEqual([]);
    // Now the end of the second x frees its tag for the third while n2 waits: n2 hears of it.
    await a!.finishTask(d.tasks[1]!.id, n1, 'succeeded', null);
    await a!.drainNode('n1');
    await expect.poll(() => heard, { timeout: 5000 }).toEqual(['queue', 'queue', 'node:n1']);
    // A claim that fills the node's slots ends its hunger.
    expect((await b!.claimTasks(n2, 1)).map((t) => t.id)).toEqual([d.tasks[2]!.id]);
    await a!.finishTask(d.tasks[3]!.id, n1, 'succeeded', null);
    await b!.drainNode('n2');
    await expect.poll(() => heard, { timeout: 5000 }).toEqual(['queue', 'queue', 'node:n1', 'node:n2']);
  });

  it('a reader paging by event id while three nodes write misses no event', async () => {
    const stores = await nodes(3);
    const d = await deploy(stores[0]!, { tags: ['x'] });
    let writing = true;
    const writers = Promise.all(
      stores.map(async (s, i) => {
        for (let k = 0; k < 40; k++) {
          await s.appendEvents(
            [0, 1, 2].map((j) => ({
              deploymentId: d.deployment.id,
              taskId: null,
              type: 'log',
              data: { line: `${i}-${k}-${j}` },
            })),
          );
        }
      }),
    ).finally(() => {
      writing = false;
    });
    // As an SSE stream reads: from the last id seen, again and again.
    const seen: string[] = [];
    let last = 0;
    for (;;) {
      const done = !writing;
      const page = await stores[1]!.eventsSince(d.deployment.id, last, 50);
      seen.push(...page.map((e) => String(e.data.line)));
      last = page.at(-1)?.id ?? last;
      if (done && page.length === 0) break;
    }
    await writers;
    expect(seen).toHaveLength(360);
    expect(new Set(seen).size).toBe(360);
    for (let i = 0; i < 3; i++) {
      const mine = seen.filter((line) => line.startsWith(`${i}-`));
      expect(mine.slice(0, 3)).toEqual([`${i}-0-0`, `${i}-0-1`, `${i}-0-2`]);
    }
  });
});
