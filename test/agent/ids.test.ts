// Ids: unique, with their time prefix and random part, however many are drawn at once.
import { describe, expect, it } from 'vitest';
import { newId } from '../../runner-agent/src/ids.ts';

describe('ids', () => {
  it('are unique across many draws of the random pool, with a time prefix and 64 random bits', () => {
    const ids = Array.from({ length: 5000 }, () => newId('act'));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^act_[0-9a-z]+[0-9a-f]{16}$/);
    // The random parts differ too, not only the times: 5,000 draws span ten pools.
    expect(new Set(ids.map((id) => id.slice(-16))).size).toBe(ids.length);
  });
});
