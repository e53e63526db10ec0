// A restore's moved-aside schema (strata_undo_…) is kept STRATA_UNDO_RETENTION_DAYS for `restore
// undo`, then dropped — only when nothing outside it depends on it (DROP … CASCADE would take a
// view or foreign key of another schema with it) and it is not some tenant's live schema.
//
// A large tenant's copy (thousands of relations) is dropped a few hundred relations per transaction
// (lib/restore/staged.ts dropSchemaInBatches): one DROP SCHEMA … CASCADE would need a lock per
// relation at once, more than a default server's lock table holds, and would fail every hour. Each of
// those transactions checks again, first, that nothing outside the schema depends on it.
import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../db/client.ts';
import { platformTenantsSql } from '../db/platform.ts';
import type { Config } from '../env.ts';
import { assertNoDependentsSql, dependentsOutside } from './catalog.ts';
import { dropSchemaInBatches } from './staged.ts';

export async function dropExpiredUndoCopies(
  db: Db,
  config: Pick<Config, 'STRATA_UNDO_RETENTION_DAYS' | 'DATABASE_URL'>,
  log?: Logger,
): Promise<{ dropped: string[]; kept: { schema: string; reason: string }[] }> {
  const due = await db.execute<{ id: string; schema: string }>(sql`
    select id::text, moved_aside_schema as schema from restore_jobs
    where moved_aside_schema is not null and undo_dropped_at is null and status in ('completed', 'undone')
      and coalesce(undo_expires_at, completed_at + make_interval(days => ${config.STRATA_UNDO_RETENTION_DAYS})) <= now()`);
  const dropped: string[] = [];
  const kept: { schema: string; reason: string }[] = [];
  const keep = (id: string, schema: string, dependents: string[]) => {
    kept.push({ schema, reason: `objects in other schemas depend on it: ${dependents.join(', ')}` });
    log?.warn({ restore_id: id, schema, dependents }, 'undo copy kept: other schemas depend on it');
  };
  for (const r of due.rows) {
    const live = await db.execute(sql`select 1 from ${platformTenantsSql} t where t.schema_name = ${r.schema}`);
    if (live.rows.length > 0) {
      // Swapped back in by an undo: it is the tenant's data now, never ours to drop.
      await db.execute(sql`update restore_jobs set undo_dropped_at = now() where id = ${r.id}::uuid`);
      continue;
    }
    const exists = await db.execute(sql`select 1 from pg_namespace where nspname = ${r.schema}`);
    if (exists.rows.length > 0) {
      const found = await dependentsOutside(db, r.schema);
      if (found.length > 0) {
        keep(r.id, r.schema, found);
        continue;
      }
      try {
        await dropSchemaInBatches(config.DATABASE_URL, r.schema, { guard: assertNoDependentsSql(r.schema) });
      } catch (err) {
        // A dependent created since the check: the guard stopped the batch that would have taken it.
        const since = await dependentsOutside(db, r.schema);
        if (since.length === 0) throw err;
        keep(r.id, r.schema, since);
        continue;
      }
      dropped.push(r.schema);
    }
    await db.execute(sql`update restore_jobs set undo_dropped_at = now() where id = ${r.id}::uuid`);
    log?.info({ restore_id: r.id, schema: r.schema }, 'undo copy dropped');
  }
  return { dropped, kept };
}
