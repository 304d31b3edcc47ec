// The published plan schema, generated from the zod schema so the two never drift.
import { z } from 'zod';
import { planSchema } from './schema.ts';

export function planJsonSchema(): string {
  const schema = z.toJSONSchema(planSchema, { io: 'input', target: 'draft-2020-12' });
  return `${JSON.stringify(
    {
      ...schema,
      title: 'Flotilla deployment plan (version 1)',
    },
    null,
    2,
  )}\n`;
}
