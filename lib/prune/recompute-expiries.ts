// An admin edited a plan's retention policy: expires_at of the completed backups taken under that
// plan (tier_id recorded on the backup) follows the new windows (design.md "Retention"), each copy
// under the layout recorded on it. A tenant changing plan never comes here: its existing backups
// keep their expiry. The preview before a save is updatePolicy (lib/api/operations/policy.ts) as a
// dry run: this same function inside a transaction that is rolled back.
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import type { Layout, Origin, StorageTier } from '../domain.ts';
import type { Config } from '../env.ts';
import { pgTime, pgTimeOrNull } from '../jobs/pg-time.ts';
import { copyExpiry, isLayout } from '../retention/layouts.ts';
import type { Decision } from '../retention/decisions.ts';
import { readCatalog } from './catalog.ts';
import { decide } from './run-prune.ts';

export interface ExpiryChange {
  backup_id: string;
  from: Date | null;
  to: Date | null;
}

export interface RecomputeResult {
  /** Completed backups taken under the plan. */
  considered: number;
  changed: ExpiryChange[];
  /** What prune would delete right after the change (any plan's backups): the preview shown before confirming. */
  wouldDelete: Decision[];
  /** Of those, the ones prune would not have deleted before the change. */
  newlyDeleted: string[];
}

export async function recomputeExpiries(
  db: Db,
  tierId: string,
  config: Config,
  opts: { actor?: string } = {},
): Promise<RecomputeResult> {
  return db.transaction(async (tx) => {
    const policy = (
      await tx.execute<{ daily: number; weekly: number; monthly: number }>(sql`
        select daily_retention_days as daily, weekly_retention_weeks as weekly, monthly_retention_months as monthly
        from backup_retention_policies where tier_id = ${tierId}`)
    ).rows[0];
    const windows = policy ? { dailyRetentionDays: policy.daily, weeklyRetentionWeeks: policy.weekly, monthlyRetentionMonths: policy.monthly } : null;
    const rows = await tx.execute<{ id: string; origin: Origin; storage_tier: StorageTier; layout: Layout | null; completed_at: string; expires_at: string | null; now: string }>(sql`
      select id::text, origin, storage_tier, layout, completed_at, expires_at, now() as now from backup_jobs
      where tier_id = ${tierId} and status = 'completed' and completed_at is not null
      for update`);
    const now = rows.rows[0] ? pgTime(rows.rows[0].now) : new Date();
    const deletes = async () => decide(await readCatalog(tx as unknown as Db), now, []).filter((d) => d.action === 'delete');
    const deletedBefore = new Set((await deletes()).map((d) => d.backup_id));
    const changed: ExpiryChange[] = [];
    for (const r of rows.rows) {
      const from = pgTimeOrNull(r.expires_at);
      // Each copy under the layout it was planned with: a layout change never reaches existing copies.
      const to = copyExpiry(
        { origin: r.origin, storageTier: r.storage_tier, layout: isLayout(r.layout) ? r.layout : null, completedAt: pgTime(r.completed_at) },
        windows,
        { manualRetentionDays: config.STRATA_MANUAL_RETENTION_DAYS },
      );
      if ((to?.getTime() ?? null) !== (from?.getTime() ?? null)) changed.push({ backup_id: r.id, from, to });
    }
    if (changed.length > 0) {
      await tx.execute(sql`
        update backup_jobs b set expires_at = c.to
        from jsonb_to_recordset(${JSON.stringify(changed.map((c) => ({ id: c.backup_id, to: c.to?.toISOString() ?? null })))}::jsonb)
          as c(id uuid, "to" timestamptz)
        where b.id = c.id`);
    }
    const wouldDelete = await deletes();
    const result = { considered: rows.rows.length, changed, wouldDelete, newlyDeleted: wouldDelete.map((d) => d.backup_id).filter((id) => !deletedBefore.has(id)) };
    await tx.execute(sql`
      insert into audit_log (actor, action, target, details)
      values (${opts.actor ?? 'system'}, 'retention.recompute_expiries', ${tierId},
        ${JSON.stringify({ changed: changed.length, would_delete: wouldDelete.map((d) => d.backup_id) })}::jsonb)`);
    return result;
  });
}
