// Reading the catalog for prune, and removing one backup's objects from its store.
import { sql } from 'drizzle-orm';
import { BACKUPS_ROOT } from '../domain.ts';
import { FILES_CHUNKS_OBJECT, FILES_INDEX_OBJECT } from '../files/index-format.ts';
import { DUMP_OBJECT, LEGAL_HOLD_OBJECT, MANIFEST_OBJECT, SIGNATURE_OBJECT, backupKey } from '../backup/manifest.ts';
import type { Db } from '../db/client.ts';
import { platformTenantsSql } from '../db/platform.ts';
import type { BackupStatus, StorageTier } from '../domain.ts';
import { pgTimeOrNull } from '../jobs/pg-time.ts';
import type { PruneCandidate } from '../retention/decisions.ts';
import type { Stores } from '../storage/registry.ts';
import { parseLocation, type ObjectStore } from '../storage/types.ts';

export interface CatalogBackup extends PruneCandidate {
  storageTier: StorageTier;
  backupLocation: string | null;
  /** A delete was decided and recorded, but not finished (prune stopped half way). */
  deleteDecidedAt: Date | null;
  deleteReason: string | null;
}

interface Row extends Record<string, unknown> {
  id: string;
  seq: number;
  tenant_id: string;
  status: BackupStatus;
  storage_tier: StorageTier;
  backup_location: string | null;
  started_at: string | null;
  expires_at: string | null;
  legal_hold: boolean;
  tenant_removed: boolean;
  delete_decided_at: string | null;
  delete_reason: string | null;
  dump_group: string;
}

/** Backups as prune sees them; a tenant is removed once it is gone from `tenants` (or recorded removed). */
export async function readCatalog(db: Db, tenantId?: string): Promise<CatalogBackup[]> {
  const res = await db.execute<Row>(sql`
    select b.id::text, b.seq, b.tenant_id, b.status, b.storage_tier, b.backup_location, b.started_at, b.expires_at,
      b.legal_hold, b.delete_decided_at, b.delete_reason, b.dump_group::text,
      (ts.removed_at is not null or not exists (select 1 from ${platformTenantsSql} t where t.id = b.tenant_id)) as tenant_removed
    from backup_jobs b left join tenant_state ts on ts.tenant_id = b.tenant_id
    ${tenantId === undefined ? sql`` : sql`where b.tenant_id = ${tenantId}`}`);
  return res.rows.map((r) => ({
    id: r.id,
    seq: r.seq,
    tenantId: r.tenant_id,
    status: r.status,
    storageTier: r.storage_tier,
    backupLocation: r.backup_location,
    startedAt: pgTimeOrNull(r.started_at),
    expiresAt: pgTimeOrNull(r.expires_at),
    legalHold: r.legal_hold,
    tenantRemoved: r.tenant_removed,
    // A backup that never started never stored anything.
    hasObjects: r.started_at === null && r.backup_location === null ? false : undefined,
    deleteDecidedAt: pgTimeOrNull(r.delete_decided_at),
    deleteReason: r.delete_reason,
    // Copies of one dump are one backup point: the newest-backup floor keeps the last of them.
    dumpGroup: r.dump_group,
  }));
}

/** The store and prefix holding a backup's objects, or null when it cannot have any. */
export function backupPrefix(stores: Stores, b: CatalogBackup): { store: ObjectStore; prefix: string } | null {
  if (b.backupLocation) {
    const { key } = parseLocation(b.backupLocation);
    return { store: stores.forLocation(b.backupLocation), prefix: key.slice(0, key.lastIndexOf('/') + 1) };
  }
  if (!b.startedAt) return null;
  return { store: stores.forTier(b.storageTier), prefix: backupKey(b.tenantId, b.startedAt, b.id) };
}

/**
 * Removes every object under a backup's prefix: what a listing shows, and the layout's six names
 * by key too — a B2 delete by name also removes hidden versions and unfinished large files,
 * which no listing of current files shows.
 */
export async function deletePrefix(store: ObjectStore, prefix: string): Promise<number> {
  if (!prefix.startsWith(BACKUPS_ROOT) || !prefix.endsWith('/')) throw new Error(`refusing to delete outside a backup prefix: ${prefix}`);
  const keys = new Set([DUMP_OBJECT, MANIFEST_OBJECT, SIGNATURE_OBJECT, LEGAL_HOLD_OBJECT, FILES_INDEX_OBJECT, FILES_CHUNKS_OBJECT].map((name) => prefix + name));
  for await (const obj of store.list(prefix)) keys.add(obj.key);
  for (const key of keys) await store.delete(key);
  return keys.size;
}
