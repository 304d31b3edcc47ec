// The real PostgreSQL of this machine for tests and benchmarks: each caller
// gets its own schema (a URL whose search_path points at it), so test files
// running in parallel never see each other's tables, and drops it afterwards.
// Where no PostgreSQL answers, suites skip and say so, except under CI=true,
// where a missing database is a failure, never a silent skip.
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

export const PG_URL = process.env.FLOTILLA_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Whether PostgreSQL answers; under CI=true an unreachable one throws instead. */
export async function postgresAvailable(): Promise<boolean> {
  const sql = postgres(PG_URL, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`SELECT 1`;
    return true;
  } catch (err) {
    const why = `PostgreSQL at ${PG_URL} is unreachable (${(err as Error).message})`;
    if (process.env.CI === 'true') throw new Error(`${why}; CI=true never skips the PostgreSQL tests`);
    console.warn(`SKIPPED: ${why}; the PostgreSQL store tests did not run`);
    return false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

export interface TestSchema {
  name: string;
  /** PG_URL with search_path set to the schema. */
  url: string;
  drop(): Promise<void>;
}

export async function createTestSchema(prefix = 'flotilla_test'): Promise<TestSchema> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = postgres(PG_URL, { max: 1, onnotice: () => {} });
  try {
    await admin`CREATE SCHEMA ${admin(name)}`;
  } finally {
    await admin.end({ timeout: 1 });
  }
  const url = `${PG_URL}${PG_URL.includes('?') ? '&' : '?'}search_path=${name}`;
  return {
    name,
    url,
    async drop() {
      const sql = postgres(PG_URL, { max: 1, onnotice: () => {} });
      try {
        await sql`DROP SCHEMA IF EXISTS ${sql(name)} CASCADE`;
      } finally {
        await sql.end({ timeout: 1 });
      }
    },
  };
}
