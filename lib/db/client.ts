// One pg Pool per process and connection string; Drizzle on top. Closing is explicit (CLI, tests).
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import * as schema from './schema.ts';

// Strata's own tables only: the platform tables are read through lib/db/platform.ts's contract query.
const fullSchema = { ...schema };
export type Db = NodePgDatabase<typeof fullSchema> & { $client: pg.Pool };

// bigint columns (counts, sizes) come back as numbers: sizes stay far below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

const pools = new Map<string, Db>();

export function getDb(url: string): Db {
  let db = pools.get(url);
  if (!db) {
    const pool = new pg.Pool({ connectionString: url, max: 10, application_name: 'strata' });
    // A dropped connection must not crash the process; the next query gets a fresh one.
    pool.on('error', () => {});
    // The pool listens only to idle clients: a connection dropped while checked out (inside a
    // transaction) would emit an unhandled 'error' and kill the process. Its queries fail instead.
    pool.on('connect', (client) => client.on('error', () => {}));
    db = drizzle(pool, { schema: fullSchema }) as Db;
    pools.set(url, db);
  }
  return db;
}

export async function closeDb(url?: string): Promise<void> {
  const entries = url ? [[url, pools.get(url)] as const] : [...pools.entries()];
  for (const [key, db] of entries) {
    if (!db) continue;
    pools.delete(key);
    await db.$client.end();
  }
}
