// Writes plan.schema.json from the zod schema (`npm run schema`).
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { planJsonSchema } from '../src/plan/json-schema.ts';

writeFileSync(resolve(import.meta.dirname, '../plan.schema.json'), planJsonSchema());
