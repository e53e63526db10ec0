// `strata migrate`: platform tables only when absent, then Drizzle's migrations, then the seed.
// Idempotent: running it twice changes nothing.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { sql } from 'drizzle-orm';
import type { Db } from './client.ts';
import { platformTableDdl } from './platform.ts';

const migrationsFolder = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../drizzle');

/** The seeded retention policies of docs/design.md: basic 0/0/0, advanced 0/0/12, premium 7/4/12. */
export const SEED_POLICIES = [
  { tierId: 'basic', daily: 0, weekly: 0, monthly: 0 },
  { tierId: 'advanced', daily: 0, weekly: 0, monthly: 12 },
  { tierId: 'premium', daily: 7, weekly: 4, monthly: 12 },
] as const;

export interface MigrateResult {
  platformTablesCreated: string[];
}

export async function runMigrations(db: Db): Promise<MigrateResult> {
  const created: string[] = [];
  await db.transaction(async (tx) => {
    // Serialize concurrent `strata migrate` runs (several workers starting at once).
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('strata.migrate'))`);
    for (const table of platformTableDdl) {
      const res = await tx.execute<{ exists: boolean }>(sql`select to_regclass(${table.name}) is not null as exists`);
      if (res.rows[0]?.exists) continue;
      await tx.execute(sql.raw(table.create));
      if (table.seed) await tx.execute(sql.raw(table.seed));
      created.push(table.name);
    }
  });
  await migrate(db, { migrationsFolder });
  for (const p of SEED_POLICIES) {
    await db.execute(sql`
      insert into backup_retention_policies (tier_id, daily_retention_days, weekly_retention_weeks, monthly_retention_months)
      values (${p.tierId}, ${p.daily}, ${p.weekly}, ${p.monthly})
      on conflict (tier_id) do nothing`);
  }
  return { platformTablesCreated: created };
}
