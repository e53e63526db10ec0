// Editing a plan's retention policy (admin): the new windows and expires_at recomputed for every
// completed backup taken under that plan (lib/prune/recompute-expiries, the one implementation),
// in one transaction, audited with before and after; then the plan's schedules follow at once.
// The preview the dashboard shows before saving is this same function as a dry run: the whole
// transaction runs and is rolled back, so what is previewed is what saving does.
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { backupRetentionPolicies } from '../../db/schema.ts';
import type { Config } from '../../env.ts';
import type { RetentionWindows } from '../../retention/policies.ts';
import { recomputeExpiries, type RecomputeResult } from '../../prune/recompute-expiries.ts';
import { reconcileSchedules, type ReconcileResult } from '../../scheduler/reconcile.ts';
import { audit } from '../../audit.ts';
import type { Actor } from '../../auth/session.ts';
import { notFound } from '../errors.ts';

export interface PolicyUpdate {
  /** Completed backups taken under the plan. */
  considered: number;
  /** Of those, backups whose expires_at changes. */
  changed: number;
  /** Backups (any plan) the next prune would delete after the change. */
  wouldDelete: string[];
  /** Of those, the ones it would not have deleted before the change. */
  newlyDeleted: string[];
  /** Schedules reconciled after a save; null for a dry run or when reconciling failed (the worker catches up). */
  schedules: ReconcileResult | null;
}

export async function updatePolicy(
  db: Db,
  actor: Actor,
  plan: string,
  windows: RetentionWindows,
  config: Config,
  opts: { dryRun?: boolean } = {},
): Promise<PolicyUpdate> {
  let recomputed: RecomputeResult;
  try {
    recomputed = await db.transaction(async (tx) => {
      const [before] = await tx.select().from(backupRetentionPolicies).where(eq(backupRetentionPolicies.tierId, plan)).for('update');
      if (!before) throw notFound(`plan ${plan} has no retention policy`);
      await tx
        .update(backupRetentionPolicies)
        .set({ ...windows, updatedAt: sql`now()` })
        .where(eq(backupRetentionPolicies.tierId, plan));
      // A savepoint inside this transaction: the policy row it reads is the one just written.
      const result = await recomputeExpiries(tx as unknown as Db, plan, config, { actor: actor.name });
      if (opts.dryRun) throw new DryRun(result);
      await audit(tx, {
        actor: actor.name,
        action: 'policy.update',
        target: plan,
        details: {
          before: { daily_retention_days: before.dailyRetentionDays, weekly_retention_weeks: before.weeklyRetentionWeeks, monthly_retention_months: before.monthlyRetentionMonths },
          after: { daily_retention_days: windows.dailyRetentionDays, weekly_retention_weeks: windows.weeklyRetentionWeeks, monthly_retention_months: windows.monthlyRetentionMonths },
          backups_recomputed: result.changed.length,
        },
      });
      return result;
    });
  } catch (err) {
    if (!(err instanceof DryRun)) throw err;
    return summary(err.result, null);
  }
  // Schedules follow the new policy now (a daily schedule appears or goes), not at the worker's next
  // pass. The policy is saved either way: if this fails, that pass (every ~30 s) catches up.
  const schedules = await reconcileSchedules(db, config).catch((err: unknown) => {
    console.error('[strata] reconciling schedules after a policy edit failed:', err);
    return null;
  });
  return summary(recomputed, schedules);
}

const summary = (r: RecomputeResult, schedules: ReconcileResult | null): PolicyUpdate => ({
  considered: r.considered,
  changed: r.changed.length,
  wouldDelete: r.wouldDelete.map((d) => d.backup_id),
  newlyDeleted: r.newlyDeleted,
  schedules,
});

/** Rolls the dry run's transaction back while still answering with what it would have done. */
class DryRun extends Error {
  constructor(readonly result: RecomputeResult) {
    super('dry run');
  }
}
