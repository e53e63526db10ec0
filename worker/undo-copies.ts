// A restore's moved-aside schema (strata_undo_…) is kept STRATA_UNDO_RETENTION_DAYS for `restore
// undo`, then dropped — only when nothing outside it depends on it (DROP … CASCADE would take a
// view or foreign key of another schema with it) and it is not some tenant's live schema.
import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../lib/db/client.ts';
import { platformTenantsSql } from '../lib/db/platform.ts';
import type { Config } from '../lib/env.ts';
import { quoteIdent } from '../lib/db/ident.ts';
import { dependentsOutside } from '../lib/restore/catalog.ts';

export async function dropExpiredUndoCopies(
  db: Db,
  config: Pick<Config, 'STRATA_UNDO_RETENTION_DAYS'>,
  log?: Logger,
): Promise<{ dropped: string[]; kept: { schema: string; reason: string }[] }> {
  const due = await db.execute<{ id: string; schema: string }>(sql`
    select id::text, moved_aside_schema as schema from restore_jobs
    where moved_aside_schema is not null and undo_dropped_at is null and status in ('completed', 'undone')
      and coalesce(undo_expires_at, completed_at + make_interval(days => ${config.STRATA_UNDO_RETENTION_DAYS})) <= now()`);
  const dropped: string[] = [];
  const kept: { schema: string; reason: string }[] = [];
  for (const r of due.rows) {
    const live = await db.execute(sql`select 1 from ${platformTenantsSql} t where t.schema_name = ${r.schema}`);
    const exists = await db.execute(sql`select 1 from pg_namespace where nspname = ${r.schema}`);
    if (live.rows.length > 0) {
      // Swapped back in by an undo: it is the tenant's data now, never ours to drop.
      await db.execute(sql`update restore_jobs set undo_dropped_at = now() where id = ${r.id}::uuid`);
      continue;
    }
    const dependents = await db.transaction(async (tx) => {
      if (exists.rows.length > 0) {
        // Check and drop in one transaction, right after each other.
        const found = await dependentsOutside(tx as unknown as Db, r.schema);
        if (found.length > 0) return found;
        await tx.execute(sql.raw(`drop schema ${quoteIdent(r.schema)} cascade`));
        dropped.push(r.schema);
      }
      await tx.execute(sql`update restore_jobs set undo_dropped_at = now() where id = ${r.id}::uuid`);
      return [];
    });
    if (dependents.length > 0) {
      kept.push({ schema: r.schema, reason: `objects in other schemas depend on it: ${dependents.join(', ')}` });
      log?.warn({ restore_id: r.id, schema: r.schema, dependents }, 'undo copy kept: other schemas depend on it');
      continue;
    }
    log?.info({ restore_id: r.id, schema: r.schema }, 'undo copy dropped');
  }
  return { dropped, kept };
}

