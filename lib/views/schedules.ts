// Schedules: a tenant's, or every tenant's (the Schedules grid), with upcoming runs.
import { asc, eq } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { backupSchedules, type ScheduleRow } from '../db/schema.ts';
import type { ScheduleType } from '../domain.ts';
import { nextRunAt } from '../schedule/next-run.ts';
import { tenantOffsetMinutes } from '../schedule/offset.ts';

export async function tenantSchedules(db: Db, tenantId: string): Promise<ScheduleRow[]> {
  return db.select().from(backupSchedules).where(eq(backupSchedules.tenantId, tenantId)).orderBy(asc(backupSchedules.id));
}

export async function allSchedules(db: Db): Promise<ScheduleRow[]> {
  return db.select().from(backupSchedules).orderBy(asc(backupSchedules.tenantId), asc(backupSchedules.id));
}

/** The schedule's next `n` slots from the calendar, starting with its recorded next_run_at. */
export function upcomingRuns(row: ScheduleRow, n: number, windowMinutes: number, timeZone: string): Date[] {
  const offset = tenantOffsetMinutes(row.tenantId, windowMinutes);
  const runs = [row.nextRunAt];
  while (runs.length < n) runs.push(nextRunAt(row.scheduleType as ScheduleType, offset, runs[runs.length - 1]!, timeZone));
  return runs;
}
