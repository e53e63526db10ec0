// This month's bill for the backups Strata stores, per storage tier, per tenant and for the fleet,
// against the same backups with the same retention all in S3 Standard. A full copy is its stored
// object; incremental copies are billed as the chunks actually stored (the `chunks` table: each once,
// from its upload; the catalog keeps no row of chunks already collected), while the baseline keeps
// each of them as a full dump of its logical stored size. Tenant files are chunks too (billed once each);
// the baseline keeps every copy's files in full beside its dump, and restores and verifications that
// read files count their stored bytes as downloads.
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { STORAGE_TIERS, type StorageTier } from '../domain.ts';
import { costLine, equalRetentionBaseline, type RunRate } from '../cost/billing.ts';
import { allStandardCost, monthCost, type BillingMonth, type ObjectRead, type StoredObject } from '../cost/model.ts';
import type { PriceTable } from '../cost/prices.ts';

// Raw SQL through Drizzle returns timestamps as text.
type Row = {
  tenant_id: string;
  storage_tier: StorageTier;
  bytes: number;
  stored_from: string;
  deleted_at: string | null;
  dump_group: string;
  origin: string;
  backup_type: string;
  files_bytes: number;
};

/**
 * The month's downloads: every restore and every verification (drills included) that finished in
 * it, from the copy it read (copy_backup_id, else the backup it names), priced as
 * egress — the worker's location is unknown, so a read is counted as leaving the provider.
 */
async function downloads(db: Db, month: BillingMonth): Promise<ObjectRead[]> {
  const rows = (await db.execute<{ storage_tier: StorageTier; bytes: number; at: string }>(sql`
    select b.storage_tier,
      (case when r.files_only then 0 else b.backup_size_bytes end) + (case when r.restore_files then coalesce(b.files_stored_bytes, 0) else 0 end) as bytes,
      r.completed_at as at
    from restore_jobs r join backup_jobs b on b.id = coalesce(r.copy_backup_id, r.backup_id)
    where r.completed_at >= ${month.start} and r.completed_at < ${month.end} and r.status in ('completed', 'undone')
      and b.backup_size_bytes is not null
    union all
    select b.storage_tier, b.backup_size_bytes + coalesce(b.files_stored_bytes, 0), v.completed_at
    from backup_verifications v join backup_jobs b on b.id = coalesce(v.copy_backup_id, v.backup_id)
    where v.completed_at >= ${month.start} and v.completed_at < ${month.end} and b.backup_size_bytes is not null`)).rows;
  return rows.map((r) => ({ tier: r.storage_tier, bytes: Number(r.bytes), at: new Date(r.at) }));
}

export async function runRate(db: Db, month: BillingMonth, prices: PriceTable, now = new Date()): Promise<RunRate> {
  // Every object that existed during the month: completed backups, and deleted ones until their deletion.
  const rows = (await db.execute<Row>(sql`
    select tenant_id, storage_tier, backup_size_bytes as bytes, completed_at as stored_from, deleted_at, dump_group::text, origin, backup_type,
      coalesce(files_stored_bytes, 0) as files_bytes
    from backup_jobs
    where backup_size_bytes is not null and completed_at is not null and completed_at < ${month.end}
      and (deleted_at is null or deleted_at >= ${month.start})
      and status in ('completed', 'deleted')`)).rows;
  // The rest of this month is billed as a run-rate: objects alive now are assumed kept to month end.
  const copies: (StoredObject & { tenantId: string; dumpGroup: string; origin: string; incremental: boolean; filesBytes: number })[] = rows.map((r) => ({
    tenantId: r.tenant_id,
    dumpGroup: r.dump_group,
    origin: r.origin,
    tier: r.storage_tier,
    bytes: Number(r.bytes),
    storedFrom: new Date(r.stored_from),
    deletedAt: r.deleted_at ? new Date(r.deleted_at) : null,
    incremental: r.backup_type === 'incremental',
    filesBytes: Number(r.files_bytes),
  }));
  // The baseline keeps each copy's files beside its dump, in full (their chunks are billed below, each once).
  const baselineCopies = copies.map((c) => ({ ...c, bytes: c.bytes + c.filesBytes }));
  const chunkRows = (await db.execute<{ tenant_id: string; storage_tier: StorageTier; bytes: number; created_at: string }>(sql`
    select tenant_id, storage_tier, stored_bytes as bytes, created_at from chunks
    where gc_started_at is null and created_at < ${month.end}`)).rows;
  // What is billed: full copies' objects and the stored chunks (alive now, so kept to month end).
  const billed: (StoredObject & { tenantId: string })[] = [
    ...copies.filter((c) => !c.incremental),
    ...chunkRows.map((c) => ({ tenantId: c.tenant_id, tier: c.storage_tier, bytes: Number(c.bytes), storedFrom: new Date(c.created_at), deletedAt: null })),
  ];
  const reads = await downloads(db, month);
  const hybrid = monthCost(billed, month, prices, reads);
  const standard = allStandardCost(equalRetentionBaseline(baselineCopies), month, prices, reads);
  const alive = billed.filter((o) => !o.deletedAt || o.deletedAt > now);
  const tiers = Object.fromEntries(
    STORAGE_TIERS.map((t) => {
      const mine = alive.filter((o) => o.tier === t);
      const c = hybrid.tiers[t];
      return [t, { stored_bytes: mine.reduce((a, o) => a + o.bytes, 0), objects: mine.length, gb_months: c.gb_months, early_deletion_dollars: c.early_deletion_dollars, dollars: c.total_dollars }];
    }),
  ) as RunRate['tiers'];
  const tenantIds = [...new Set(billed.map((o) => o.tenantId))].sort();
  const tenants = tenantIds.map((id) => {
    const mine = billed.filter((o) => o.tenantId === id);
    return {
      tenant_id: id,
      stored_bytes: alive.filter((o) => o.tenantId === id).reduce((a, o) => a + o.bytes, 0),
      ...costLine(monthCost(mine, month, prices).total_dollars, allStandardCost(equalRetentionBaseline(baselineCopies.filter((c) => c.tenantId === id)), month, prices).total_dollars),
    };
  });
  return {
    month: month.start.toISOString().slice(0, 7),
    prices: { as_of: prices.as_of, source: prices.source },
    ...costLine(hybrid.total_dollars, standard.total_dollars),
    tiers,
    tenants,
  };
}
