// Editing a plan's retention policy (admin): the new windows and expires_at recomputed for every
// completed backup taken under that plan (lib/prune/recompute-expiries, the one implementation),
// in one transaction, audited with before and after; then the plan's schedules follow at once.
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { backupRetentionPolicies } from '../../db/schema.ts';
import type { Config } from '../../env.ts';
import type { RetentionWindows } from '../../retention/policies.ts';
import { recomputeExpiries } from '../../prune/recompute-expiries.ts';
import { reconcileSchedules, type ReconcileResult } from '../../schedule/reconcile.ts';
import { audit } from '../../audit.ts';
import type { Actor } from '../../auth/session.ts';
import { notFound } from '../errors.ts';

export async function updatePolicy(
  db: Db,
  actor: Actor,
  plan: string,
  windows: RetentionWindows,
  config: Config,
): Promise<{ changed: number; schedules: ReconcileResult | null }> {
  const changed = await db.transaction(async (tx) => {
    const [before] = await tx.select().from(backupRetentionPolicies).where(eq(backupRetentionPolicies.tierId, plan)).for('update');
    if (!before) throw notFound(`plan ${plan} has no retention policy`);
    await tx
      .update(backupRetentionPolicies)
      .set({ ...windows, updatedAt: sql`now()` })
      .where(eq(backupRetentionPolicies.tierId, plan));
    // A savepoint inside this transaction: the policy row it reads is the one just written.
    const recomputed = await recomputeExpiries(tx as unknown as Db, plan, config, { actor: actor.name });
    await audit(tx, {
      actor: actor.name,
      action: 'policy.update',
      target: plan,
      details: {
        before: { daily_retention_days: before.dailyRetentionDays, weekly_retention_weeks: before.weeklyRetentionWeeks, monthly_retention_months: before.monthlyRetentionMonths },
        after: { daily_retention_days: windows.dailyRetentionDays, weekly_retention_weeks: windows.weeklyRetentionWeeks, monthly_retention_months: windows.monthlyRetentionMonths },
        backups_recomputed: recomputed.changed.length,
      },
    });
    return recomputed.changed.length;
  });
  // Schedules follow the new policy now (a daily schedule appears or goes), not at the worker's next
  // pass. The policy is saved either way: if this fails, that pass (every ~30 s) catches up.
  const schedules = await reconcileSchedules(db, config).catch((err: unknown) => {
    console.error('[strata] reconciling schedules after a policy edit failed:', err);
    return null;
  });
  return { changed, schedules };
}
