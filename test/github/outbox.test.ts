// The check-run outbox in the embedded store: news bumps a version, a send
// records what it covered, news that arrives during a send is not lost, and a
// completed check run takes no more news. The data dir keeps it across a reopen.
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../runner-agent/src/store/sqlite.ts';
import { removeTempDirs, tempDir } from '../helpers/util.ts';
import { deploy } from '../store/conformance.ts';

afterEach(() => removeTempDirs());

describe('check-run outbox (sqlite)', () => {
  it('keeps unsent news until a send covers it, across a reopen', async () => {
    const dir = tempDir('flotilla-outbox-');
    let store = new SqliteStore(dir);
    const { deployment: d } = await deploy(store, { tags: ['a'] });
    expect(await store.getCheckRun(d.id)).toBeNull();
    await store.touchCheckRun(d.id);
    await store.touchCheckRun(d.id);
    const [row] = await store.pendingCheckRuns(10);
    expect(row).toMatchObject({
      deploymentId: d.id,
      version: 2,
      sentVersion: 0,
      checkRunId: null,
      completed: false,
    });

    // News during the send: the send covered version 2 only, so version 3 stays pending.
    await store.touchCheckRun(d.id);
    await store.markCheckRunSent(d.id, {
      version: 2,
      checkRunId: 77,
      at: 1000,
      annotations: 3,
      completed: false,
    });
    expect(await store.pendingCheckRuns(10)).toMatchObject([
      { version: 3, sentVersion: 2, checkRunId: 77, annotations: 3, sentAt: 1000 },
    ]);

    await store.close();
    store = new SqliteStore(dir);
    expect(await store.pendingCheckRuns(10)).toHaveLength(1);
    await store.markCheckRunSent(d.id, {
      version: 3,
      checkRunId: 77,
      at: 2000,
      annotations: 3,
      completed: true,
    });
    await store.touchCheckRun(d.id);
    expect(await store.pendingCheckRuns(10)).toEqual([]);
    expect(await store.getCheckRun(d.id)).toMatchObject({ completed: true, version: 3, sentVersion: 3 });
    await store.close();
  });
});
