// Test code only: the environment for running pg_dump/psql by hand against the test cluster (forging
// dumps, fingerprints). The product never passes a password in the environment (lib/process/child-env.ts).
import pg from 'pg';
import { pgConnectionVars } from '../process/child-env.ts';

export function pgTestEnv(url: string, database?: string): NodeJS.ProcessEnv {
  const { vars, password } = pgConnectionVars(url);
  return {
    PATH: process.env.PATH ?? '',
    ...vars,
    ...(password !== undefined ? { PGPASSWORD: password } : {}),
    ...(database ? { PGDATABASE: database } : {}),
  } as unknown as NodeJS.ProcessEnv;
}

/** One statement on a connection of its own, always closed (tests poking at a database by hand). */
export async function queryOnce<R extends pg.QueryResultRow = pg.QueryResultRow>(url: string, text: string): Promise<pg.QueryResult<R>> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await c.query<R>(text);
  } finally {
    await c.end();
  }
}
