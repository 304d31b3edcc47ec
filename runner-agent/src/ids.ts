// Ids like dep_01jd3k…: a time prefix keeps them roughly sortable in listings,
// random bits keep them unguessable.
import { randomBytes } from 'node:crypto';

export function newId(prefix: 'dep' | 'tsk' | 'act'): string {
  return `${prefix}_${Date.now().toString(36)}${randomBytes(8).toString('hex')}`;
}
