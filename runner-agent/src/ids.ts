// Ids like dep_01jd3k…: a time prefix keeps them roughly sortable in listings,
// random bits keep them unguessable.
import { randomBytes } from 'node:crypto';

// Random bytes are drawn 4 KiB at a time, each byte used once: a draw per id
// (thousands when a deployment starts) showed in the agent's CPU profile.
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let used = 0;

export function newId(prefix: 'dep' | 'tsk' | 'act'): string {
  if (used + 8 > pool.length) {
    pool = randomBytes(POOL_BYTES);
    used = 0;
  }
  used += 8;
  return `${prefix}_${Date.now().toString(36)}${pool.toString('hex', used - 8, used)}`;
}
