// A plan's retention policy decides which schedules a tenant has (design.md "Schedules").
import type { Layout, ScheduleType, StorageTier } from '../domain.ts';
import { copiesFor } from '../retention/layouts.ts';
import type { RetentionWindows } from '../retention/policies.ts';

export interface PlannedSchedule {
  scheduleType: ScheduleType;
  /** The schedule's first copy (backup_schedules.storage_tier); the layout may give it more. */
  storageTier: StorageTier;
}

/**
 * Schedules for a policy, most frequent first: a window of 0 means the plan has no such schedule.
 * Without a layout the policy is read as `seed`.
 */
export function schedulesForPolicy(policy: RetentionWindows & { layout?: Layout }): PlannedSchedule[] {
  const copies = copiesFor(policy.layout ?? 'seed', policy);
  return (['daily', 'weekly', 'monthly'] as const)
    .filter((scheduleType) => copies[scheduleType].length > 0)
    .map((scheduleType) => ({ scheduleType, storageTier: copies[scheduleType][0]!.storage_tier }));
}
