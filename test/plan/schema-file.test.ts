// plan.schema.json is generated from the zod schema; a stale copy would let
// editors accept plans the agent refuses (or the reverse).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planJsonSchema } from '../../src/plan/json-schema.ts';

describe('plan.schema.json', () => {
  it('matches the zod schema', () => {
    const committed = readFileSync(resolve(import.meta.dirname, '../../plan.schema.json'), 'utf8');
    if (committed !== planJsonSchema()) {
      expect.fail('plan.schema.json is stale: run npm run schema and commit the result');
    }
  });

  it('is a draft 2020-12 schema that forbids unknown top-level keys', () => {
    const schema = JSON.parse(planJsonSchema());
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(expect.arrayContaining(['version', 'project', 'steps']));
  });
});
