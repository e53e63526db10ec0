// `strata tenant remove [--purge-backups]`: offboarding. The tenant leaves the platform tables
// (Strata follows: removed_at, no schedules); with purgeBackups every backup of it is deleted now
// — the erasure path — and nothing at all happens while any of them is on legal hold or running.
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { tenantIdSchema } from '../domain.ts';
import { purgeDecisions, type Decision } from '../retention/decisions.ts';
import type { Stores } from '../storage/registry.ts';
import { readCatalog } from './catalog.ts';
import { deleteBackup, recordDeletes, type PruneFailure } from './run-prune.ts';
import { collectChunks } from '../chunks/store.ts';

export interface RemoveTenantResult {
  /** False when the tenant was not in the platform tables (already removed). */
  removedFromPlatform: boolean;
  decisions: Decision[];
  failed: PruneFailure[];
  /** Chunk objects of its incremental backups deleted by a purge (failed ones: retried hourly). */
  chunks: { deleted: number; failed: number };
}

export async function removeTenant(
  ctx: { db: Db; stores: Stores },
  tenantId: string,
  opts: { purgeBackups: boolean },
): Promise<RemoveTenantResult> {
  const id = tenantIdSchema.parse(tenantId);
  const catalog = await readCatalog(ctx.db, id);
  // Throws PurgeRefusedError (code 'conflict') naming held or running backups, before any change.
  const decisions = opts.purgeBackups ? purgeDecisions(catalog) : [];

  const removedFromPlatform = await ctx.db.transaction(async (tx) => {
    const gone = await tx.execute(sql`delete from tenants where id::text = ${id}`);
    await tx.execute(sql`delete from tenant_subscriptions where tenant_id::text = ${id}`);
    await tx.execute(sql`delete from backup_schedules where tenant_id = ${id}`);
    await tx.execute(sql`
      insert into tenant_state (tenant_id, removed_at) values (${id}, now())
      on conflict (tenant_id) do update set removed_at = coalesce(tenant_state.removed_at, now())`);
    return (gone.rowCount ?? 0) > 0;
  });

  const failed: PruneFailure[] = [];
  let chunks = { deleted: 0, failed: 0 };
  if (decisions.length > 0) {
    await recordDeletes(ctx.db, decisions);
    // Pending rows are recorded too: a worker never claims a row whose delete is decided (see claim).
    const byId = new Map(catalog.map((b) => [b.id, b]));
    for (const d of decisions) {
      try {
        await deleteBackup(ctx, byId.get(d.backup_id)!);
      } catch (err) {
        failed.push({ backup_id: d.backup_id, error: err instanceof Error ? err.message : String(err) });
      }
    }
    // The chunks of its incremental backups go now too: no backup of it is running (purge refuses
    // then) and none will, so neither the grace period nor the next backup's base applies. A chunk
    // whose delete fails stays claimed, and the hourly collection finishes it.
    if (failed.length === 0) {
      const collected = await collectChunks(ctx.db, ctx.stores, { tenantId: id, graceSeconds: 0, baseKeepSeconds: 0 });
      chunks = { deleted: collected.deleted, failed: collected.failed.length };
    }
  }
  return { removedFromPlatform, decisions, failed, chunks };
}
