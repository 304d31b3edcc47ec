// The write-ahead log's checkpoints, off the event loop: a real SQLite file
// written in WAL mode with SQLite's own checkpoints off, so that only the
// checkpointer's thread moves pages from the log into the database file.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { CHECKPOINT_EVERY, WalCheckpointer } from '../../runner-agent/src/store/sqlite-checkpointer.ts';
import { NODE_BIN, REPO, removeTempDirs, tempDir, waitFor } from '../helpers/util.ts';

afterAll(removeTempDirs);

function walDatabase(): { file: string; db: DatabaseSync } {
  const file = join(tempDir('flotilla-checkpoint-'), 'test.db');
  const db = new DatabaseSync(file);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA wal_autocheckpoint = 0');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
  return { file, db };
}

describe('WAL checkpointer', () => {
  it('checkpoints in its thread after enough commits, then ends its thread once idle', async () => {
    const { file, db } = walDatabase();
    const failures: Error[] = [];
    let caughtUp = 0;
    const checkpointer = new WalCheckpointer(file, {
      catchUp: () => caughtUp++,
      onFail: (err) => failures.push(err),
      idleMs: 300,
    });
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    const before = statSync(file).size;
    for (let i = 0; i < CHECKPOINT_EVERY - 1; i++) {
      insert.run('x'.repeat(2000));
      checkpointer.committed();
    }
    // Not yet: the log holds every page, the database file is as it was.
    expect(checkpointer.running).toBe(false);
    expect(statSync(file).size).toBe(before);
    insert.run('x'.repeat(2000));
    checkpointer.committed();
    expect(checkpointer.running).toBe(true);
    await waitFor(
      'the pages in the database file',
      () => statSync(file).size > before + CHECKPOINT_EVERY * 2000,
    );
    await waitFor('the idle thread to end', () => !checkpointer.running);
    expect(failures).toEqual([]);
    expect(caughtUp).toBe(1);
    // The rows are whole, read through the database file and what is left of the log.
    expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: CHECKPOINT_EVERY });
    await checkpointer.close();
    db.close();
  });

  it('reports a thread that cannot open the database, once, and starts no other', async () => {
    const { file, db } = walDatabase();
    const failures: Error[] = [];
    const checkpointer = new WalCheckpointer(join(file, 'not-a-dir', 'x.db'), {
      catchUp: () => {},
      onFail: (err) => failures.push(err),
    });
    for (let i = 0; i < CHECKPOINT_EVERY; i++) checkpointer.committed();
    await waitFor('the failure', () => failures.length > 0);
    expect(failures[0]!.message).toMatch(/unable to open database/i);
    expect(checkpointer.running).toBe(false);
    for (let i = 0; i < CHECKPOINT_EVERY; i++) checkpointer.committed();
    expect(checkpointer.running).toBe(false);
    expect(failures).toHaveLength(1);
    await checkpointer.close();
    db.close();
  });

  it('a catch-up that throws ends the thread and is reported, not thrown', async () => {
    const { file, db } = walDatabase();
    const failures: Error[] = [];
    const checkpointer = new WalCheckpointer(file, {
      catchUp: () => {
        throw new Error('disk I/O error');
      },
      onFail: (err) => failures.push(err),
    });
    for (let i = 0; i < CHECKPOINT_EVERY; i++) checkpointer.committed();
    await waitFor('the failure', () => failures.length > 0);
    expect(failures.map((e) => e.message)).toEqual(['disk I/O error']);
    await waitFor('the thread to end', () => !checkpointer.running);
    await checkpointer.close();
    db.close();
  });

  it("a store's close waits for the thread, even in a process with nothing else left to do", () => {
    const dataDir = tempDir('flotilla-checkpoint-store-');
    const script = `
      import { SqliteStore } from ${JSON.stringify(join(REPO, 'runner-agent/src/store/sqlite.ts'))};
      const store = new SqliteStore(process.argv[1]);
      for (let i = 0; i < ${CHECKPOINT_EVERY + 20}; i++)
        await store.appendEvents([{ deploymentId: 'dep_x', taskId: null, type: 'log', data: { i } }]);
      await store.close();
      console.log('closed');`;
    const r = spawnSync(NODE_BIN, ['--input-type=module', '-e', script, dataDir], { encoding: 'utf8' });
    expect({ status: r.status, stdout: r.stdout.trim(), stderr: r.stderr }).toEqual({
      status: 0,
      stdout: 'closed',
      stderr: '',
    });
    // Unlocked, and the log checkpointed into the database file and removed with the last connection.
    expect(existsSync(join(dataDir, 'agent.lock'))).toBe(false);
    expect(existsSync(join(dataDir, 'flotilla.db-wal'))).toBe(false);
  });
});
