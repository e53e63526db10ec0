// A plan's retention policy decides which schedules a tenant has (CONTRACTS.md "Schedules").
import { SCHEDULE_STORAGE, type ScheduleType, type StorageTier } from '../domain.ts';
import type { RetentionWindows } from '../retention/policies.ts';

export interface PlannedSchedule {
  scheduleType: ScheduleType;
  storageTier: StorageTier;
}

/** Schedules for a policy, most frequent first: a window of 0 means the plan has no such schedule. */
export function schedulesForPolicy(policy: RetentionWindows): PlannedSchedule[] {
  const wanted: [ScheduleType, number][] = [
    ['daily', policy.dailyRetentionDays],
    ['weekly', policy.weeklyRetentionWeeks],
    ['monthly', policy.monthlyRetentionMonths],
  ];
  return wanted
    .filter(([, window]) => window > 0)
    .map(([scheduleType]) => ({ scheduleType, storageTier: SCHEDULE_STORAGE[scheduleType] }));
}
