// Each tenant's protection at a glance: plan, newest completed backup, and RPO status
// (CONTRACTS.md "Overdue"). Used by `strata tenant list` and the dashboard.
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import type { ScheduleType } from '../domain.ts';
import type { Config } from '../env.ts';
import { nextRunAt } from '../schedule/next-run.ts';
import { tenantOffsetMinutes } from '../schedule/offset.ts';
import { overdueStatus, type RpoStatus } from '../schedule/rpo.ts';

export interface TenantProtection {
  id: string;
  name: string;
  schema_name: string;
  tier: string | null;
  last_backup_at: string | null;
  status: RpoStatus;
  overdue_after: string | null;
  failing: boolean;
}

type Row = {
  id: string;
  name: string;
  schema_name: string;
  tier: string | null;
  // Raw SQL through Drizzle returns timestamps as text.
  first_seen_at: string | null;
  last_backup_at: string | null;
  last_failed: boolean | null;
  schedules: { type: ScheduleType; paused: boolean }[] | null;
};

export async function tenantProtection(db: Db, config: Config, now = new Date()): Promise<TenantProtection[]> {
  const res = await db.execute<Row>(sql`
    select t.id, t.name, t.schema_name, s.tier_id as tier, ts.first_seen_at,
      (select max(b.started_at) from backup_jobs b where b.tenant_id = t.id and b.status = 'completed') as last_backup_at,
      (select b.status = 'failed' from backup_jobs b where b.tenant_id = t.id and b.status in ('completed', 'failed')
        order by b.created_at desc, b.seq desc limit 1) as last_failed,
      (select json_agg(json_build_object('type', bs.schedule_type, 'paused', bs.is_paused))
        from backup_schedules bs where bs.tenant_id = t.id and bs.is_active) as schedules
    from tenants t
    left join tenant_subscriptions s on s.tenant_id = t.id
    left join tenant_state ts on ts.tenant_id = t.id
    order by t.id`);
  return res.rows.map((r) => {
    const created = r.first_seen_at ? new Date(r.first_seen_at) : now;
    const offset = tenantOffsetMinutes(r.id, config.STRATA_SCHEDULE_WINDOW_MINUTES);
    const rpo = overdueStatus({
      schedules: (r.schedules ?? []).map((s) => ({
        scheduleType: s.type,
        isPaused: s.paused,
        firstSlot: nextRunAt(s.type, offset, created, config.STRATA_TIMEZONE),
      })),
      newestCompletedStartedAt: r.last_backup_at ? new Date(r.last_backup_at) : null,
      now,
      graceHours: config.STRATA_RPO_GRACE_HOURS,
    });
    return {
      id: r.id,
      name: r.name,
      schema_name: r.schema_name,
      tier: r.tier,
      last_backup_at: r.last_backup_at ? iso(r.last_backup_at) : null,
      status: rpo.status,
      overdue_after: rpo.deadline ? iso(rpo.deadline) : null,
      failing: r.last_failed === true,
    };
  });
}

/** ISO-8601 UTC with Z, to the second (CONTRACTS.md "Data formats"). */
export function iso(d: Date | string): string {
  return new Date(d).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
