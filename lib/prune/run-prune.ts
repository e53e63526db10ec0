// `strata prune` (docs/design.md "Retention"; pgBackRest expire.c): decide, record, then delete.
// Decisions come from the pure pruneDecisions; every delete is recorded (delete_decided_at,
// delete_reason) before any object goes, so a run that stops half way is finished by the next
// one; one failing backup does not stop the others; --dry-run returns the same decisions.
import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../db/client.ts';
import type { Config } from '../env.ts';
import { pgTime } from '../jobs/pg-time.ts';
import { pruneDecisions, type Decision, type OrphanObjects } from '../retention/decisions.ts';
import type { Stores } from '../storage/registry.ts';
import { backupPrefix, deletePrefix, readCatalog, type CatalogBackup } from './catalog.ts';
import { listStoredBackups, type StoredBackup } from './orphans.ts';

export interface PruneContext {
  db: Db;
  config: Config;
  stores: Stores;
  log?: Logger;
  /** The decision time; default the database clock. */
  now?: Date;
  /** Called once the deletes are recorded, before any object is removed (tests simulate a crash here). */
  afterRecord?: (deletes: Decision[]) => void | Promise<void>;
}

export interface PruneFailure {
  backup_id: string;
  error: string;
}

export interface PruneResult {
  decisions: Decision[];
  /** Deletes that failed this time (the row stays recorded; the next prune retries it). */
  failed: PruneFailure[];
}

async function dbNow(db: Db): Promise<Date> {
  return pgTime((await db.execute<{ now: string }>(sql`select now() as now`)).rows[0]!.now);
}

/** Merges the same backup id found in several buckets into one set of facts. */
function orphanFacts(stored: StoredBackup[]): OrphanObjects[] {
  const byId = new Map<string, OrphanObjects>();
  for (const s of stored) {
    const cur = byId.get(s.backupId);
    if (!cur) byId.set(s.backupId, { backupId: s.backupId, tenantId: s.tenantId, lastModified: s.lastModified, hasManifest: s.hasManifest, legalHold: s.legalHold });
    else {
      if (s.lastModified > cur.lastModified) cur.lastModified = s.lastModified;
      cur.hasManifest ||= s.hasManifest;
      cur.legalHold ||= s.legalHold;
    }
  }
  return [...byId.values()];
}

/**
 * The decisions for the catalog as it is now. A recorded but unfinished delete stays a delete with
 * its recorded reason (a legal hold placed since wins: pruneDecisions keeps held backups).
 */
export function decide(catalog: CatalogBackup[], now: Date, orphans: OrphanObjects[]): Decision[] {
  const recorded = new Map(catalog.filter((b) => b.deleteDecidedAt && !b.legalHold && b.status !== 'deleted').map((b) => [b.id, b]));
  return pruneDecisions(catalog, now, { orphanObjects: orphans }).map((d) => {
    const r = recorded.get(d.backup_id);
    return r ? { backup_id: d.backup_id, action: 'delete', reason: r.deleteReason ?? d.reason } : d;
  });
}

export async function runPrune(ctx: PruneContext, opts: { dryRun: boolean }): Promise<PruneResult> {
  const { db, stores, log } = ctx;
  const now = ctx.now ?? (await dbNow(db));
  const catalog = await readCatalog(db);
  const stored = await listStoredBackups(stores);
  const decisions = decide(catalog, now, orphanFacts(stored));
  const deletes = decisions.filter((d) => d.action === 'delete');
  if (opts.dryRun) return { decisions, failed: [] };

  const byId = new Map(catalog.map((b) => [b.id, b]));
  const rowDeletes = deletes.filter((d) => byId.has(d.backup_id) && byId.get(d.backup_id)!.status !== 'deleted');
  await recordDeletes(db, rowDeletes);
  await ctx.afterRecord?.(deletes);

  const failed: PruneFailure[] = [];
  for (const d of deletes) {
    try {
      const row = byId.get(d.backup_id);
      if (row && row.status !== 'deleted') await deleteBackup(ctx, row);
      else {
        // Orphaned objects: every prefix of that id, in every bucket it was found in.
        for (const s of stored.filter((x) => x.backupId === d.backup_id)) await deletePrefix(s.store, s.prefix);
      }
      log?.info({ backup_id: d.backup_id, reason: d.reason }, 'prune: deleted');
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      failed.push({ backup_id: d.backup_id, error: message });
      log?.error({ backup_id: d.backup_id, err: message }, 'prune: delete failed; the next prune retries it');
    }
  }
  return { decisions, failed };
}

/** One statement for all: the rows are marked before any object is touched. */
export async function recordDeletes(db: Db, deletes: Decision[]): Promise<void> {
  if (deletes.length === 0) return;
  await db.execute(sql`
    update backup_jobs b set delete_decided_at = coalesce(b.delete_decided_at, now()), delete_reason = d.reason
    from jsonb_to_recordset(${JSON.stringify(deletes.map((d) => ({ id: d.backup_id, reason: d.reason })))}::jsonb) as d(id uuid, reason text)
    where b.id = d.id and b.status <> 'deleted' and b.status <> 'running' and not b.legal_hold`);
}

/** Removes a recorded backup's objects, then marks it deleted (only if the record still stands). */
export async function deleteBackup(ctx: Pick<PruneContext, 'db' | 'stores'>, row: CatalogBackup): Promise<void> {
  const still = await ctx.db.execute(sql`
    select 1 from backup_jobs where id = ${row.id}::uuid and delete_decided_at is not null and status <> 'deleted' and not legal_hold`);
  if (still.rows.length === 0) throw new Error('not deleted: the delete is no longer recorded (legal hold placed, or already deleted)');
  const where = backupPrefix(ctx.stores, row);
  if (where) await deletePrefix(where.store, where.prefix);
  await ctx.db.execute(sql`
    update backup_jobs set status = 'deleted', deleted_at = now(), locked_by = null, lease_expires_at = null
    where id = ${row.id}::uuid and delete_decided_at is not null and status <> 'deleted'`);
}
