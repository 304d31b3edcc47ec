// The sha256 worker thread: the digest of what streamed through it, also in a
// process started with flags that a worker would otherwise inherit.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NODE_BIN, REPO } from '../helpers/util.ts';

describe('Sha256Stream', () => {
  it('digests chunks across batches, in a process run as an ES module from -e', () => {
    const script = `
      import { Sha256Stream } from ${JSON.stringify(join(REPO, 'runner-agent/src/packages/hasher.ts'))};
      const h = new Sha256Stream();
      for (let i = 0; i < 40; i++) await h.update(Buffer.alloc(100_000, i));
      console.log(await h.digest());`;
    const r = spawnSync(NODE_BIN, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    const expected = createHash('sha256');
    for (let i = 0; i < 40; i++) expected.update(Buffer.alloc(100_000, i));
    expect({ status: r.status, stdout: r.stdout.trim(), stderr: r.stderr }).toEqual({
      status: 0,
      stdout: expected.digest('hex'),
      stderr: '',
    });
  });
});
