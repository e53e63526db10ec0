// The retention columns of backup_retention_policies, and the seeded values per plan.
import type { Plan } from '../domain.ts';

/** The columns of backup_retention_policies that retention and schedules read. */
export interface RetentionWindows {
  dailyRetentionDays: number;
  weeklyRetentionWeeks: number;
  monthlyRetentionMonths: number;
}

/**
 * The policies `strata migrate` seeds (docs/design.md "Tables"). The database is the source of
 * truth; these are for simulations and tests that need the stock plans without a database.
 */
export const SEEDED_POLICIES: Record<Plan, RetentionWindows> = {
  basic: { dailyRetentionDays: 0, weeklyRetentionWeeks: 0, monthlyRetentionMonths: 0 },
  advanced: { dailyRetentionDays: 0, weeklyRetentionWeeks: 0, monthlyRetentionMonths: 12 },
  premium: { dailyRetentionDays: 7, weeklyRetentionWeeks: 4, monthlyRetentionMonths: 12 },
};
