// Retention policies per plan, and the preview of what an edit would delete.
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { backupJobs, backupRetentionPolicies, tenantState } from '../schema.ts';
import { platformTenantsSql } from '../platform.ts';
import type { BackupStatus, Origin, StorageTier } from '../../domain.ts';
import { copyExpiry } from '../../retention/layouts.ts';
import { pruneDecisions, type PruneCandidate } from '../../retention/decisions.ts';
import type { RetentionWindows } from '../../retention/policies.ts';

export async function listPolicies(db: Db) {
  return db.select().from(backupRetentionPolicies).orderBy(asc(backupRetentionPolicies.id));
}

export interface PolicyPreview {
  plan: string;
  /** Completed backups taken under the plan. */
  considered: number;
  /** Would be deleted by the next prune under the new policy. */
  wouldDelete: { id: string; tenantId: string; origin: string; startedAt: Date | null; newExpiresAt: Date | null }[];
  /** Of those, how many the current policy would have kept. */
  newlyDeleted: number;
  /** Backups whose expires_at changes. */
  changed: number;
}

/**
 * Recomputes expires_at of the plan's completed backups under `windows` and runs prune's own
 * decisions (with the newest-backup floor and legal holds) over those tenants' backups.
 */
export async function policyPreview(db: Db, plan: string, windows: RetentionWindows, manualRetentionDays: number, now = new Date()): Promise<PolicyPreview> {
  const planRows = await db
    .select({ tenantId: backupJobs.tenantId })
    .from(backupJobs)
    .where(and(eq(backupJobs.tierId, plan), eq(backupJobs.status, 'completed')))
    .groupBy(backupJobs.tenantId);
  const tenantIds = planRows.map((r) => r.tenantId);
  if (tenantIds.length === 0) return { plan, considered: 0, wouldDelete: [], newlyDeleted: 0, changed: 0 };
  const rows = await db
    .select()
    .from(backupJobs)
    .where(and(inArray(backupJobs.tenantId, tenantIds), eq(backupJobs.status, 'completed')));
  const active = new Set(
    (await db.execute<{ id: string }>(sql`select t.id from ${platformTenantsSql} t where t.id in ${tenantIds}`)).rows.map((t) => t.id),
  );
  const removed = new Set(
    (await db.select({ id: tenantState.tenantId, removedAt: tenantState.removedAt }).from(tenantState).where(inArray(tenantState.tenantId, tenantIds)))
      .filter((t) => t.removedAt)
      .map((t) => t.id),
  );
  const newExpiry = new Map<string, Date | null>();
  let changed = 0;
  for (const r of rows) {
    if (r.tierId !== plan || !r.completedAt) continue;
    const e = copyExpiry(
      { origin: r.origin as Origin, storageTier: r.storageTier as StorageTier, layout: r.layout, completedAt: r.completedAt },
      windows,
      { manualRetentionDays },
    );
    newExpiry.set(r.id, e);
    if ((e?.getTime() ?? null) !== (r.expiresAt?.getTime() ?? null)) changed++;
  }
  const candidate = (r: (typeof rows)[number], expiresAt: Date | null): PruneCandidate => ({
    id: r.id,
    tenantId: r.tenantId,
    status: r.status as BackupStatus,
    startedAt: r.startedAt,
    expiresAt,
    legalHold: r.legalHold,
    tenantRemoved: removed.has(r.tenantId) || !active.has(r.tenantId),
    dumpGroup: r.dumpGroup,
    storageTier: r.storageTier as StorageTier,
  });
  const before = pruneDecisions(rows.map((r) => candidate(r, r.expiresAt)), now);
  const after = pruneDecisions(rows.map((r) => candidate(r, newExpiry.has(r.id) ? newExpiry.get(r.id)! : r.expiresAt)), now);
  const deletedBefore = new Set(before.filter((d) => d.action === 'delete').map((d) => d.backup_id));
  const byId = new Map(rows.map((r) => [r.id, r]));
  const wouldDelete = after
    .filter((d) => d.action === 'delete' && byId.get(d.backup_id)?.tierId === plan)
    .map((d) => {
      const r = byId.get(d.backup_id)!;
      return { id: r.id, tenantId: r.tenantId, origin: r.origin, startedAt: r.startedAt, newExpiresAt: newExpiry.get(r.id) ?? null };
    });
  return {
    plan,
    considered: newExpiry.size,
    wouldDelete,
    newlyDeleted: wouldDelete.filter((d) => !deletedBefore.has(d.id)).length,
    changed,
  };
}
