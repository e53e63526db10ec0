// The retention columns of backup_retention_policies, and the seeded values per plan.
import { SCHEDULE_TYPES, type BackupType, type Plan, type ScheduleType } from '../domain.ts';

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

/**
 * The backup type of a scheduled backup point: incremental only when every origin it stands for is
 * one of the plan's incremental origins. A point that is also a full origin's (the 1st's daily and
 * monthly, when monthlies are full) is full, so the copy that must stand alone does.
 */
export function scheduledBackupType(origins: readonly ScheduleType[], incrementalOrigins: readonly string[]): BackupType {
  return origins.length > 0 && origins.every((o) => incrementalOrigins.includes(o)) ? 'incremental' : 'full';
}

/** Each origin's backup type under a plan's incremental origins. */
export function backupTypesByOrigin(incrementalOrigins: readonly string[]): Record<ScheduleType, BackupType> {
  return Object.fromEntries(SCHEDULE_TYPES.map((o) => [o, incrementalOrigins.includes(o) ? 'incremental' : 'full'])) as Record<ScheduleType, BackupType>;
}
