// Pausing and resuming a tenant's schedule (admin). Reconciliation keeps is_paused.
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { backupSchedules } from '../../db/schema.ts';
import type { ScheduleType } from '../../domain.ts';
import { audit } from '../../audit.ts';
import type { Actor } from '../../auth/session.ts';
import { notFound } from '../errors.ts';

export async function setSchedulePaused(db: Db, actor: Actor, tenantId: string, scheduleType: ScheduleType, paused: boolean) {
  const rows = await db
    .update(backupSchedules)
    .set({ isPaused: paused, updatedAt: sql`now()` })
    .where(and(eq(backupSchedules.tenantId, tenantId), eq(backupSchedules.scheduleType, scheduleType)))
    .returning();
  if (!rows[0]) throw notFound(`tenant ${tenantId} has no ${scheduleType} schedule`);
  await audit(db, { actor: actor.name, action: paused ? 'schedule.pause' : 'schedule.resume', target: tenantId, details: { schedule_type: scheduleType } });
  return rows[0];
}
