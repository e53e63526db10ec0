// When a completed backup expires (docs/design.md "Retention"). Computed once, at completion, from
// the policy of the plan recorded on the backup (tier_id): a later plan change never touches it.
import type { Origin } from '../domain.ts';
import type { RetentionWindows } from './policies.ts';

const DAY_MS = 86_400_000;

export interface ExpiryOptions {
  /** STRATA_MANUAL_RETENTION_DAYS */
  manualRetentionDays: number;
}

function checkWindow(name: string, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${name} must be a non-negative integer, got ${n}`);
}

/**
 * `from` plus `months` calendar months in UTC, the day of month clamped to the target month's
 * last day (Jan 31 + 1 month = Feb 28, or Feb 29 in a leap year); the time of day is kept.
 * Clamping is not "sticky": Feb 28 + 1 month is Mar 28, not Mar 31.
 */
export function addCalendarMonthsUtc(from: Date, months: number): Date {
  const y = from.getUTCFullYear();
  const m = from.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate(); // day 0 of the next month
  const day = Math.min(from.getUTCDate(), lastDay);
  return new Date(
    Date.UTC(y, m, day, from.getUTCHours(), from.getUTCMinutes(), from.getUTCSeconds(), from.getUTCMilliseconds()),
  );
}

/**
 * expires_at of a backup: completed_at + its origin's window.
 * - daily: N days, weekly: N × 7 days — exact 24-hour days, so the result never depends on the
 *   display zone (STRATA_TIMEZONE) or DST;
 * - monthly: N calendar months in UTC, clamped to month end (addCalendarMonthsUtc);
 * - manual: STRATA_MANUAL_RETENTION_DAYS days, whatever the plan.
 * A window of 0 for a scheduled origin (e.g. a daily taken under a plan whose policy has
 * daily_retention_days = 0) expires at completion: the backup is expired at once and survives
 * only as the tenant's newest-backup floor or under a legal hold.
 * Returns null — never expires — when a scheduled backup's plan policy is unknown (policy null,
 * e.g. a tier_id no longer in backup_retention_policies): without a policy Strata does not guess
 * a deletion date.
 */
export function expiryOf(
  backup: { origin: Origin; completedAt: Date },
  policy: RetentionWindows | null,
  opts: ExpiryOptions,
): Date | null {
  const done = backup.completedAt.getTime();
  if (Number.isNaN(done)) throw new RangeError('completedAt is not a valid date');
  switch (backup.origin) {
    case 'manual':
      checkWindow('manualRetentionDays', opts.manualRetentionDays);
      return new Date(done + opts.manualRetentionDays * DAY_MS);
    case 'daily':
      if (!policy) return null;
      checkWindow('dailyRetentionDays', policy.dailyRetentionDays);
      return new Date(done + policy.dailyRetentionDays * DAY_MS);
    case 'weekly':
      if (!policy) return null;
      checkWindow('weeklyRetentionWeeks', policy.weeklyRetentionWeeks);
      return new Date(done + policy.weeklyRetentionWeeks * 7 * DAY_MS);
    case 'monthly':
      if (!policy) return null;
      checkWindow('monthlyRetentionMonths', policy.monthlyRetentionMonths);
      return addCalendarMonthsUtc(backup.completedAt, policy.monthlyRetentionMonths);
  }
}
