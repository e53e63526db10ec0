// Editing a plan's retention policy (admin): the new windows, and expires_at recomputed for every
// completed backup taken under that plan, in one transaction, audited with before and after.
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { backupJobs, backupRetentionPolicies } from '../../db/schema.ts';
import type { Origin } from '../../domain.ts';
import { expiryOf } from '../../retention/expiry.ts';
import type { RetentionWindows } from '../../retention/policies.ts';
import { audit } from '../../audit.ts';
import type { Actor } from '../../auth/session.ts';
import { notFound } from '../errors.ts';

export async function updatePolicy(db: Db, actor: Actor, plan: string, windows: RetentionWindows, manualRetentionDays: number) {
  return db.transaction(async (tx) => {
    const [before] = await tx.select().from(backupRetentionPolicies).where(eq(backupRetentionPolicies.tierId, plan)).for('update');
    if (!before) throw notFound(`plan ${plan} has no retention policy`);
    await tx
      .update(backupRetentionPolicies)
      .set({ ...windows, updatedAt: sql`now()` })
      .where(eq(backupRetentionPolicies.tierId, plan));
    const backups = await tx
      .select({ id: backupJobs.id, origin: backupJobs.origin, completedAt: backupJobs.completedAt, expiresAt: backupJobs.expiresAt })
      .from(backupJobs)
      .where(and(eq(backupJobs.tierId, plan), eq(backupJobs.status, 'completed')));
    let changed = 0;
    for (const b of backups) {
      if (!b.completedAt) continue;
      const expiresAt = expiryOf({ origin: b.origin as Origin, completedAt: b.completedAt }, windows, { manualRetentionDays });
      if ((expiresAt?.getTime() ?? null) === (b.expiresAt?.getTime() ?? null)) continue;
      await tx.update(backupJobs).set({ expiresAt }).where(eq(backupJobs.id, b.id));
      changed++;
    }
    await audit(tx, {
      actor: actor.name,
      action: 'policy.update',
      target: plan,
      details: {
        before: { daily_retention_days: before.dailyRetentionDays, weekly_retention_weeks: before.weeklyRetentionWeeks, monthly_retention_months: before.monthlyRetentionMonths },
        after: { daily_retention_days: windows.dailyRetentionDays, weekly_retention_weeks: windows.weeklyRetentionWeeks, monthly_retention_months: windows.monthlyRetentionMonths },
        backups_recomputed: changed,
      },
    });
    return { changed };
  });
}
