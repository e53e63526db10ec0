// Is a tenant's recovery point objective met? (docs/design.md "Schedules", Overdue.)
import type { ScheduleType } from '../domain.ts';

const HOUR_MS = 3_600_000;

/** The RPO of each schedule: fixed durations, not calendar periods (a month counts as 31 days). */
export const SCHEDULE_PERIOD_MS: Record<ScheduleType, number> = {
  daily: 24 * HOUR_MS,
  weekly: 7 * 24 * HOUR_MS,
  monthly: 31 * 24 * HOUR_MS,
};

export interface RpoSchedule {
  scheduleType: ScheduleType;
  isPaused: boolean;
  /** The schedule's first slot after it (or the tenant) was created: nextRunAt(type, offset, createdAt, tz). */
  firstSlot: Date;
}

export interface RpoInput {
  /** The tenant's active schedules (is_active); paused ones included, with isPaused. */
  schedules: RpoSchedule[];
  /** started_at of the tenant's newest completed backup, of any origin. */
  newestCompletedStartedAt: Date | null;
  now: Date;
  /** STRATA_RPO_GRACE_HOURS */
  graceHours: number;
}

export type RpoStatus = 'ok' | 'overdue' | 'paused' | 'unprotected';

export interface RpoResult {
  status: RpoStatus;
  /** Overdue from just after this instant; null when paused or unprotected (no deadline applies). */
  deadline: Date | null;
  /** The schedule whose period sets the deadline: the most frequent unpaused one. */
  scheduleType: ScheduleType | null;
}

const FREQUENCY: ScheduleType[] = ['daily', 'weekly', 'monthly'];

/**
 * - no schedules (e.g. basic, 0/0/0) → 'unprotected': not protected by its plan, never "overdue";
 * - every schedule paused → 'paused', not overdue;
 * - otherwise overdue when now − newest completed started_at > period + grace, period from the
 *   most frequent unpaused schedule (daily 24 h, weekly 7 d, monthly 31 d), and, with no backup
 *   yet, when now > that schedule's first slot + grace.
 * A backup older than the schedule (e.g. a manual one before an upgrade from basic) does not make
 * a schedule overdue before its first slot has had its chance: the deadline is the later of the
 * two. "Exceeds" is strict: at exactly the deadline the tenant is still ok.
 * Note a daily's real spacing is 23 h or 25 h across DST nights, which the default 2 h grace
 * absorbs; with a grace of 0 a tenant would show overdue for an hour after the fall-back night.
 */
export function overdueStatus(input: RpoInput): RpoResult {
  if (input.schedules.length === 0) return { status: 'unprotected', deadline: null, scheduleType: null };
  const running = input.schedules.filter((s) => !s.isPaused);
  if (running.length === 0) return { status: 'paused', deadline: null, scheduleType: null };
  if (!(input.graceHours >= 0)) throw new RangeError(`grace hours must be ≥ 0, got ${input.graceHours}`);

  const type = FREQUENCY.find((t) => running.some((s) => s.scheduleType === t))!;
  const grace = input.graceHours * HOUR_MS;
  const firstSlot = Math.min(...running.filter((s) => s.scheduleType === type).map((s) => s.firstSlot.getTime()));
  const fromSchedule = firstSlot + grace;
  const fromBackup =
    input.newestCompletedStartedAt === null ? -Infinity : input.newestCompletedStartedAt.getTime() + SCHEDULE_PERIOD_MS[type] + grace;
  const deadline = new Date(Math.max(fromSchedule, fromBackup));
  return {
    status: input.now.getTime() > deadline.getTime() ? 'overdue' : 'ok',
    deadline,
    scheduleType: type,
  };
}
